// Occlusion experiments (Zeiler & Fergus 2013, Figure 7): slide a square
// patch over the image, run every occluded copy through the network in
// batches, and map (a) the probability of the true class, (b) the most
// probable class, (c) the strongest activation of a chosen unit, at each
// position of the patch.
#pragma once

#include <string>

#include "kernels/image_ops.h"
#include "layers/module.h"
#include "models/data.h"

namespace cs::viz {

enum class OcclusionFill { Gray, Mean, Zero, Blur };
OcclusionFill parse_occlusion_fill(const std::string& name);  // gray, mean, zero, blur

struct OcclusionOptions {
  int window = 8;
  int stride = 4;
  OcclusionFill fill = OcclusionFill::Gray;
  std::string unit_layer;  // empty: no unit map
  int64_t unit_channel = 0;
  int64_t batch_size = 256;
};

struct OcclusionResult {
  int64_t rows = 0, cols = 0;
  kernels::OcclusionGrid grid;
  Tensor true_class_probability;  // (rows, cols)
  Tensor top_class;               // (rows, cols) int32
  Tensor top_class_probability;   // (rows, cols)
  Tensor unit_activation;         // (rows, cols), when a unit was asked for
  int true_class = 0;
  float clean_probability = 0;    // of the true class, without occlusion
  float clean_unit_activation = 0;
};

// image: (C, H, W) prepared for the model, on its device. `source` gives the
// normalisation, so the gray/zero fills are those intensities.
OcclusionResult occlusion(nn::Module& net, const Tensor& image, int true_class,
                          const models::DataSource& source, const OcclusionOptions& options);

// The fill image for `fill`: constants in normalised space, or a blurred copy.
Tensor occlusion_fill_image(const Tensor& image, OcclusionFill fill,
                            const models::DataSource& source, int window);

}  // namespace cs::viz
