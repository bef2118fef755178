// Filters: the weights of a convolution as pictures. The first layer's
// kernels are images in their own right (edges, colour blobs); deeper layers
// are shown one tile per input channel.
#pragma once

#include <string>

#include "layers/module.h"

namespace cs::viz {

// The first Conv2d layer of `net` (its path), or throws.
std::string first_conv_layer(nn::Module& net);
// Every Conv2d layer, in forward order.
std::vector<std::string> conv_layers(nn::Module& net);

// The weights (K, C/groups, R, S) of the Conv2d at `layer`, on the CPU.
Tensor conv_filters(nn::Module& net, const std::string& layer);

}  // namespace cs::viz
