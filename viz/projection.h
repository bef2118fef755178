// Projections of single activations back to pixel space (Zeiler & Fergus's
// deconvnet, Springenberg's guided backpropagation): the backward pass of the
// network from a one-hot seed at the chosen unit, under the deconvnet or the
// guided ReLU rule. Max-pool backward goes through the switches of the
// forward pass, which is the deconvnet's "unpooling"; ReLU rectifies the
// signal going down; convolution backward applies the transposed filters.
#pragma once

#include <string>
#include <vector>

#include "autograd/tape.h"
#include "layers/module.h"

namespace cs::viz {

struct UnitRef {
  int64_t batch_index = 0;  // which image of the batch
  int64_t channel = 0;
  int64_t p = 0, q = 0;     // position in the layer's map (ignored for 2-D layers)
};

// images: (B, C, H, W) prepared inputs on the model's device; units: one per
// image (units[i].batch_index == i is not required: any image of the batch).
// Returns one projection per unit, (len(units), C, H, W) on the CPU: the
// gradient of that single activation with respect to its image under `rule`.
// The network runs in eval mode with frozen parameters.
Tensor project_units(nn::Module& net, const Tensor& images, const std::string& layer,
                     const std::vector<UnitRef>& units, ag::ReluRule rule);

}  // namespace cs::viz
