// GEMM: the dispatcher, the CPU implementation (OpenBLAS) and the naive
// reference the tests check everything against.
#include "kernels/gemm.h"

#include <cblas.h>

#include "kernels/gemm_impl.h"

namespace cs::kernels {

OpRegistry<GemmImpl>& gemm_registry() {
  static OpRegistry<GemmImpl> registry("gemm");
  return registry;
}

GemmDims check_gemm_args(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b,
                         const Tensor& c) {
  check_compatible({&a, &b, &c}, "gemm");
  CS_CHECK(a.ndim() == 2 && b.ndim() == 2 && c.ndim() == 2,
           "gemm: A, B and C must be 2-D, got " << shape_str(a.shape()) << ", "
                                                << shape_str(b.shape()) << ", "
                                                << shape_str(c.shape()));
  GemmDims d;
  d.m = trans_a == Transpose::No ? a.dim(0) : a.dim(1);
  d.k = trans_a == Transpose::No ? a.dim(1) : a.dim(0);
  const int64_t kb = trans_b == Transpose::No ? b.dim(0) : b.dim(1);
  d.n = trans_b == Transpose::No ? b.dim(1) : b.dim(0);
  CS_CHECK(d.k == kb, "gemm: inner dimensions differ: op(A) is (" << d.m << ", " << d.k
                                                                 << "), op(B) is (" << kb << ", "
                                                                 << d.n << ")");
  CS_CHECK(c.dim(0) == d.m && c.dim(1) == d.n,
           "gemm: C must be (" << d.m << ", " << d.n << "), got " << shape_str(c.shape()));
  return d;
}

void gemm(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b, Tensor& c,
          double alpha, double beta) {
  const GemmDims d = check_gemm_args(a, trans_a, b, trans_b, c);
  if (d.m == 0 || d.n == 0) return;
  gemm_registry().get(c.device()).gemm(a, trans_a, b, trans_b, c, alpha, beta, d);
}

void gemm_naive_cpu(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b,
                    Tensor& c, double alpha, double beta) {
  const GemmDims d = check_gemm_args(a, trans_a, b, trans_b, c);
  CS_CHECK(c.device().is_cpu(), "gemm_naive_cpu: tensors must be on the CPU");
  dispatch_floating(c.dtype(), "gemm_naive_cpu", [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = c.data<T>();
    for (int64_t i = 0; i < d.m; ++i)
      for (int64_t j = 0; j < d.n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < d.k; ++p) {
          const double av = trans_a == Transpose::No ? pa[i * d.k + p] : pa[p * d.m + i];
          const double bv = trans_b == Transpose::No ? pb[p * d.n + j] : pb[j * d.k + p];
          acc += av * bv;
        }
        const double prior = beta == 0 ? 0.0 : beta * static_cast<double>(pc[i * d.n + j]);
        pc[i * d.n + j] = static_cast<T>(alpha * acc + prior);
      }
  });
}

namespace {

void cpu_gemm(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b, Tensor& c,
              double alpha, double beta, const GemmDims& d) {
  const CBLAS_TRANSPOSE ta = trans_a == Transpose::No ? CblasNoTrans : CblasTrans;
  const CBLAS_TRANSPOSE tb = trans_b == Transpose::No ? CblasNoTrans : CblasTrans;
  const blasint lda = static_cast<blasint>(a.dim(1));
  const blasint ldb = static_cast<blasint>(b.dim(1));
  const blasint ldc = static_cast<blasint>(d.n);
  const blasint m = static_cast<blasint>(d.m), n = static_cast<blasint>(d.n),
                k = static_cast<blasint>(d.k);
  if (d.k == 0) {
    // BLAS leaves C alone when K = 0 only if beta = 1; do the scaling here.
    Tensor cc = c;
    dispatch_floating(c.dtype(), "gemm", [&](auto zero) {
      using T = decltype(zero);
      T* pc = cc.data<T>();
      for (int64_t i = 0; i < c.numel(); ++i) pc[i] = beta == 0 ? T(0) : static_cast<T>(beta * pc[i]);
    });
    return;
  }
  if (c.dtype() == DType::F32) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, static_cast<float>(alpha), a.data<float>(), lda,
                b.data<float>(), ldb, static_cast<float>(beta), c.data<float>(), ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a.data<double>(), lda, b.data<double>(),
                ldb, beta, c.data<double>(), ldc);
  }
}

}  // namespace

CS_REGISTER_OP(gemm_registry, DeviceType::CPU, (GemmImpl{&cpu_gemm}))

}  // namespace cs::kernels
