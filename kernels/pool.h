// Pooling: max (with argmax switches), average, adaptive average.
//
//   x: (N, C, H, W) -> y: (N, C, P, Q)
//   P = floor((H + 2*pad_h - kernel_h) / stride_h) + 1 (ceil with ceil_mode,
//   as PyTorch: a window must start inside the input or left padding).
//
// Max pooling stores, for every output, the switch: the flat index h*W + w of
// the maximum inside its (n, c) plane. Padding never wins (it is -infinity).
// Ties go to the first maximum in row-major window order, as PyTorch does;
// NaN propagates (a NaN input wins its window). The backward pass routes each
// gradient to its switch; the same switches drive the deconvnet's unpooling.
// Backward kernels are deterministic (gather, no float atomics).
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

struct Pool2dArgs {
  int kernel_h = 2, kernel_w = 2;
  int stride_h = 2, stride_w = 2;
  int pad_h = 0, pad_w = 0;
  bool ceil_mode = false;
  // Average pooling only: count padded cells in the divisor (PyTorch default).
  bool count_include_pad = true;
};

Shape pool2d_output_shape(const Shape& x, const Pool2dArgs& args);

// switches: (N, C, P, Q) int32.
void max_pool2d_forward(const Tensor& x, Tensor& y, Tensor& switches, const Pool2dArgs& args);
// gx (N, C, H, W), overwritten: gx[n,c,s] = sum of gy[n,c,p,q] whose switch is s.
void max_pool2d_backward(const Tensor& gy, const Tensor& switches, Tensor& gx);

void avg_pool2d_forward(const Tensor& x, Tensor& y, const Pool2dArgs& args);
void avg_pool2d_backward(const Tensor& gy, Tensor& gx, const Pool2dArgs& args);

// Output size taken from y's shape; bins as PyTorch's AdaptiveAvgPool2d:
// rows [floor(i*H/P), ceil((i+1)*H/P)).
void adaptive_avg_pool2d_forward(const Tensor& x, Tensor& y);
void adaptive_avg_pool2d_backward(const Tensor& gy, Tensor& gx);

// ---- dispatch -------------------------------------------------------------------------

struct PoolImpl {
  void (*max_forward)(const Tensor& x, Tensor& y, Tensor& switches, const Pool2dArgs& args);
  void (*max_backward)(const Tensor& gy, const Tensor& switches, Tensor& gx);
  void (*avg_forward)(const Tensor& x, Tensor& y, const Pool2dArgs& args);
  void (*avg_backward)(const Tensor& gy, Tensor& gx, const Pool2dArgs& args);
  void (*adaptive_forward)(const Tensor& x, Tensor& y);
  void (*adaptive_backward)(const Tensor& gy, Tensor& gx);
};
OpRegistry<PoolImpl>& pool_registry();

// PyTorch's adaptive bins: output i of `out` covers [start, end) of `in`.
inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

}  // namespace cs::kernels
