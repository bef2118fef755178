// Batch normalization over (N, H, W) per channel, for x of shape (N, C, H, W)
// (BatchNorm2d) or (N, C) (BatchNorm1d). PyTorch semantics:
//   training: mean, var = batch mean and *biased* variance; y = (x - mean) *
//   invstd * gamma + beta with invstd = 1/sqrt(var + eps); running_mean =
//   (1 - momentum) * running_mean + momentum * mean; running_var likewise
//   with the *unbiased* variance var * n/(n-1) (n = N*H*W).
//   eval: the same with the running statistics.
// Statistics are computed stably (two passes or Welford), correct for data
// with a large mean. Deterministic on every device.
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

// gamma, beta, running_*: (C). save_mean, save_invstd: (C), written for backward.
void batch_norm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                              Tensor& running_mean, Tensor& running_var, double momentum,
                              double eps, Tensor& y, Tensor& save_mean, Tensor& save_invstd);
void batch_norm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                             const Tensor& running_mean, const Tensor& running_var, double eps,
                             Tensor& y);
// Training-mode backward (statistics depend on x). gx: (N, C, ...);
// ggamma, gbeta: (C). All overwritten.
void batch_norm_backward_train(const Tensor& gy, const Tensor& x, const Tensor& gamma,
                               const Tensor& save_mean, const Tensor& save_invstd, Tensor& gx,
                               Tensor& ggamma, Tensor& gbeta);
// Eval-mode backward (fixed statistics): gx = gy * gamma / sqrt(running_var + eps).
void batch_norm_backward_eval(const Tensor& gy, const Tensor& x, const Tensor& gamma,
                              const Tensor& running_mean, const Tensor& running_var, double eps,
                              Tensor& gx, Tensor& ggamma, Tensor& gbeta);

// ---- dispatch -------------------------------------------------------------------------

// (N, C, H, W) or (N, C) seen as (outer = N, channels = C, inner = H*W).
struct BatchNormDims {
  int64_t outer = 0, channels = 0, inner = 0;
  int64_t count() const { return outer * inner; }  // values per channel
};

struct BatchNormImpl {
  void (*forward_train)(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                        Tensor& running_mean, Tensor& running_var, double momentum, double eps,
                        Tensor& y, Tensor& save_mean, Tensor& save_invstd, const BatchNormDims& d);
  void (*forward_eval)(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                       const Tensor& running_mean, const Tensor& running_var, double eps,
                       Tensor& y, const BatchNormDims& d);
  void (*backward_train)(const Tensor& gy, const Tensor& x, const Tensor& gamma,
                         const Tensor& save_mean, const Tensor& save_invstd, Tensor& gx,
                         Tensor& ggamma, Tensor& gbeta, const BatchNormDims& d);
  void (*backward_eval)(const Tensor& gy, const Tensor& x, const Tensor& gamma,
                        const Tensor& running_mean, const Tensor& running_var, double eps,
                        Tensor& gx, Tensor& ggamma, Tensor& gbeta, const BatchNormDims& d);
};
OpRegistry<BatchNormImpl>& batchnorm_registry();

}  // namespace cs::kernels
