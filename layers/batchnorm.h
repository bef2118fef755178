// BatchNorm over channels, as torch.nn.BatchNorm2d (input (N, C, H, W)) and
// BatchNorm1d (input (N, C)): weight (gamma), bias (beta), running_mean,
// running_var.
#pragma once

#include "layers/module.h"

namespace cs::nn {

class BatchNorm : public Module {
 public:
  // dims: 2 for BatchNorm2d, 1 for BatchNorm1d (checked against the input rank).
  BatchNorm(int channels, int dims, double eps = 1e-5, double momentum = 0.1);

  Variable forward(const Variable& x) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  int64_t flops(const Shape& input) const override { return 2 * shape_numel(input); }
  // gamma = 1, beta = 0, running_mean = 0, running_var = 1.
  void reset_parameters(uint64_t seed) override;

  Tensor& running_mean() { return *running_mean_; }
  Tensor& running_var() { return *running_var_; }

 private:
  int channels_, dims_;
  double eps_, momentum_;
  Variable gamma_, beta_;
  Tensor* running_mean_;
  Tensor* running_var_;
};

}  // namespace cs::nn
