// ReLU and LeakyReLU layers. There is no "in-place" variant to break
// anything: ReLU's backward rule is chosen when backward runs (ag::ReluRuleGuard).
#pragma once

#include "layers/module.h"

namespace cs::nn {

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Variable forward(const Variable& x) override;
  std::string describe() const override { return "ReLU()"; }
  int64_t flops(const Shape& input) const override { return shape_numel(input); }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double slope = 0.01);
  Variable forward(const Variable& x) override;
  std::string describe() const override;
  int64_t flops(const Shape& input) const override { return shape_numel(input); }

 private:
  double slope_;
};

}  // namespace cs::nn
