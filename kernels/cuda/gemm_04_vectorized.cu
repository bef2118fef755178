// GEMM variant 4, "vectorized": the register-blocked kernel (128 x 128 x 8
// tiles, 256 threads, 8 x 8 outputs per thread) with 16-byte memory accesses
// everywhere the data allows them:
//  - global loads as float4 (one per thread per operand per tile), when the
//    operand's pointer is 16-byte aligned and its leading dimension a
//    multiple of 4; the tails of the matrix and unaligned operands fall back
//    to checked scalar loads (gemm_cuda::load_chunk);
//  - op(A) is stored transposed in shared memory, as[k][m], like op(B) as
//    bs[k][n], so a thread's 8 values of A for one k are two float4 loads
//    (and likewise for B): 4 shared loads per 64 FMAs instead of 16;
//  - each thread's 8 rows (and 8 columns) are two groups of 4, 64 apart:
//    the 16 threads that read one row of bs read 16 consecutive float4,
//    which is free of bank conflicts (8 contiguous floats per thread would
//    make it 2-way);
//  - C is written (and, with beta != 0, read) as float4.
// An operand whose stored rows run along k (A not transposed, B transposed)
// is transposed on its way into shared memory; the 4 floats of padding per
// row keep those scattered 4-byte stores free of bank conflicts.
#include "kernels/cuda/gemm_common.cuh"

namespace cs::kernels {
namespace {

using gemm_cuda::GemmParams;

constexpr int kBM = 128, kBN = 128, kBK = 8, kThreads = 256;
constexpr int kLds = kBM + 4;  // leading dimension of as and bs (kBM == kBN)

template <bool TA, bool TB>
__global__ void __launch_bounds__(kThreads) gemm_vectorized_kernel(GemmParams p) {
  CS_SHARED_ALIGNED(16, as, float[kBK * kLds]);  // as[q][i] = op(A)(m0 + i, k0 + q)
  CS_SHARED_ALIGNED(16, bs, float[kBK * kLds]);  // bs[q][j] = op(B)(k0 + q, n0 + j)
  const int tiles_n = (p.n + kBN - 1) / kBN;
  const int m0 = (blockIdx.x / tiles_n) * kBM, n0 = (blockIdx.x % tiles_n) * kBN;
  const int tid = threadIdx.x;
  // Rows tr*4 + {0..3} and 64 + tr*4 + {0..3}; likewise columns with tc.
  const int tr = tid / 16, tc = tid % 16;

  // The tiles in stored coordinates: A is (m, k), or (k, m) when transposed.
  gemm_cuda::TileLoader<TA ? kBK : kBM, TA ? kBM : kBK, kThreads> load_a;
  gemm_cuda::TileLoader<TB ? kBN : kBK, TB ? kBK : kBN, kThreads> load_b;

  float acc[8][8] = {};
  for (int k0 = 0; k0 < p.k; k0 += kBK) {
    load_a.load(p.a, TA ? k0 : m0, TA ? m0 : k0, tid);
    load_b.load(p.b, TB ? n0 : k0, TB ? k0 : n0, tid);
    load_a.template store<!TA, kLds>(as, tid);
    load_b.template store<TB, kLds>(bs, tid);
    __syncthreads();
#pragma unroll
    for (int q = 0; q < kBK; ++q) {
      const float4 a0 = *reinterpret_cast<const float4*>(as + q * kLds + tr * 4);
      const float4 a1 = *reinterpret_cast<const float4*>(as + q * kLds + 64 + tr * 4);
      const float4 b0 = *reinterpret_cast<const float4*>(bs + q * kLds + tc * 4);
      const float4 b1 = *reinterpret_cast<const float4*>(bs + q * kLds + 64 + tc * 4);
      const float ra[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float rb[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(ra[i], rb[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int row = m0 + (i < 4 ? tr * 4 + i : 64 + tr * 4 + i - 4);
    gemm_cuda::store_c4(p, p.c, row, n0 + tc * 4,
                        make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
    gemm_cuda::store_c4(p, p.c, row, n0 + 64 + tc * 4,
                        make_float4(acc[i][4], acc[i][5], acc[i][6], acc[i][7]));
  }
}

void gemm_vectorized(const Tensor& a, Transpose ta, const Tensor& b, Transpose tb, Tensor& c,
                     double alpha, double beta, const GemmDims& d) {
  const GemmParams p = gemm_cuda::make_gemm_params(a, b, c, alpha, beta, d);
  const int dev = c.device().index;
  cuda::set_device(dev);
  const unsigned blocks =
      gemm_cuda::tile_blocks(gemm_cuda::ceil_div(d.m, kBM), gemm_cuda::ceil_div(d.n, kBN));
  gemm_cuda::dispatch_transposes(ta, tb, [&](auto ta_c, auto tb_c) {
    cuda::launch(gemm_vectorized_kernel<decltype(ta_c)::value, decltype(tb_c)::value>, blocks,
                 kThreads, 0, cuda::current_stream(dev), p);
  });
  CS_CUDA_CHECK_LAUNCH("gemm_vectorized_kernel");
}

}  // namespace

CS_REGISTER_GEMM_VARIANT("vectorized", &gemm_vectorized, 4)

}  // namespace cs::kernels
