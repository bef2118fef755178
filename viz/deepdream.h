// DeepDream (Mordvintsev, Olah & Tyka 2015): amplify what a layer already
// sees. Each step sets the layer's gradient equal to its activations (the
// objective 1/2 |a|^2), backpropagates to the image, normalises that
// gradient by its mean magnitude and adds it. Octaves run from a small copy
// of the image to full size, carrying the dreamed detail up between scales;
// a random roll each step avoids tiling artefacts.
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"

namespace cs::viz {

struct DreamOptions {
  std::string layer;
  std::vector<int64_t> channels;  // empty: all channels of the layer
  int octaves = 3;
  double octave_scale = 1.4;
  int steps = 20;                 // per octave
  double step_size = 0.02;        // per-pixel mean change per step (normalised units)
  int jitter = 16;                // roll up to this many pixels (0: off)
  uint64_t seed = 1;
  double clip_low = -1e30, clip_high = 1e30;  // valid range of the normalised input
};

struct DreamResult {
  Tensor image;                             // (C, H, W) on the CPU, normalised units
  std::vector<Tensor> octave_images;        // the image at the end of each octave
  std::vector<std::vector<double>> objective;  // per octave, per step: 1/2 |a|^2 before the step
};

// image: (C, H, W) prepared input, on the model's device.
DreamResult deep_dream(nn::Module& net, const Tensor& image, const DreamOptions& options);

}  // namespace cs::viz
