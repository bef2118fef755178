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

// One GEMM implementation; the arguments are already validated and M, N > 0.
using GemmFn = void(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b,
                    Tensor& c, double alpha, double beta, const GemmDims& dims);

struct GemmImpl {
  GemmFn* gemm;
};
OpRegistry<GemmImpl>& gemm_registry();

// The named CUDA variants (kernels/cuda/gemm_*.cu register themselves; empty
// in a CPU-only build). The production one is also registered in gemm_registry().
VariantRegistry<GemmFn>& gemm_variants();

}  // namespace cs::kernels
