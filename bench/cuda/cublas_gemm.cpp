// cuBLAS SGEMM, the reference the CUDA GEMM variants are measured against
// (see bench/bench_gemm.cpp). Compiled only when CUDA is available.
#include <cublas_v2.h>

#include <mutex>

#include "bench/gemm_bench.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::bench {
namespace {

#define CS_CUBLAS_CHECK(expr)                                                  \
  do {                                                                         \
    const cublasStatus_t cs_cublas_status_ = (expr);                           \
    CS_CHECK(cs_cublas_status_ == CUBLAS_STATUS_SUCCESS,                       \
             #expr << " failed: " << cublasGetStatusString(cs_cublas_status_)); \
  } while (0)

cublasHandle_t handle_for(int device) {
  static std::mutex mutex;
  static cublasHandle_t handles[64] = {};
  CS_CHECK(device >= 0 && device < 64, "cuBLAS benchmark: device index " << device);
  std::lock_guard<std::mutex> lock(mutex);
  if (!handles[device]) {
    cuda::set_device(device);
    CS_CUBLAS_CHECK(cublasCreate(&handles[device]));
  }
  return handles[device];
}

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: hand
// cuBLAS B first. A row-major (r, c) matrix is a column-major (c, r) one with
// leading dimension c, so each operand keeps its own flag and dim(1) as ld.
void cublas_sgemm(const Tensor& a, kernels::Transpose ta, const Tensor& b, kernels::Transpose tb,
                  Tensor& c, bool tf32) {
  const int device = c.device().index;
  cublasHandle_t h = handle_for(device);
  cuda::set_device(device);
  CS_CUBLAS_CHECK(cublasSetStream(h, cuda::current_stream(device)));
  // Default math is plain fp32 (no TF32 unless asked for, as here).
  CS_CUBLAS_CHECK(cublasSetMathMode(h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  const int m = static_cast<int>(c.dim(0)), n = static_cast<int>(c.dim(1));
  const int k = static_cast<int>(ta == kernels::Transpose::No ? a.dim(1) : a.dim(0));
  const float alpha = 1.f, beta = 0.f;
  CS_CUBLAS_CHECK(cublasSgemm(h, tb == kernels::Transpose::No ? CUBLAS_OP_N : CUBLAS_OP_T,
                              ta == kernels::Transpose::No ? CUBLAS_OP_N : CUBLAS_OP_T, n, m, k,
                              &alpha, b.data<float>(), static_cast<int>(b.dim(1)), a.data<float>(),
                              static_cast<int>(a.dim(1)), &beta, c.data<float>(), n));
}

[[maybe_unused]] const bool registered = [] {
  cublas_gemm() = &cublas_sgemm;
  register_cublas_gemm_benchmarks();
  return true;
}();

}  // namespace
}  // namespace cs::bench
