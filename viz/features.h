// Feature vectors: a dataset run through a network, one layer's output per
// image flattened to a row. The default layer is the input of the last
// linear layer - the representation the classifier reads.
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"
#include "models/data.h"

namespace cs::viz {

// The path of the layer whose output feeds the last Linear layer.
std::string default_feature_layer(nn::Module& net);

struct FeatureSet {
  std::string layer;
  Tensor features;  // (N, D) float, on the model's device
  std::vector<int32_t> labels;
};

// Batched forward passes that stop at `layer` (empty: the default layer).
FeatureSet extract_features(nn::Module& net, const models::DataSplit& split,
                            const models::DataSource& source, const Shape& model_input,
                            std::string layer, int64_t max_images = 0, int64_t batch_size = 1000);

// Raw pixels as (N, C*H*W) rows in [0, 1], on the split's device: the pixel
// space that feature-space neighbours are compared with.
FeatureSet pixel_features(const models::DataSplit& split, int64_t max_images = 0);

}  // namespace cs::viz
