// Conv2d internals shared by the dispatcher and the device implementations.
#pragma once

#include <string>
#include <vector>

#include "kernels/conv2d.h"

namespace cs::kernels {

// Every size of one convolution, validated once by the dispatcher.
//   x: (N, C, H, W)   w: (K, Cg, R, S)   y: (N, K, P, Q)   Cg = C/groups, Kg = K/groups
struct Conv2dGeometry {
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t K = 0, R = 0, S = 0;
  int64_t P = 0, Q = 0;
  int64_t groups = 1, Cg = 0, Kg = 0;
  Conv2dArgs args;
};

// Checks the shapes of x (N, C, H, W) and w (K, C/groups, R, S) and the
// arguments; every failure is one line naming the argument and the shapes.
Conv2dGeometry conv2d_geometry(const Shape& x, const Shape& w, const Conv2dArgs& args,
                               const char* op = "conv2d");

struct Conv2dImpl {
  // y = conv(x, w) + bias (bias may be undefined).
  void (*forward)(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                  const Conv2dGeometry& g);
  void (*backward_data)(const Tensor& gy, const Tensor& w, Tensor& gx, const Conv2dGeometry& g);
  void (*backward_weight)(const Tensor& x, const Tensor& gy, Tensor& gw, const Conv2dGeometry& g);
  // gy: (N, K, P, Q), gb: (K).
  void (*backward_bias)(const Tensor& gy, Tensor& gb);
  // Named forward variants (CUDA only; null on the CPU).
  std::vector<std::string> (*variant_names)();
  void (*forward_variant)(const std::string& variant, const Tensor& x, const Tensor& w,
                          const Tensor& bias, Tensor& y, const Conv2dGeometry& g);
};
OpRegistry<Conv2dImpl>& conv2d_registry();

}  // namespace cs::kernels
