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

}  // namespace cs::kernels
