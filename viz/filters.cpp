#include "viz/filters.h"

#include "layers/conv2d.h"

namespace cs::viz {

std::vector<std::string> conv_layers(nn::Module& net) {
  std::vector<std::string> out;
  for (auto& [path, layer] : net.leaves())
    if (layer->type() == "Conv2d") out.push_back(path);
  return out;
}

std::string first_conv_layer(nn::Module& net) {
  const std::vector<std::string> convs = conv_layers(net);
  CS_CHECK(!convs.empty(), "the model has no convolution layer");
  return convs.front();
}

Tensor conv_filters(nn::Module& net, const std::string& layer) {
  auto module = net.find(layer);
  CS_CHECK(module != nullptr, "no layer '" << layer << "' in the model (see `convscope summary`)");
  auto* conv = dynamic_cast<nn::Conv2d*>(module.get());
  CS_CHECK(conv != nullptr, "layer '" << layer << "' is a " << module->type() << ", not a Conv2d");
  return conv->weight().value().to(Device::cpu()).to(DType::F32);
}

}  // namespace cs::viz
