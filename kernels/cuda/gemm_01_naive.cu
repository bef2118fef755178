// GEMM variant 1, "naive": one thread per element of C, each reading its row
// of op(A) and column of op(B) straight from global memory. Consecutive
// threads (threadIdx.x) take consecutive columns, so B (not transposed) and
// C are read and written coalesced; A's element is the same for the whole
// warp (a broadcast). Memory-bound on L1/L2 traffic: the baseline.
#include "kernels/cuda/gemm_common.cuh"

namespace cs::kernels {
namespace {

using gemm_cuda::GemmParams;

constexpr int kCols = 32, kRows = 8;  // block: 32 x 8 threads, a 8 x 32 tile of C

template <bool TA, bool TB>
__global__ void __launch_bounds__(kCols* kRows) gemm_naive_kernel(GemmParams p) {
  const int tiles_n = (p.n + kCols - 1) / kCols;
  const int col = (blockIdx.x % tiles_n) * kCols + threadIdx.x;
  const int row = (blockIdx.x / tiles_n) * kRows + threadIdx.y;
  if (row >= p.m || col >= p.n) return;
  float acc = 0.f;
  for (int q = 0; q < p.k; ++q)
    acc = fmaf(gemm_cuda::op_a<TA>(p.a, row, q), gemm_cuda::op_b<TB>(p.b, q, col), acc);
  gemm_cuda::store_c(p, p.c, row, col, acc);
}

void gemm_naive(const Tensor& a, Transpose ta, const Tensor& b, Transpose tb, Tensor& c,
                double alpha, double beta, const GemmDims& d) {
  const GemmParams p = gemm_cuda::make_gemm_params(a, b, c, alpha, beta, d);
  const int dev = c.device().index;
  cuda::set_device(dev);
  const unsigned blocks =
      gemm_cuda::tile_blocks(gemm_cuda::ceil_div(d.m, kRows), gemm_cuda::ceil_div(d.n, kCols));
  gemm_cuda::dispatch_transposes(ta, tb, [&](auto ta_c, auto tb_c) {
    cuda::launch(gemm_naive_kernel<decltype(ta_c)::value, decltype(tb_c)::value>, blocks,
                 dim3(kCols, kRows), 0, cuda::current_stream(dev), p);
  });
  CS_CUDA_CHECK_LAUNCH("gemm_naive_kernel");
}

}  // namespace

CS_REGISTER_GEMM_VARIANT("naive", &gemm_naive, 1)

}  // namespace cs::kernels
