#include "layers/sequential.h"

#include "layers/capture.h"

namespace cs::nn {

Sequential& Sequential::add(std::shared_ptr<Module> child) {
  register_module(std::to_string(children().size()), std::move(child));
  return *this;
}

Sequential& Sequential::add(const std::string& name, std::shared_ptr<Module> child) {
  register_module(name, std::move(child));
  return *this;
}

Variable Sequential::forward(const Variable& x) {
  Variable y = x;
  for (const auto& [name, child] : children()) {
    y = (*child)(y);
    // A capture that has everything it asked for ends the pass early.
    if (ActivationCapture* capture = ActivationCapture::active(); capture && capture->should_stop())
      return y;
  }
  return y;
}

Shape Sequential::output_shape(const Shape& input) const {
  Shape s = input;
  for (const auto& [name, child] : children()) s = child->output_shape(s);
  return s;
}

int64_t Sequential::flops(const Shape& input) const {
  Shape s = input;
  int64_t total = 0;
  for (const auto& [name, child] : children()) {
    total += child->flops(s);
    s = child->output_shape(s);
  }
  return total;
}

}  // namespace cs::nn
