// Pooling: max (with argmax switches), average, adaptive average.
//
//   x: (N, C, H, W) -> y: (N, C, P, Q)
//   P = floor((H + 2*pad_h - kernel_h) / stride_h) + 1 (ceil with ceil_mode,
//   as PyTorch: a window must start inside the input or left padding).
//
// Max pooling stores, for every output, the switch: the flat index h*W + w of
// the maximum inside its (n, c) plane. Padding never wins (it is -infinity).
// Ties go to the first maximum in row-major window order, as PyTorch does;
// NaN propagates (a NaN input wins its window; of several NaNs the last one,
// PyTorch's rule `v > max || isnan(v)`). The backward pass routes each
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
// `args` are the forward's: they say which windows can hold each input, so
// the GPU gathers (each input visits its few windows) instead of scattering
// with atomics. Every switch must lie inside its own window, as the forward
// writes them (the CPU checks this; the GPU ignores a switch that does not).
void max_pool2d_backward(const Tensor& gy, const Tensor& switches, Tensor& gx,
                         const Pool2dArgs& args);

void avg_pool2d_forward(const Tensor& x, Tensor& y, const Pool2dArgs& args);
void avg_pool2d_backward(const Tensor& gy, Tensor& gx, const Pool2dArgs& args);

// Output size taken from y's shape; bins as PyTorch's AdaptiveAvgPool2d:
// rows [floor(i*H/P), ceil((i+1)*H/P)).
void adaptive_avg_pool2d_forward(const Tensor& x, Tensor& y);
void adaptive_avg_pool2d_backward(const Tensor& gy, Tensor& gx);

}  // namespace cs::kernels
