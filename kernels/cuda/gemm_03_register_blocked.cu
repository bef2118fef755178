// GEMM variant 3, "register_blocked": 2-D block tiling. A block of 256
// threads computes a 128 x 128 tile of C, stepping through K 8 at a time;
// each thread keeps an 8 x 8 sub-tile of C in registers. Per step of k a
// thread loads 8 values of op(A) and 8 of op(B) from shared memory into
// registers and does 64 FMAs with them (4 FMAs per shared load, against 0.5
// in the smem_tiled kernel), and each global element now serves 128 outputs.
//
// Still simple on purpose (the next variants improve exactly these points):
// scalar global loads, op(A) kept as (m, k) in shared memory so the 8 values
// of A a thread needs are 8 scalar loads, and each thread's 8 columns are
// contiguous, so the reads of B (16 threads, 8 floats apart) hit 4-way bank
// conflicts.
#include "kernels/cuda/gemm_common.cuh"

namespace cs::kernels {
namespace {

using gemm_cuda::GemmParams;

constexpr int kBM = 128, kBN = 128, kBK = 8, kTM = 8, kTN = 8;
constexpr int kThreads = (kBM / kTM) * (kBN / kTN);  // 256

template <bool TA, bool TB>
__global__ void __launch_bounds__(kThreads) gemm_register_blocked_kernel(GemmParams p) {
  CS_SHARED(as, float[kBM][kBK]);  // as[i][q] = op(A)(m0 + i, k0 + q)
  CS_SHARED(bs, float[kBK][kBN]);  // bs[q][j] = op(B)(k0 + q, n0 + j)
  const int tiles_n = (p.n + kBN - 1) / kBN;
  const int m0 = (blockIdx.x / tiles_n) * kBM, n0 = (blockIdx.x % tiles_n) * kBN;
  const int tid = threadIdx.x;
  const int tr = tid / (kBN / kTN), tc = tid % (kBN / kTN);  // this thread's 8 x 8 sub-tile

  float acc[kTM][kTN] = {};
  for (int k0 = 0; k0 < p.k; k0 += kBK) {
    // 1024 elements of each tile, 4 per thread; consecutive threads take
    // consecutive elements along the stored (contiguous) dimension.
#pragma unroll
    for (int r = 0; r < kBM * kBK / kThreads; ++r) {
      const int e = tid + r * kThreads;
      if (TA) {  // stored (k, m): an 8 x 128 block
        const int q = e / kBM, i = e % kBM;
        as[i][q] = gemm_cuda::load_elem(p.a, k0 + q, m0 + i);
      } else {  // stored (m, k): a 128 x 8 block
        const int i = e / kBK, q = e % kBK;
        as[i][q] = gemm_cuda::load_elem(p.a, m0 + i, k0 + q);
      }
      if (TB) {  // stored (n, k): a 128 x 8 block
        const int j = e / kBK, q = e % kBK;
        bs[q][j] = gemm_cuda::load_elem(p.b, n0 + j, k0 + q);
      } else {  // stored (k, n): an 8 x 128 block
        const int q = e / kBN, j = e % kBN;
        bs[q][j] = gemm_cuda::load_elem(p.b, k0 + q, n0 + j);
      }
    }
    __syncthreads();
#pragma unroll
    for (int q = 0; q < kBK; ++q) {
      float ra[kTM], rb[kTN];
#pragma unroll
      for (int i = 0; i < kTM; ++i) ra[i] = as[tr * kTM + i][q];
#pragma unroll
      for (int j = 0; j < kTN; ++j) rb[j] = bs[q][tc * kTN + j];
#pragma unroll
      for (int i = 0; i < kTM; ++i)
#pragma unroll
        for (int j = 0; j < kTN; ++j) acc[i][j] = fmaf(ra[i], rb[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < kTM; ++i)
#pragma unroll
    for (int j = 0; j < kTN; ++j)
      gemm_cuda::store_c(p, p.c, m0 + tr * kTM + i, n0 + tc * kTN + j, acc[i][j]);
}

void gemm_register_blocked(const Tensor& a, Transpose ta, const Tensor& b, Transpose tb,
                           Tensor& c, double alpha, double beta, const GemmDims& d) {
  const GemmParams p = gemm_cuda::make_gemm_params(a, b, c, alpha, beta, d);
  const int dev = c.device().index;
  cuda::set_device(dev);
  const unsigned blocks =
      gemm_cuda::tile_blocks(gemm_cuda::ceil_div(d.m, kBM), gemm_cuda::ceil_div(d.n, kBN));
  gemm_cuda::dispatch_transposes(ta, tb, [&](auto ta_c, auto tb_c) {
    cuda::launch(gemm_register_blocked_kernel<decltype(ta_c)::value, decltype(tb_c)::value>, blocks,
                 kThreads, 0, cuda::current_stream(dev), p);
  });
  CS_CUDA_CHECK_LAUNCH("gemm_register_blocked_kernel");
}

}  // namespace

CS_REGISTER_GEMM_VARIANT("register_blocked", &gemm_register_blocked, 3)

}  // namespace cs::kernels
