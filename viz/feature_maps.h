// Feature maps: every channel of one layer's output for one input image.
#pragma once

#include <string>

#include "layers/module.h"

namespace cs::viz {

// image: (C, H, W) or (1, C, H, W), prepared for the model (normalised, on
// the model's device). Returns the layer's output for it, (C', H', W') on the CPU.
Tensor feature_maps(nn::Module& net, const Tensor& image, const std::string& layer);

}  // namespace cs::viz
