// GEMM: the dispatcher, the CPU implementation (OpenBLAS) and the naive
// reference the tests check everything against.
#include "kernels/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <type_traits>

#include "kernels/gemm_impl.h"

namespace cs::kernels {

OpRegistry<GemmImpl>& gemm_registry() {
  static OpRegistry<GemmImpl> registry("gemm");
  return registry;
}

VariantRegistry<GemmFn>& gemm_variants() {
  static VariantRegistry<GemmFn> registry("gemm");
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
  check_no_alias(c, {&a, &b}, "gemm");
  return d;
}

void gemm(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b, Tensor& c,
          double alpha, double beta) {
  const GemmDims d = check_gemm_args(a, trans_a, b, trans_b, c);
  if (d.m == 0 || d.n == 0) return;
  gemm_registry().get(c.device()).gemm(a, trans_a, b, trans_b, c, alpha, beta, d);
}

std::vector<std::string> gemm_cuda_variants() { return gemm_variants().names(); }

void gemm_cuda_variant(const std::string& variant, const Tensor& a, Transpose trans_a,
                       const Tensor& b, Transpose trans_b, Tensor& c, double alpha, double beta) {
  GemmFn* fn = gemm_variants().get(variant);  // throws for unknown names and CPU-only builds
  const GemmDims d = check_gemm_args(a, trans_a, b, trans_b, c);
  CS_CHECK(c.is_cuda(), "gemm variant '" << variant << "' runs on CUDA tensors, got " << c.device());
  if (d.m == 0 || d.n == 0) return;
  fn(a, trans_a, b, trans_b, c, alpha, beta, d);
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

// OpenBLAS runs single-threaded; convscope parallelises around it with
// OpenMP. Two thread pools spinning against each other on a small machine
// (OpenBLAS's and OpenMP's) cost more than either gains.
const bool kOpenBlasSingleThreaded = (openblas_set_num_threads(1), true);

template <typename T>
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, T alpha,
               const T* a, blasint lda, const T* b, blasint ldb, T beta, T* c, blasint ldc) {
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// C = alpha op(A) op(B) + beta C. Outside a parallel region, large products
// are split into row blocks of C (or column blocks when C has few rows), one
// per thread; each element is still computed by a single BLAS call over all
// of K.
template <typename T>
void gemm_typed(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b, Tensor& c,
                double alpha, double beta, const GemmDims& d) {
  const CBLAS_TRANSPOSE ta = trans_a == Transpose::No ? CblasNoTrans : CblasTrans;
  const CBLAS_TRANSPOSE tb = trans_b == Transpose::No ? CblasNoTrans : CblasTrans;
  const blasint lda = static_cast<blasint>(a.dim(1)), ldb = static_cast<blasint>(b.dim(1));
  const blasint ldc = static_cast<blasint>(d.n);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* pc = c.data<T>();
  const T al = static_cast<T>(alpha), be = static_cast<T>(beta);
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const double work = static_cast<double>(d.m) * d.n * d.k;
  if (threads <= 1 || work < 4e6) {
    blas_gemm<T>(ta, tb, d.m, d.n, d.k, al, pa, lda, pb, ldb, be, pc, ldc);
    return;
  }
  const bool split_rows = d.m >= 16 * threads;
  const int64_t extent = split_rows ? d.m : d.n;
  const int64_t block = (extent + threads - 1) / threads;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int t = 0; t < threads; ++t) {
    const int64_t start = t * block, count = std::min(block, extent - start);
    if (count <= 0) continue;
    if (split_rows) {  // rows [start, start+count) of C and of op(A)
      const T* a_block = trans_a == Transpose::No ? pa + start * lda : pa + start;
      blas_gemm<T>(ta, tb, count, d.n, d.k, al, a_block, lda, pb, ldb, be, pc + start * ldc, ldc);
    } else {  // columns [start, start+count) of C and of op(B)
      const T* b_block = trans_b == Transpose::No ? pb + start : pb + start * ldb;
      blas_gemm<T>(ta, tb, d.m, count, d.k, al, pa, lda, b_block, ldb, be, pc + start, ldc);
    }
  }
}

void cpu_gemm(const Tensor& a, Transpose trans_a, const Tensor& b, Transpose trans_b, Tensor& c,
              double alpha, double beta, const GemmDims& d) {
  (void)kOpenBlasSingleThreaded;
  if (d.k == 0) {
    // BLAS leaves C alone when K = 0 only if beta = 1; do the scaling here.
    dispatch_floating(c.dtype(), "gemm", [&](auto zero) {
      using T = decltype(zero);
      T* pc = c.data<T>();
      for (int64_t i = 0; i < c.numel(); ++i) pc[i] = beta == 0 ? T(0) : static_cast<T>(beta * pc[i]);
    });
    return;
  }
  dispatch_floating(c.dtype(), "gemm", [&](auto zero) {
    gemm_typed<decltype(zero)>(a, trans_a, b, trans_b, c, alpha, beta, d);
  });
}

}  // namespace

CS_REGISTER_OP(gemm_registry, DeviceType::CPU, (GemmImpl{&cpu_gemm}))

}  // namespace cs::kernels
