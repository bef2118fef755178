// Conv2d, as torch.nn.Conv2d: weight (out, in/groups, kh, kw), bias (out).
#pragma once

#include "kernels/conv2d.h"
#include "layers/module.h"

namespace cs::nn {

struct Conv2dOptions {
  int in_channels = 1, out_channels = 1;
  int kernel_h = 3, kernel_w = 3;
  kernels::Conv2dArgs args;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  explicit Conv2d(const Conv2dOptions& options);

  Variable forward(const Variable& x) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  int64_t flops(const Shape& input) const override;
  std::optional<LayerGeometry> geometry() const override;
  // Kaiming-uniform (a = sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
  void reset_parameters(uint64_t seed) override;

  const Conv2dOptions& options() const { return options_; }
  Variable& weight() { return weight_; }
  Variable& bias() { return bias_; }

 private:
  Conv2dOptions options_;
  Variable weight_, bias_;
};

}  // namespace cs::nn
