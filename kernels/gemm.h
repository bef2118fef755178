// GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, float32 (and float64
// on the CPU). op(A) is (M, K), op(B) is (K, N), C is (M, N).
//
// CPU: OpenBLAS (cblas). CUDA: hand-written kernels, several variants
// (naive -> shared-memory tiled -> register-blocked with vectorized loads ...),
// each a named function validated by the same tests and selectable by name in
// benchmarks; gemm() runs the production variant. Every size works, not only
// multiples of the tile.
#pragma once

#include <string>
#include <vector>

#include "kernels/common.h"

namespace cs::kernels {

enum class Transpose { No, Yes };

// A: (M, K) or, transposed, (K, M); B: (K, N) or (N, K); C: (M, N).
// With beta == 0, C's prior contents are ignored (may be uninitialised/NaN).
void gemm(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b, Tensor& c,
          double alpha = 1.0, double beta = 0.0);

// Same, with a named CUDA variant (see gemm_cuda_variants()); for tests and benchmarks.
void gemm_cuda_variant(const std::string& variant, const Tensor& a, Transpose trans_a,
                       const Tensor& b, Transpose trans_b, Tensor& c, double alpha = 1.0,
                       double beta = 0.0);
// Names of the CUDA variants, simplest first; the last is the production one.
std::vector<std::string> gemm_cuda_variants();

// The obviously-right triple loop in double accumulation, for tests only.
void gemm_naive_cpu(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b,
                    Tensor& c, double alpha = 1.0, double beta = 0.0);

}  // namespace cs::kernels
