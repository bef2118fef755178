// Bilinear resize with align_corners = false, exactly as PyTorch's
// F.interpolate(mode="bilinear"): source coordinate (dst + 0.5) * in/out - 0.5,
// clamped at 0, neighbours clamped at the border.
// x: (N, C, H, W) -> y: (N, C, H2, W2) (output size from y's shape).
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

void resize_bilinear_forward(const Tensor& x, Tensor& y);
// gx overwritten; deterministic (no float atomics).
void resize_bilinear_backward(const Tensor& gy, Tensor& gx);

struct ResizeImpl {
  void (*forward)(const Tensor& x, Tensor& y);
  void (*backward)(const Tensor& gy, Tensor& gx);
};
OpRegistry<ResizeImpl>& resize_registry();

// Source position of output index `dst` (align_corners = false): the two
// neighbours i0 <= i1 and the weight of i1. Shared by host and device code.
struct BilinearTap {
  int64_t i0, i1;
  float lambda1;
};
#if defined(__CUDACC__)
__host__ __device__
#endif
inline BilinearTap bilinear_tap(int64_t dst, int64_t in_size, int64_t out_size) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  float src = scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
  if (src < 0) src = 0;
  int64_t i0 = static_cast<int64_t>(src);
  if (i0 > in_size - 1) i0 = in_size - 1;
  const int64_t i1 = i0 < in_size - 1 ? i0 + 1 : i0;
  return BilinearTap{i0, i1, src - static_cast<float>(i0)};
}

}  // namespace cs::kernels
