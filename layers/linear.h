// Linear, as torch.nn.Linear: weight (out, in), bias (out); y = x W^T + b.
#pragma once

#include "layers/module.h"

namespace cs::nn {

class Linear : public Module {
 public:
  Linear(int in_features, int out_features, bool bias = true);

  Variable forward(const Variable& x) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  int64_t flops(const Shape& input) const override;
  // Kaiming-uniform (a = sqrt(5)): U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
  void reset_parameters(uint64_t seed) override;

  int in_features() const { return in_; }
  int out_features() const { return out_; }
  Variable& weight() { return weight_; }
  Variable& bias() { return bias_; }

 private:
  int in_, out_;
  Variable weight_, bias_;
};

}  // namespace cs::nn
