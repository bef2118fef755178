// Top-k dataset patches per unit (Zeiler & Fergus): scan a dataset, keep for
// every channel of a layer the k images whose strongest response in that
// channel is largest (one position per image), then crop the receptive field
// of each response from its input and project it back to pixels.
#pragma once

#include <string>
#include <vector>

#include "autograd/tape.h"
#include "layers/module.h"
#include "models/data.h"
#include "viz/receptive_field.h"

namespace cs::viz {

struct UnitActivation {
  float value = 0;
  int64_t image = 0;  // index in the split
  int64_t p = 0, q = 0;
};

struct TopActivations {
  std::string layer;
  Shape layer_shape;  // (C, P, Q) for one image
  ReceptiveField rf;
  // [channel][rank], strongest first; ties go to the lower image index.
  std::vector<std::vector<UnitActivation>> units;
};

struct ScanOptions {
  int k = 9;
  int64_t batch_size = 1000;
  int64_t max_images = 0;  // 0: the whole split
};

// The scan: batched forward passes (on the model's device) stopping at
// `layer`; per image and channel the spatial maximum (first on ties) is
// found on the device, and a running top-k per channel is kept on the host.
TopActivations scan_top_activations(nn::Module& net, const models::DataSplit& split,
                                    const models::DataSource& source, const Shape& model_input,
                                    const std::string& layer, const ScanOptions& options);

struct UnitPatches {
  std::vector<Tensor> patches;      // per rank: (C, rf_h, rf_w) model-input crop, zero outside the image
  std::vector<Tensor> projections;  // per rank: the same crop of the unit's projection
  std::vector<Box> boxes;           // per rank: the clipped field in the input
};

// Crops and projections for `channels` (default: all) of a scan.
std::vector<UnitPatches> patches_and_projections(nn::Module& net, const TopActivations& top,
                                                 const models::DataSplit& split,
                                                 const models::DataSource& source,
                                                 const Shape& model_input,
                                                 const std::vector<int64_t>& channels,
                                                 ag::ReluRule rule);

}  // namespace cs::viz
