// 2-D convolution (cross-correlation, as PyTorch's Conv2d) with stride,
// padding, dilation and groups; forward, backward-data, backward-weight, bias.
//
//   x: (N, C, H, W)    w: (K, C/groups, R, S)    bias: (K)    y: (N, K, P, Q)
//   P = (H + 2*pad_h - dilation_h*(R-1) - 1) / stride_h + 1, likewise Q.
//
// CPU: im2col + GEMM (the reference). CUDA: implicit GEMM / tiled direct
// convolution with no im2col buffer in global memory. Outputs are
// overwritten, never accumulated. Deterministic on every device.
#pragma once

#include <string>
#include <vector>

#include "kernels/common.h"

namespace cs::kernels {

struct Conv2dArgs {
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
};

// Output shape (N, K, P, Q); throws naming the problem when the shapes and
// arguments do not fit (channels not divisible by groups, empty output ...).
Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dArgs& args);

// y = conv(x, w) + bias; `bias` may be an undefined Tensor (no bias).
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    const Conv2dArgs& args);
// gx (N, C, H, W) = d(loss)/dx given gy (N, K, P, Q): the transposed convolution.
void conv2d_backward_data(const Tensor& gy, const Tensor& w, Tensor& gx, const Conv2dArgs& args);
// gw (K, C/groups, R, S) = d(loss)/dw, summed over the batch.
void conv2d_backward_weight(const Tensor& x, const Tensor& gy, Tensor& gw, const Conv2dArgs& args);
// gb (K) = sum of gy over N, P, Q.
void conv2d_backward_bias(const Tensor& gy, Tensor& gb);

// Named CUDA variants for tests and benchmarks (e.g. "direct", "implicit_gemm").
std::vector<std::string> conv2d_cuda_variants();
void conv2d_forward_cuda_variant(const std::string& variant, const Tensor& x, const Tensor& w,
                                 const Tensor& bias, Tensor& y, const Conv2dArgs& args);

}  // namespace cs::kernels
