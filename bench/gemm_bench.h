// Shared by the GEMM benchmarks (bench_gemm.cpp) and the cuBLAS reference
// (bench/cuda/cublas_gemm.cpp, compiled only with CUDA).
#pragma once

#include <string>
#include <vector>

#include "kernels/gemm.h"

namespace cs::bench {

// One GEMM problem: C (M, N) = op(A) (M, K) * op(B) (K, N).
struct GemmShape {
  std::string name;  // "4096x4096x4096_NN", "alexnet_fc6_n128_9216x4096_fwd", ...
  int64_t m, n, k;
  kernels::Transpose ta, tb;
  bool layer = false;  // a linear layer's GEMM (not a square)
};

// Square sizes, then the linear layers of fashion-cnn and AlexNet/ZFNet
// (forward, dx and dW of each, bench/model_layers.h).
const std::vector<GemmShape>& gemm_bench_shapes();

inline double gemm_flops(const GemmShape& s) { return 2.0 * s.m * s.n * s.k; }

// cuBLAS SGEMM (C = op(A) op(B)) on the current stream. tf32 = false: the
// default math mode, pure fp32 (the reference for the fp32 kernels); true:
// CUBLAS_TF32_TENSOR_OP_MATH. Set by bench/cuda/cublas_gemm.cpp; null in a
// build without CUDA.
using CublasGemmFn = void(const Tensor& a, kernels::Transpose ta, const Tensor& b,
                          kernels::Transpose tb, Tensor& c, bool tf32);
CublasGemmFn*& cublas_gemm();

// Registers the cuBLAS benchmark rows (called by bench/cuda/cublas_gemm.cpp
// once it has set cublas_gemm()).
void register_cublas_gemm_benchmarks();

}  // namespace cs::bench
