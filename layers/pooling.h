// Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (torch.nn semantics).
#pragma once

#include "kernels/pool.h"
#include "layers/module.h"

namespace cs::nn {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(const kernels::Pool2dArgs& args);
  Variable forward(const Variable& x) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  int64_t flops(const Shape& input) const override;
  std::optional<LayerGeometry> geometry() const override;
  const kernels::Pool2dArgs& args() const { return args_; }

 private:
  kernels::Pool2dArgs args_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(const kernels::Pool2dArgs& args);
  Variable forward(const Variable& x) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  int64_t flops(const Shape& input) const override;
  std::optional<LayerGeometry> geometry() const override;

 private:
  kernels::Pool2dArgs args_;
};

class AdaptiveAvgPool2d : public Module {
 public:
  AdaptiveAvgPool2d(int out_h, int out_w);
  Variable forward(const Variable& x) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  int64_t flops(const Shape& input) const override { return shape_numel(input); }
  int out_h() const { return out_h_; }
  int out_w() const { return out_w_; }

 private:
  int out_h_, out_w_;
};

}  // namespace cs::nn
