// Gaussian blur of images on their device: one depthwise convolution
// (groups = channels) with a separable Gaussian kernel of radius ~2.5 sigma,
// zero padding renormalised away (border pixels average what they see).
#pragma once

#include "runtime/tensor.h"

namespace cs::viz {

// images: (N, C, H, W) or (C, H, W); sigma > 0 in pixels.
Tensor gaussian_blur(const Tensor& images, double sigma);

}  // namespace cs::viz
