// Gram matrices of feature maps (style transfer), the custom Gram kernel:
//   F: (N, C, H, W) seen as N matrices of (C, H*W);
//   G[n] = F[n] * F[n]^T / (H*W): (N, C, C), symmetric (only one triangle is
//   computed on the GPU, then mirrored).
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

void gram_forward(const Tensor& f, Tensor& g);
// gF[n] = (gG[n] + gG[n]^T) * F[n] / (H*W). gf overwritten.
void gram_backward(const Tensor& f, const Tensor& gg, Tensor& gf);

struct GramImpl {
  void (*forward)(const Tensor& f, Tensor& g);
  void (*backward)(const Tensor& f, const Tensor& gg, Tensor& gf);
};
OpRegistry<GramImpl>& gram_registry();

}  // namespace cs::kernels
