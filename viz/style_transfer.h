// Neural style transfer (Gatys, Ecker & Bethge 2016): optimise an image so
// its features at one layer match the content image's, and the Gram
// matrices of its features at several layers match the style image's, with
// a total-variation term for smoothness. Adam or L-BFGS, both on the tape.
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"

namespace cs::viz {

struct StyleOptions {
  std::string content_layer;
  std::vector<std::string> style_layers;
  std::vector<double> style_layer_weights;  // empty: equal weights
  double content_weight = 1.0;
  double style_weight = 1e4;
  double tv_weight = 1e-3;
  std::string optimizer = "lbfgs";  // lbfgs | adam
  int steps = 100;                  // Adam steps, or L-BFGS iterations
  double lr = 0.05;                 // Adam learning rate (normalised input units)
  bool start_from_content = true;   // false: start from noise
  uint64_t seed = 1;
  int frame_every = 0;              // keep an intermediate image every n steps (0: none)
};

struct StyleLosses {
  double content = 0, style = 0, tv = 0, total = 0;
};

struct StyleResult {
  Tensor image;  // (C, H, W) on the CPU, normalised units
  std::vector<StyleLosses> history;  // per step
  std::vector<Tensor> frames;
  std::vector<int> frame_steps;
};

// content: (C, H, W), style: (C, H', W'), prepared, on the model's device.
StyleResult style_transfer(nn::Module& net, const Tensor& content, const Tensor& style,
                           const StyleOptions& options);

// The losses of `image` against the targets, as style_transfer computes them
// (for tests: the style loss of an image against itself is zero).
StyleLosses style_losses(nn::Module& net, const Tensor& image, const Tensor& content,
                         const Tensor& style, const StyleOptions& options);

}  // namespace cs::viz
