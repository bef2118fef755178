// Fused optimizer updates, one launch per parameter tensor, with PyTorch's
// semantics (torch.optim.SGD, Adam, AdamW).
#pragma once

#include <cstdint>

#include "kernels/common.h"

namespace cs::kernels {

struct SgdArgs {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  // True on the first step: the momentum buffer is initialised to the gradient.
  bool first_step = true;
};

// g = grad + weight_decay * param
// if momentum: buf = first_step ? g : momentum * buf + (1 - dampening) * g
//              g = nesterov ? g + momentum * buf : buf
// param -= lr * g
// momentum_buffer may be undefined when momentum == 0.
void sgd_step(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdArgs& args);

struct AdamArgs {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;  // AdamW
  int64_t step = 1;                     // 1-based, for bias correction
};

// Adam:  g = grad + weight_decay * param
// AdamW: param *= 1 - lr * weight_decay; g = grad
// m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
// param -= lr * (m / (1 - beta1^step)) / (sqrt(v / (1 - beta2^step)) + eps)
void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamArgs& args);

struct OptimizerImpl {
  void (*sgd)(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdArgs& args);
  void (*adam)(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamArgs& args);
};
OpRegistry<OptimizerImpl>& optimizer_registry();

}  // namespace cs::kernels
