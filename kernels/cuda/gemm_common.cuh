// What every CUDA GEMM variant shares: the launch parameters, the four
// transpose layouts, bounds-checked (and, where alignment allows, float4)
// global loads, and the alpha/beta epilogue.
//
// Layout vocabulary. op(A) is (M, K) and op(B) is (K, N), both row-major. A
// stored matrix is what lies in memory: A is (M, K), or (K, M) when
// transposed; B is (K, N), or (N, K). Loaders work on stored coordinates
// (row, col) and the kernels map them onto op() coordinates, so one loader
// serves all four layouts.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/gemm_impl.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels::gemm_cuda {

// A stored matrix: rows x cols, row-major with leading dimension ld (== cols:
// convscope tensors are contiguous; ld addresses, cols bounds).
struct Matrix {
  const float* ptr;
  int64_t ld;
  int rows, cols;
  // ptr is 16-byte aligned and ld (= cols) % 4 == 0: four floats starting at
  // a column that is a multiple of 4 are one aligned float4, wholly inside
  // the row or wholly outside it.
  bool vec;
};

struct GemmParams {
  Matrix a;  // op(A) = a or a^T, (m, k)
  Matrix b;  // op(B) = b or b^T, (k, n)
  float* c;  // (m, n), row-major with leading dimension ldc
  int64_t ldc;
  bool c_vec;  // c 16-byte aligned and ldc % 4 == 0
  int m, n, k;
  float alpha, beta;  // beta == 0: C is never read
  // Split-K (only the double-buffered variant uses it): split z (blockIdx.y)
  // sums k in [z * k_per_split, min(k, (z + 1) * k_per_split)) and writes
  // to c + z * c_split_stride.
  int k_per_split;
  int64_t c_split_stride;
};

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Sizes are passed to the kernels as int; keep a margin so that tile
// arithmetic (row + tile size) cannot overflow.
constexpr int64_t kMaxGemmDim = (int64_t{1} << 31) - 4096;

inline GemmParams make_gemm_params(const Tensor& a, const Tensor& b, Tensor& c, double alpha,
                                   double beta, const GemmDims& d) {
  CS_CHECK(d.m <= kMaxGemmDim && d.n <= kMaxGemmDim && d.k <= kMaxGemmDim &&
               a.dim(0) <= kMaxGemmDim && a.dim(1) <= kMaxGemmDim && b.dim(0) <= kMaxGemmDim &&
               b.dim(1) <= kMaxGemmDim,
           "gemm (CUDA): every dimension must be below 2^31 - 4096, got M=" << d.m << " N=" << d.n
                                                                              << " K=" << d.k);
  GemmParams p{};
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  p.a = Matrix{pa, a.dim(1), static_cast<int>(a.dim(0)), static_cast<int>(a.dim(1)),
               aligned16(pa) && a.dim(1) % 4 == 0};
  p.b = Matrix{pb, b.dim(1), static_cast<int>(b.dim(0)), static_cast<int>(b.dim(1)),
               aligned16(pb) && b.dim(1) % 4 == 0};
  p.c = c.data<float>();
  p.ldc = d.n;
  p.c_vec = aligned16(p.c) && d.n % 4 == 0;
  p.m = static_cast<int>(d.m);
  p.n = static_cast<int>(d.n);
  p.k = static_cast<int>(d.k);
  p.alpha = static_cast<float>(alpha);
  p.beta = static_cast<float>(beta);
  p.k_per_split = p.k;
  p.c_split_stride = 0;
  return p;
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks for a grid of tiles_m x tiles_n output tiles, one block each, on a
// one-dimensional grid (gridDim.x allows 2^31 - 1, the y and z sizes only 65535).
inline unsigned tile_blocks(int64_t tiles_m, int64_t tiles_n) {
  const int64_t blocks = tiles_m * tiles_n;
  CS_CHECK(blocks <= 0x7fffffff, "gemm (CUDA): " << blocks << " output tiles exceed the grid limit");
  return static_cast<unsigned>(blocks);
}

// Calls f(std::bool_constant<TA>{}, std::bool_constant<TB>{}) for the layout,
// so each kernel is instantiated once per transpose combination.
template <typename F>
void dispatch_transposes(Transpose ta, Transpose tb, F&& f) {
  if (ta == Transpose::No) {
    if (tb == Transpose::No) f(std::false_type{}, std::false_type{});
    else f(std::false_type{}, std::true_type{});
  } else {
    if (tb == Transpose::No) f(std::true_type{}, std::false_type{});
    else f(std::true_type{}, std::true_type{});
  }
}

// ---- device helpers ----------------------------------------------------------------------

// Element (r, c) of a stored matrix, 0 outside it (tiles past the edges
// contribute zeros to the dot products).
__device__ __forceinline__ float load_elem(const Matrix& m, int r, int c) {
  return (r < m.rows && c < m.cols) ? __ldg(m.ptr + static_cast<int64_t>(r) * m.ld + c) : 0.f;
}

// op(A)(i, p) and op(B)(p, j), 0 outside.
template <bool TA>
__device__ __forceinline__ float op_a(const Matrix& a, int i, int p) {
  return TA ? load_elem(a, p, i) : load_elem(a, i, p);
}
template <bool TB>
__device__ __forceinline__ float op_b(const Matrix& b, int p, int j) {
  return TB ? load_elem(b, j, p) : load_elem(b, p, j);
}

// Elements (r, c .. c+3) of a stored matrix, c a multiple of 4 when m.vec:
// one float4 load when the chunk is inside and aligned, else four checked
// scalar loads (the tails and unaligned leading dimensions).
__device__ __forceinline__ float4 load_chunk(const Matrix& m, int r, int c) {
  float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
  if (r >= m.rows) return v;
  const float* row = m.ptr + static_cast<int64_t>(r) * m.ld;
  if (m.vec && c + 3 < m.cols) return __ldg(reinterpret_cast<const float4*>(row + c));
  if (c < m.cols) v.x = __ldg(row + c);
  if (c + 1 < m.cols) v.y = __ldg(row + c + 1);
  if (c + 2 < m.cols) v.z = __ldg(row + c + 2);
  if (c + 3 < m.cols) v.w = __ldg(row + c + 3);
  return v;
}

// A R x C tile of a stored matrix (in stored coordinates), read by THREADS
// threads as float4 chunks into registers, then written to shared memory
// either as laid out (smem[row][col]) or transposed (smem[col][row]); the
// shared array has leading dimension LD. Splitting the load from the store
// lets a kernel keep the next tile's loads in flight while it computes.
template <int R, int C, int THREADS>
struct TileLoader {
  static constexpr int kChunksPerRow = C / 4;
  static constexpr int kChunks = R * C / 4 / THREADS;
  static_assert(C % 4 == 0 && (R * C / 4) % THREADS == 0, "tile must split into float4 chunks");

  float4 regs[kChunks];

  __device__ __forceinline__ void load(const Matrix& m, int r0, int c0, int tid) {
#pragma unroll
    for (int i = 0; i < kChunks; ++i) {
      const int chunk = tid + i * THREADS;
      regs[i] = load_chunk(m, r0 + chunk / kChunksPerRow, c0 + (chunk % kChunksPerRow) * 4);
    }
  }

  template <bool Transposed, int LD>
  __device__ __forceinline__ void store(float* smem, int tid) const {
#pragma unroll
    for (int i = 0; i < kChunks; ++i) {
      const int chunk = tid + i * THREADS;
      const int r = chunk / kChunksPerRow, c = (chunk % kChunksPerRow) * 4;
      if (Transposed) {
        smem[(c + 0) * LD + r] = regs[i].x;
        smem[(c + 1) * LD + r] = regs[i].y;
        smem[(c + 2) * LD + r] = regs[i].z;
        smem[(c + 3) * LD + r] = regs[i].w;
      } else {
        *reinterpret_cast<float4*>(smem + r * LD + c) = regs[i];
      }
    }
  }
};

// The epilogue, identical in every variant: C = alpha * acc + beta * C,
// rounded as fmaf(alpha, acc, beta * C). With beta == 0, C is not read (it
// may hold NaN) and the result is alpha * acc + 0, which turns a -0 (alpha
// < 0 times an exact zero) into +0, as the reference and BLAS produce it.
__device__ __forceinline__ float scale_only(float alpha, float acc) { return alpha * acc + 0.f; }
__device__ __forceinline__ float epilogue(float alpha, float beta, float acc, const float* c) {
  return beta == 0.f ? scale_only(alpha, acc) : fmaf(alpha, acc, beta * *c);
}

__device__ __forceinline__ void store_c(const GemmParams& p, float* c, int row, int col, float acc) {
  if (row < p.m && col < p.n) {
    float* dst = c + static_cast<int64_t>(row) * p.ldc + col;
    *dst = epilogue(p.alpha, p.beta, acc, dst);
  }
}

// C(row, col .. col+3): one float4 access when inside and aligned.
__device__ __forceinline__ void store_c4(const GemmParams& p, float* c, int row, int col,
                                         float4 acc) {
  if (row >= p.m) return;
  float* dst = c + static_cast<int64_t>(row) * p.ldc + col;
  if (p.c_vec && col + 3 < p.n) {
    float4 out;
    if (p.beta == 0.f) {
      out = make_float4(scale_only(p.alpha, acc.x), scale_only(p.alpha, acc.y),
                        scale_only(p.alpha, acc.z), scale_only(p.alpha, acc.w));
    } else {
      const float4 old = *reinterpret_cast<const float4*>(dst);
      out = make_float4(fmaf(p.alpha, acc.x, p.beta * old.x), fmaf(p.alpha, acc.y, p.beta * old.y),
                        fmaf(p.alpha, acc.z, p.beta * old.z), fmaf(p.alpha, acc.w, p.beta * old.w));
    }
    *reinterpret_cast<float4*>(dst) = out;
    return;
  }
  if (col < p.n) dst[0] = epilogue(p.alpha, p.beta, acc.x, dst + 0);
  if (col + 1 < p.n) dst[1] = epilogue(p.alpha, p.beta, acc.y, dst + 1);
  if (col + 2 < p.n) dst[2] = epilogue(p.alpha, p.beta, acc.z, dst + 2);
  if (col + 3 < p.n) dst[3] = epilogue(p.alpha, p.beta, acc.w, dst + 3);
}

}  // namespace cs::kernels::gemm_cuda

// Registers a variant by name; `order` sorts gemm_cuda_variants() (simplest
// first, the production variant last).
#define CS_REGISTER_GEMM_VARIANT(name, fn, order)                                  \
  namespace {                                                                      \
  [[maybe_unused]] const bool CS_REGISTRY_CONCAT(cs_gemm_variant_, __LINE__) =     \
      ::cs::kernels::gemm_variants().add(name, fn, order);                         \
  }
