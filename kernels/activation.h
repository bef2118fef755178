// ReLU and its three backward rules, the one mechanism behind saliency,
// deconvnet projections and guided backpropagation:
//   Standard  gx = gy * [x > 0]               (the true gradient)
//   Guided    gx = gy * [x > 0] * [gy > 0]    (Springenberg et al.; the custom guided-ReLU kernel)
//   Deconvnet gx = max(gy, 0)                 (Zeiler & Fergus: rectify the signal going down)
// Leaky ReLU: y = x for x > 0, slope * x otherwise.
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

enum class ReluRule { Standard, Guided, Deconvnet };
const char* relu_rule_name(ReluRule rule);

void relu_forward(const Tensor& x, Tensor& y);
// x: the forward input (any shape); gy, gx: same shape. gx overwritten.
void relu_backward(const Tensor& x, const Tensor& gy, Tensor& gx, ReluRule rule);

void leaky_relu_forward(const Tensor& x, double slope, Tensor& y);
void leaky_relu_backward(const Tensor& x, const Tensor& gy, double slope, Tensor& gx);

struct ActivationImpl {
  void (*relu_forward)(const Tensor& x, Tensor& y);
  void (*relu_backward)(const Tensor& x, const Tensor& gy, Tensor& gx, ReluRule rule);
  void (*leaky_forward)(const Tensor& x, double slope, Tensor& y);
  void (*leaky_backward)(const Tensor& x, const Tensor& gy, double slope, Tensor& gx);
};
OpRegistry<ActivationImpl>& activation_registry();

}  // namespace cs::kernels
