// GEMM variant "tf32_wmma": tensor cores through nvcuda::wmma, with TF32
// inputs (10-bit mantissa) and fp32 accumulation. NOT the production GEMM:
// its results differ from fp32 by ~1e-3 relative (each input is rounded to
// TF32 first), so it is selectable by name only.
//
// 128 x 128 x 32 block tiles, 256 threads = 8 warps in a 2 x 4 grid of
// 64 x 32 warp tiles (4 x 2 fragments of 16 x 16, k-steps of 8). Tiles move
// global -> shared with cp.async (16-byte, bypassing registers) through a
// 3-stage pipeline, so two tiles are in flight while one is multiplied.
// Shared memory keeps each operand in its stored layout and the fragments
// are declared row- or column-major to match, which covers the four
// transpose combinations without any transposition. Chunks at the matrix
// edges or with unaligned rows are loaded with checked scalar loads instead.
// The epilogue stages the accumulators through shared memory and applies
// alpha and beta with bounds checks. About 200 registers and 108 KB of shared
// memory: one block (8 warps) per SM.
#include <mma.h>

#include "kernels/cuda/gemm_common.cuh"

namespace cs::kernels {
namespace {

using gemm_cuda::GemmParams;
using gemm_cuda::Matrix;
namespace wmma = nvcuda::wmma;

constexpr int kBM = 128, kBN = 128, kBK = 32, kThreads = 256, kStages = 3;
constexpr int kPad = 4;  // floats per shared row: keeps rows 16-byte aligned, staggers banks
// One stage of one operand: (128, 32 + pad) or (32, 128 + pad), whichever the layout needs.
constexpr int kOperandStage = (kBM * (kBK + kPad)) > (kBK * (kBM + kPad)) ? kBM * (kBK + kPad)
                                                                         : kBK * (kBM + kPad);
constexpr int kStageFloats = 2 * kOperandStage;
constexpr int kEpilogueLd = kBN + kPad;
constexpr int kSmemFloats = kStages * kStageFloats > kBM * kEpilogueLd ? kStages * kStageFloats
                                                                       : kBM * kEpilogueLd;
constexpr size_t kSmemBytes = kSmemFloats * sizeof(float);

__device__ __forceinline__ void cp_async16(float* smem, const float* gmem) {
#if defined(CONVSCOPE_CUDA_SIM)
  ::cs::sim::cp_async_16(smem, gmem);  // the generic shared pointer itself
#else
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem));
#endif
}
__device__ __forceinline__ void cp_async_commit() {
#if defined(CONVSCOPE_CUDA_SIM)
  ::cs::sim::cp_async_commit();
#else
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if defined(CONVSCOPE_CUDA_SIM)
  ::cs::sim::cp_async_wait(N);
#else
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

// An R x C tile of a stored matrix at (r0, c0) into smem[R][C + kPad]: cp.async
// for whole aligned chunks, checked scalar loads (zeros outside) otherwise.
template <int R, int C>
__device__ __forceinline__ void load_tile_async(const Matrix& m, int r0, int c0, float* smem,
                                                int tid) {
  constexpr int kChunksPerRow = C / 4, kChunks = R * C / 4;
  static_assert(kChunks % kThreads == 0, "tile must split evenly over the threads");
#pragma unroll
  for (int i = 0; i < kChunks / kThreads; ++i) {
    const int chunk = tid + i * kThreads;
    const int r = chunk / kChunksPerRow, c = (chunk % kChunksPerRow) * 4;
    float* dst = smem + r * (C + kPad) + c;
    const int gr = r0 + r, gc = c0 + c;
    if (m.vec && gr < m.rows && gc + 3 < m.cols) {
      cp_async16(dst, m.ptr + static_cast<int64_t>(gr) * m.ld + gc);
    } else {
      *reinterpret_cast<float4*>(dst) = gemm_cuda::load_chunk(m, gr, gc);
    }
  }
}

template <bool TA, bool TB>
__global__ void __launch_bounds__(kThreads, 1) gemm_tf32_wmma_kernel(GemmParams p) {
  CS_SHARED_DYNAMIC(smem, float, 128);
  const int tiles_n = (p.n + kBN - 1) / kBN;
  const int m0 = (blockIdx.x / tiles_n) * kBM, n0 = (blockIdx.x % tiles_n) * kBN;
  const int tid = threadIdx.x, warp = tid / 32;
  const int wm = (warp / 4) * 64, wn = (warp % 4) * 32;  // this warp's 64 x 32 tile

  // Stored layouts in shared memory: A (m, k) row-major, or (k, m) = op(A)
  // column-major; B (k, n) row-major, or (n, k) = op(B) column-major.
  using LayoutA = std::conditional_t<TA, wmma::col_major, wmma::row_major>;
  using LayoutB = std::conditional_t<TB, wmma::col_major, wmma::row_major>;
  constexpr int kLda = TA ? kBM + kPad : kBK + kPad;
  constexpr int kLdb = TB ? kBK + kPad : kBN + kPad;

  auto stage_a = [&](int s) { return smem + s * kStageFloats; };
  auto stage_b = [&](int s) { return smem + s * kStageFloats + kOperandStage; };
  auto load_stage = [&](int s, int k0) {
    if (TA) load_tile_async<kBK, kBM>(p.a, k0, m0, stage_a(s), tid);
    else load_tile_async<kBM, kBK>(p.a, m0, k0, stage_a(s), tid);
    if (TB) load_tile_async<kBN, kBK>(p.b, n0, k0, stage_b(s), tid);
    else load_tile_async<kBK, kBN>(p.b, k0, n0, stage_b(s), tid);
  };

  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[4][2];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.f);

  const int tiles_k = (p.k + kBK - 1) / kBK;
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < tiles_k) load_stage(s, s * kBK);
    cp_async_commit();
  }
  for (int t = 0; t < tiles_k; ++t) {
    cp_async_wait<kStages - 2>();  // tile t has landed (this thread's part)
    __syncthreads();               // ... and everyone's; stage (t - 1) % kStages is free
    const int next = t + kStages - 1;
    if (next < tiles_k) load_stage(next % kStages, next * kBK);
    cp_async_commit();

    const float* sa = stage_a(t % kStages);
    const float* sb = stage_b(t % kStages);
    // Unrolled by 2, not 4: fully unrolled, the compiler holds every k-step's
    // fragments at once and runs out of registers.
#pragma unroll 2
    for (int kk = 0; kk < kBK; kk += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, LayoutA> fa[4];
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, LayoutB> fb[2];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int r = wm + 16 * i;
        wmma::load_matrix_sync(fa[i], TA ? sa + kk * kLda + r : sa + r * kLda + kk, kLda);
#pragma unroll
        for (int e = 0; e < fa[i].num_elements; ++e) fa[i].x[e] = wmma::__float_to_tf32(fa[i].x[e]);
      }
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int cidx = wn + 16 * j;
        wmma::load_matrix_sync(fb[j], TB ? sb + cidx * kLdb + kk : sb + kk * kLdb + cidx, kLdb);
#pragma unroll
        for (int e = 0; e < fb[j].num_elements; ++e) fb[j].x[e] = wmma::__float_to_tf32(fb[j].x[e]);
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
  }
  cp_async_wait<0>();
  __syncthreads();  // every warp is done with the stages: reuse them for the epilogue

  // Accumulators -> shared (128, 128 + pad) -> C, 4 consecutive columns per thread.
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(smem + (wm + 16 * i) * kEpilogueLd + wn + 16 * j, acc[i][j],
                              kEpilogueLd, wmma::mem_row_major);
  __syncthreads();
#pragma unroll 4
  for (int i = 0; i < kBM * kBN / 4 / kThreads; ++i) {
    const int chunk = tid + i * kThreads;
    const int r = chunk / (kBN / 4), c = (chunk % (kBN / 4)) * 4;
    const float4 v = *reinterpret_cast<const float4*>(smem + r * kEpilogueLd + c);
    gemm_cuda::store_c4(p, p.c, m0 + r, n0 + c, v);
  }
}

void gemm_tf32_wmma(const Tensor& a, Transpose ta, const Tensor& b, Transpose tb, Tensor& c,
                    double alpha, double beta, const GemmDims& d) {
  const GemmParams p = gemm_cuda::make_gemm_params(a, b, c, alpha, beta, d);
  const int dev = c.device().index;
  cuda::set_device(dev);
  const unsigned blocks =
      gemm_cuda::tile_blocks(gemm_cuda::ceil_div(d.m, kBM), gemm_cuda::ceil_div(d.n, kBN));
  gemm_cuda::dispatch_transposes(ta, tb, [&](auto ta_c, auto tb_c) {
    auto* kernel = &gemm_tf32_wmma_kernel<decltype(ta_c)::value, decltype(tb_c)::value>;
    // More than the default 48 KB of dynamic shared memory must be asked for
    // (per device: repeat it after a device switch; it is cheap).
    CS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(kSmemBytes)));
    cuda::launch(kernel, blocks, kThreads, kSmemBytes, cuda::current_stream(dev), p);
  });
  CS_CUDA_CHECK_LAUNCH("gemm_tf32_wmma_kernel");
}

}  // namespace

// Listed before the production fp32 variant, which stays last.
CS_REGISTER_GEMM_VARIANT("tf32_wmma", &gemm_tf32_wmma, 5)

}  // namespace cs::kernels
