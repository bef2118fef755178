// Local response normalization across channels (torch.nn.LocalResponseNorm):
// AlexNet's normalization and ZFNet's contrast normalization.
#pragma once

#include "kernels/lrn.h"
#include "layers/module.h"

namespace cs::nn {

class LocalResponseNorm : public Module {
 public:
  explicit LocalResponseNorm(const kernels::LrnArgs& args);
  Variable forward(const Variable& x) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  int64_t flops(const Shape& input) const override;

 private:
  kernels::LrnArgs args_;
};

}  // namespace cs::nn
