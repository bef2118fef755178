// Class-model images (Simonyan et al. 2013, activation maximisation): start
// from noise or an image and climb the gradient of a class score (or of a
// unit's mean activation) minus an L2 penalty, with random jitter each step
// and an occasional blur, to see "what the network thinks a sneaker looks like".
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"

namespace cs::viz {

struct ClassModelOptions {
  int steps = 200;
  double step_size = 0.02;  // root-mean-square change per step, in normalised input units
  double l2 = 1e-3;         // weight of the L2 penalty on the image
  int jitter = 2;           // random roll of up to this many pixels per step
  int blur_every = 10;      // 0: never blur
  double blur_sigma = 0.5;
  uint64_t seed = 1;
  std::string unit_layer;   // empty: maximise the class score
  int64_t unit_channel = 0;
};

struct ClassModelResult {
  Tensor image;                   // (C, H, W) on the CPU, in normalised input units
  std::vector<double> objective;  // score - l2 |x|^2, before each step
};

// input_shape: (C, H, W). start: (C, H, W) on the model's device, or
// undefined for small random noise.
ClassModelResult class_model_image(nn::Module& net, const Shape& input_shape, int target_class,
                                   const Tensor& start, const ClassModelOptions& options);

}  // namespace cs::viz
