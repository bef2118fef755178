// Local response normalization across channels (AlexNet's, and ZFNet's
// contrast normalization), PyTorch's LocalResponseNorm semantics:
//   y[c] = x[c] / scale[c]^beta,  scale[c] = k + alpha/size * sum over
//   c' in [c - size/2, c + (size-1)/2] (clipped to the channels) of x[c']^2.
// x: (N, C, H, W).
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

struct LrnArgs {
  int size = 5;
  double alpha = 1e-4;
  double beta = 0.75;
  double k = 1.0;
};

// scale: (N, C, H, W), written for backward.
void lrn_forward(const Tensor& x, Tensor& y, Tensor& scale, const LrnArgs& args);
// gx overwritten.
void lrn_backward(const Tensor& x, const Tensor& y, const Tensor& scale, const Tensor& gy,
                  Tensor& gx, const LrnArgs& args);
// The backward computed: with W(c) = [c - size/2, c + (size-1)/2] (clipped),
//   gx[j] = gy[j] * scale[j]^-beta
//         - (2 alpha beta / size) * x[j] * sum over c with j in W(c) of gy[c] * y[c] / scale[c],
// where j in W(c) <=> c in [j - (size-1)/2, j + size/2].

struct LrnImpl {
  void (*forward)(const Tensor& x, Tensor& y, Tensor& scale, const LrnArgs& args);
  void (*backward)(const Tensor& x, const Tensor& y, const Tensor& scale, const Tensor& gy,
                   Tensor& gx, const LrnArgs& args);
};
OpRegistry<LrnImpl>& lrn_registry();

}  // namespace cs::kernels
