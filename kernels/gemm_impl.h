// GEMM internals shared by the dispatcher and the device implementations.
#pragma once

#include "kernels/gemm.h"

namespace cs::kernels {

struct GemmDims {
  int64_t m = 0, n = 0, k = 0;
};

// Validates shapes, devices and dtypes; returns (M, N, K).
GemmDims check_gemm_args(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b,
                         const Tensor& c);

struct GemmImpl {
  void (*gemm)(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b, Tensor& c,
               double alpha, double beta, const GemmDims& dims);
};
OpRegistry<GemmImpl>& gemm_registry();

}  // namespace cs::kernels
