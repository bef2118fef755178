// GEMM variant 5, "double_buffered": the production fp32 kernel.
//
// The vectorized kernel (128 x 128 x 8 tiles, 256 threads, 8 x 8 outputs per
// thread, float4 global and shared accesses, op(A) transposed in shared
// memory) plus:
//  - double buffering: two shared-memory stages. While the block computes on
//    one, the next tile's global loads are already in flight into registers,
//    and they are written to the other stage afterwards; one __syncthreads()
//    per tile instead of two, and global latency hidden behind 512 FMAs per
//    thread;
//  - warp tiling: the 8 warps form a 4 x 2 grid of 32 x 64 warp tiles, and the
//    lanes of a warp a 4 x 8 grid; a thread's rows are {0..3, 16..19} + 4 * lane
//    row and its columns {0..3, 32..35} + 4 * lane column within the warp tile.
//    A warp's reads of B for one k are 8 distinct float4 (128 contiguous
//    bytes, one shared-memory wavefront) and of A 4 distinct float4
//    (broadcast), and its stores to C cover whole 128-byte lines;
//  - grouped tile order: consecutive blocks walk down 8 tile-rows before moving
//    right, so blocks resident together share panels of A and B in L2;
//  - deterministic split-K for products with few output tiles and a long K
//    (e.g. a 128 x 4096 linear layer over K = 9216): each split writes its own
//    partial product to a workspace and a second kernel adds the partials in
//    split order and applies alpha and beta. No atomics: the same inputs give
//    the same bits on every run.
#include <algorithm>
#include <atomic>

#include "kernels/cuda/gemm_common.cuh"

namespace cs::kernels {
namespace {

using gemm_cuda::GemmParams;
using gemm_cuda::Matrix;

constexpr int kBM = 128, kBN = 128, kBK = 8, kThreads = 256;
constexpr int kLds = kBM + 4;  // leading dimension of the shared tiles (kBM == kBN)
constexpr int kStage = kBK * kLds;
constexpr int kGroupM = 8;  // tile-rows per group in the block order

// v = *p if guard, else zeros. Volatile inline PTX: the compiler must issue
// the load where it is written (before the FMAs that hide its latency);
// written as plain C++, it sinks the load down to the shared-memory store
// that uses it, exposing the whole global latency every tile.
__device__ __forceinline__ float4 ldg4_guarded(const float* p, bool guard) {
#if defined(CONVSCOPE_CUDA_SIM)
  return guard ? __ldg(reinterpret_cast<const float4*>(p)) : make_float4(0.f, 0.f, 0.f, 0.f);
#else
  float4 v;
  asm volatile(
      "{\n"
      "  .reg .pred g;\n"
      "  setp.ne.b32 g, %5, 0;\n"
      "  mov.b32 %0, 0;\n"
      "  mov.b32 %1, 0;\n"
      "  mov.b32 %2, 0;\n"
      "  mov.b32 %3, 0;\n"
      "  @g ld.global.nc.v4.f32 {%0, %1, %2, %3}, [%4];\n"
      "}\n"
      : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w)
      : "l"(p), "r"(static_cast<int>(guard)));
  return v;
#endif
}

// One thread's float4 chunk of an operand's 8 x 128 (or 128 x 8) tile,
// followed along K. The stored matrix is (k, x) when KRows (A transposed, B
// not): the chunk moves down 8 rows per tile and goes to shared memory as it
// lies; otherwise the stored matrix is (x, k), the chunk moves right 8
// columns and is transposed on its way into shared memory. 256 threads, one
// chunk each, cover the tile. Few registers on purpose: the kernel runs at
// the 128-register limit that lets two blocks share an SM.
template <bool KRows>
struct ChunkStream {
  const float* ptr;  // the chunk in global memory (dereferenced only when inside)
  int kl;            // its k offset within the tile
  int x;             // its stored coordinate across k (column when KRows, else row)
  int smem_offset;   // where it goes within a stage
  float4 v;

  __device__ __forceinline__ void init(const Matrix& m, int k0, int x0, int tid) {
    const int rl = KRows ? tid / 32 : tid / 2;              // local stored row
    const int cl = KRows ? (tid % 32) * 4 : (tid % 2) * 4;  // local stored column
    kl = KRows ? rl : cl;
    x = x0 + (KRows ? cl : rl);
    ptr = m.ptr + (KRows ? static_cast<int64_t>(k0 + rl) * m.ld + x
                         : static_cast<int64_t>(x) * m.ld + k0 + cl);
    smem_offset = KRows ? rl * kLds + cl : cl * kLds + rl;
  }
  // Loads the chunk of the tile at k0 (zeros where it lies past k_end or the
  // matrix). Vec: the matrix is 16-byte aligned with a row length (= ld)
  // that is a multiple of 4, so a chunk is wholly inside or wholly outside:
  // one predicated float4 load, no branch. Split-K ranges end on multiples
  // of 8, so checking the chunk's first k against k_end suffices. Otherwise
  // checked scalar loads.
  template <bool Vec>
  __device__ __forceinline__ void load(const Matrix& m, int k0, int k_end) {
    const int k = k0 + kl;
    if (Vec) {
      v = ldg4_guarded(ptr, k < k_end && x < (KRows ? m.cols : m.rows));
    } else if (k0 < k_end) {
      v = KRows ? gemm_cuda::load_chunk(m, k, x) : gemm_cuda::load_chunk(m, x, k);
    } else {
      v = make_float4(0.f, 0.f, 0.f, 0.f);
    }
  }
  __device__ __forceinline__ void advance(const Matrix& m) { ptr += KRows ? kBK * m.ld : kBK; }
  __device__ __forceinline__ void store(float* stage) const {
    if (KRows) {
      *reinterpret_cast<float4*>(stage + smem_offset) = v;
    } else {
      stage[smem_offset + 0 * kLds] = v.x;
      stage[smem_offset + 1 * kLds] = v.y;
      stage[smem_offset + 2 * kLds] = v.z;
      stage[smem_offset + 3 * kLds] = v.w;
    }
  }
};

// Vec: both operands are aligned for float4 (Matrix::vec).
template <bool TA, bool TB, bool Vec>
__global__ void __launch_bounds__(kThreads, 2) gemm_double_buffered_kernel(GemmParams p) {
  CS_SHARED_ALIGNED(16, as, float[2 * kStage]);  // stage s: as[s][q][i] = op(A)(m0 + i, k0 + q)
  CS_SHARED_ALIGNED(16, bs, float[2 * kStage]);  // stage s: bs[s][q][j] = op(B)(k0 + q, n0 + j)

  // Grouped order: blocks g*8*tiles_n .. (g+1)*8*tiles_n - 1 cover tile-rows
  // 8g .. 8g+7, going down a column of tiles before the next column.
  const int tiles_m = (p.m + kBM - 1) / kBM, tiles_n = (p.n + kBN - 1) / kBN;
  const int per_group = kGroupM * tiles_n;
  const int group = blockIdx.x / per_group, in_group = blockIdx.x % per_group;
  const int first_m = group * kGroupM;
  const int group_rows = min(tiles_m - first_m, kGroupM);
  const int m0 = (first_m + in_group % group_rows) * kBM;
  const int n0 = (in_group / group_rows) * kBN;

  const int k_begin = blockIdx.y * p.k_per_split;
  const int k_end = min(p.k, k_begin + p.k_per_split);

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int row0 = (warp / 2) * 32 + (lane / 8) * 4;  // rows row0 + {0..3}, row0 + 16 + {0..3}
  const int col0 = (warp % 2) * 64 + (lane % 8) * 4;  // cols col0 + {0..3}, col0 + 32 + {0..3}

  ChunkStream<TA> load_a;
  ChunkStream<!TB> load_b;
  load_a.init(p.a, k_begin, m0, tid);
  load_b.init(p.b, k_begin, n0, tid);

  float acc[8][8] = {};
  load_a.template load<Vec>(p.a, k_begin, k_end);
  load_b.template load<Vec>(p.b, k_begin, k_end);
  load_a.store(as);
  load_b.store(bs);
  __syncthreads();
  // The loop body has no branches: the loads of the next tile are predicated
  // (off in the last iteration, whose store then fills the idle stage with
  // zeros). With an `if` around them, the compiler moves the loads down to
  // the stores, past the FMAs, and nothing hides their latency.
  int stage = 0;
  for (int k0 = k_begin; k0 < k_end; k0 += kBK) {
    load_a.advance(p.a);  // next tile: global -> registers, in flight during the FMAs
    load_b.advance(p.b);
    load_a.template load<Vec>(p.a, k0 + kBK, k_end);
    load_b.template load<Vec>(p.b, k0 + kBK, k_end);
    const float* sa = as + stage * kStage;
    const float* sb = bs + stage * kStage;
#pragma unroll
    for (int q = 0; q < kBK; ++q) {
      const float4 a0 = *reinterpret_cast<const float4*>(sa + q * kLds + row0);
      const float4 a1 = *reinterpret_cast<const float4*>(sa + q * kLds + row0 + 16);
      const float4 b0 = *reinterpret_cast<const float4*>(sb + q * kLds + col0);
      const float4 b1 = *reinterpret_cast<const float4*>(sb + q * kLds + col0 + 32);
      const float ra[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float rb[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(ra[i], rb[j], acc[i][j]);
    }
    // The other stage was last read before the previous barrier: free.
    stage ^= 1;
    load_a.store(as + stage * kStage);
    load_b.store(bs + stage * kStage);
    __syncthreads();
  }
  float* c = p.c + blockIdx.y * p.c_split_stride;
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int row = m0 + row0 + (i < 4 ? i : 16 + i - 4);
    gemm_cuda::store_c4(p, c, row, n0 + col0,
                        make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
    gemm_cuda::store_c4(p, c, row, n0 + col0 + 32,
                        make_float4(acc[i][4], acc[i][5], acc[i][6], acc[i][7]));
  }
}

// C = alpha * sum_z partial[z] + beta * C, the partials added in order z = 0, 1, ...
// C is contiguous (m, n); partial is (splits, m, n). float4 when aligned.
__global__ void gemm_split_k_reduce_kernel(const float* partial, int splits, int64_t count,
                                           float* c, float alpha, float beta, bool vec) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vec) {
    const int64_t count4 = count / 4;
    for (int64_t i = first; i < count4; i += stride) {
      float4 s = reinterpret_cast<const float4*>(partial)[i];
      for (int z = 1; z < splits; ++z) {
        const float4 v = reinterpret_cast<const float4*>(partial + z * count)[i];
        s.x += v.x, s.y += v.y, s.z += v.z, s.w += v.w;
      }
      float* dst = c + 4 * i;
      float4 out;
      out.x = gemm_cuda::epilogue(alpha, beta, s.x, dst + 0);
      out.y = gemm_cuda::epilogue(alpha, beta, s.y, dst + 1);
      out.z = gemm_cuda::epilogue(alpha, beta, s.z, dst + 2);
      out.w = gemm_cuda::epilogue(alpha, beta, s.w, dst + 3);
      reinterpret_cast<float4*>(c)[i] = out;
    }
    done = count4 * 4;
  }
  for (int64_t i = done + first; i < count; i += stride) {
    float s = partial[i];
    for (int z = 1; z < splits; ++z) s += partial[z * count + i];
    c[i] = gemm_cuda::epilogue(alpha, beta, s, c + i);
  }
}

int sm_count(int dev) {
  static std::atomic<int> counts[64] = {};
  if (dev < 0 || dev >= 64) {
    int v = 0;
    CS_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev));
    return std::max(v, 1);
  }
  if (counts[dev].load() == 0) {
    int v = 0;
    CS_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev));
    counts[dev].store(std::max(v, 1));
  }
  return counts[dev].load();
}

// How many K-splits: only when the output tiles fill less than half of the
// resident-block slots (2 per SM) and K is long enough that each split keeps
// at least 512 of it; at most 16. Depends only on the shape and the GPU, so
// results are reproducible on a given GPU.
int choose_splits(int64_t tiles, int64_t k, int sms) {
  const int64_t slots = 2LL * sms;
  if (tiles * 2 > slots || k < 1024) return 1;
  int64_t splits = slots / tiles;
  splits = std::min<int64_t>(splits, k / 512);
  splits = std::min<int64_t>(splits, 16);
  return static_cast<int>(std::max<int64_t>(splits, 1));
}

void gemm_double_buffered(const Tensor& a, Transpose ta, const Tensor& b, Transpose tb, Tensor& c,
                          double alpha, double beta, const GemmDims& d) {
  GemmParams p = gemm_cuda::make_gemm_params(a, b, c, alpha, beta, d);
  const int dev = c.device().index;
  cuda::set_device(dev);
  cudaStream_t stream = cuda::current_stream(dev);
  const int64_t tiles_m = gemm_cuda::ceil_div(d.m, kBM), tiles_n = gemm_cuda::ceil_div(d.n, kBN);
  const unsigned blocks = gemm_cuda::tile_blocks(tiles_m, tiles_n);

  int splits = choose_splits(tiles_m * tiles_n, d.k, sm_count(dev));
  Tensor partial;
  if (splits > 1) {
    // Whole tiles of K per split; recount so that no split is empty.
    p.k_per_split = static_cast<int>(gemm_cuda::ceil_div(gemm_cuda::ceil_div(d.k, splits), kBK) * kBK);
    splits = static_cast<int>(gemm_cuda::ceil_div(d.k, p.k_per_split));
  }
  if (splits > 1) {
    partial = Tensor::empty({splits, d.m, d.n}, c.device());
    p.c = partial.data<float>();
    p.ldc = d.n;
    p.c_vec = gemm_cuda::aligned16(p.c) && d.n % 4 == 0;
    p.c_split_stride = d.m * d.n;
    p.alpha = 1.f;
    p.beta = 0.f;
  }
  const bool vec = p.a.vec && p.b.vec;
  gemm_cuda::dispatch_transposes(ta, tb, [&](auto ta_c, auto tb_c) {
    constexpr bool kTA = decltype(ta_c)::value, kTB = decltype(tb_c)::value;
    if (vec) {
      cuda::launch(gemm_double_buffered_kernel<kTA, kTB, true>, dim3(blocks, splits), kThreads, 0,
                   stream, p);
    } else {
      cuda::launch(gemm_double_buffered_kernel<kTA, kTB, false>, dim3(blocks, splits), kThreads, 0,
                   stream, p);
    }
  });
  CS_CUDA_CHECK_LAUNCH("gemm_double_buffered_kernel");
  if (splits > 1) {
    const int64_t count = d.m * d.n;
    float* pc = c.data<float>();
    const bool vec = gemm_cuda::aligned16(pc) && gemm_cuda::aligned16(p.c) && count % 4 == 0;
    cuda::launch(gemm_split_k_reduce_kernel, cuda::grid_for(vec ? count / 4 : count, 256), 256, 0,
                 stream, p.c, splits, count, pc, static_cast<float>(alpha),
                 static_cast<float>(beta), vec);
    CS_CUDA_CHECK_LAUNCH("gemm_split_k_reduce_kernel");
  }
}

}  // namespace

CS_REGISTER_GEMM_VARIANT("double_buffered", &gemm_double_buffered, 10)
CS_REGISTER_OP(gemm_registry, DeviceType::CUDA, (GemmImpl{&gemm_double_buffered}))

}  // namespace cs::kernels
