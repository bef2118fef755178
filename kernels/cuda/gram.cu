// Gram matrices on the GPU: G[n] = F[n] F[n]^T / (H*W), F[n] of (C, HW).
//
// Forward: a symmetric rank-HW product (SYRK). The (C, C) output is cut into
// 64x64 tiles and only the tiles on or above the diagonal are computed (a
// block each); every value is written to (r, c) and mirrored to (c, r), so
// G is exactly symmetric. Each block stages 64 rows of each operand, 16
// features at a time, through shared memory; each of its 256 threads owns a
// 4x4 block of outputs (rows 4ty..4ty+3, columns 4tx..4tx+3) in registers.
//
// When there are few tiles (C = 64: one tile) and HW is long (55*55 = 3025),
// the feature axis is split into S slices of at least 64 features, one block
// per (tile, slice): each writes its partial upper tile to a workspace
// (S, N, C, C), and a second kernel adds the S partials in slice order, scales
// and mirrors. S depends on the shape only: deterministic.
//
// Backward: gF[n] = (gG[n] + gG[n]^T) F[n] / HW: the symmetric part is formed
// once per image, then a 64x64-tiled GEMM (C, C) x (C, HW) of the same
// structure.
#include <algorithm>

#include "kernels/gram.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;  // 16 x 16
constexpr int kTile = 64;
constexpr int kSlab = 16;          // features per shared-memory stage
constexpr int kPad = kTile + 4;    // row pitch of the staged tiles
constexpr int64_t kTargetBlocks = 256;
constexpr int64_t kMinSlice = 64;  // features per split slice, at least

cudaStream_t prepare(const Tensor& t) {
  cuda::set_device(t.device().index);
  return cuda::current_stream(t.device().index);
}

// dst[kk][i] = src[(row0 + i) * ld + k0 + kk] for the 64 rows x 16 features
// of a stage; zero outside rows < rows, features < k_end.
__device__ __forceinline__ void stage_rows(const float* src, int64_t ld, int64_t row0, int64_t rows,
                                           int64_t k0, int64_t k_end, float (*dst)[kPad]) {
  for (int e = threadIdx.x; e < kTile * kSlab; e += kThreads) {
    const int i = e / kSlab, kk = e % kSlab;  // 16 consecutive features of one row per half-warp
    const int64_t r = row0 + i, k = k0 + kk;
    dst[kk][i] = (r < rows && k < k_end) ? src[r * ld + k] : 0.0f;
  }
}

// dst[kk][j] = src[(k0 + kk) * ld + col0 + j] for 16 features x 64 columns.
__device__ __forceinline__ void stage_cols(const float* src, int64_t ld, int64_t col0, int64_t cols,
                                           int64_t k0, int64_t k_end, float (*dst)[kPad]) {
  for (int e = threadIdx.x; e < kTile * kSlab; e += kThreads) {
    const int kk = e / kTile, j = e % kTile;  // consecutive columns: coalesced
    const int64_t k = k0 + kk, c = col0 + j;
    dst[kk][j] = (k < k_end && c < cols) ? src[k * ld + c] : 0.0f;
  }
}

// acc[i][j] += sum over the stage of a[kk][4 ty + i] * b[kk][4 tx + j]: two
// 16-byte shared loads per 16 multiply-adds.
__device__ __forceinline__ void multiply_stage(const float (*a)[kPad], const float (*b)[kPad],
                                               float (&acc)[4][4]) {
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
#pragma unroll
  for (int kk = 0; kk < kSlab; ++kk) {
    const float4 a4 = *reinterpret_cast<const float4*>(&a[kk][4 * ty]);
    const float4 b4 = *reinterpret_cast<const float4*>(&b[kk][4 * tx]);
    const float av[4] = {a4.x, a4.y, a4.z, a4.w};
    const float bv[4] = {b4.x, b4.y, b4.z, b4.w};
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
  }
}

// Upper-triangle tile number t -> (ti, tj), ti <= tj, row by row.
__device__ __forceinline__ void triangle_tile(int64_t t, int64_t tiles, int64_t& ti, int64_t& tj) {
  ti = 0;
  while (t >= tiles - ti) {
    t -= tiles - ti;
    ++ti;
  }
  tj = ti + t;
}

// grid: x = upper-triangle tile, y = feature slice, z = image (strided).
// split == false: out = G (N, C, C), scaled and mirrored.
// split == true:  out = partials (S, N, C, C), upper entries only, unscaled.
__global__ void gram_tile_kernel(const float* f, int64_t n_images, int64_t c, int64_t hw,
                                 int64_t tiles, int64_t slice, float scale, bool split, float* out) {
  CS_SHARED_ALIGNED(16, as, float[kSlab][kPad]);
  CS_SHARED_ALIGNED(16, bs, float[kSlab][kPad]);
  int64_t ti, tj;
  triangle_tile(blockIdx.x, tiles, ti, tj);
  const int64_t r0 = ti * kTile, c0 = tj * kTile;
  const int64_t k_begin = static_cast<int64_t>(blockIdx.y) * slice;
  const int64_t k_end = min(hw, k_begin + slice);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  for (int64_t n = blockIdx.z; n < n_images; n += gridDim.z) {
    const float* fn = f + n * c * hw;
    float acc[4][4] = {};
    for (int64_t k0 = k_begin; k0 < k_end; k0 += kSlab) {
      stage_rows(fn, hw, r0, c, k0, k_end, as);
      stage_rows(fn, hw, c0, c, k0, k_end, bs);
      __syncthreads();
      multiply_stage(as, bs, acc);
      __syncthreads();
    }
    float* g = split ? out + (static_cast<int64_t>(blockIdx.y) * n_images + n) * c * c
                     : out + n * c * c;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int64_t r = r0 + 4 * ty + i, col = c0 + 4 * tx + j;
        if (r >= c || col >= c || r > col) continue;  // only the upper triangle
        if (split) {
          g[r * c + col] = acc[i][j];
        } else {
          const float v = acc[i][j] * scale;
          g[r * c + col] = v;
          g[col * c + r] = v;
        }
      }
  }
}

// G[n][r][col] = scale * sum over slices s (in order) of P[s][n][min][max].
__global__ void gram_reduce_kernel(const float* partials, int64_t slices, int64_t n_images,
                                   int64_t c, float scale, float* g) {
  const int64_t total = n_images * c * c;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t n = e / (c * c), r = (e / c) % c, col = e % c;
    const int64_t a = min(r, col), b = max(r, col);
    float acc = 0.0f;
    for (int64_t s = 0; s < slices; ++s) acc += partials[((s * n_images + n) * c + a) * c + b];
    g[e] = acc * scale;
  }
}

// sym[n] = gg[n] + gg[n]^T
__global__ void symmetrize_kernel(const float* gg, int64_t n_images, int64_t c, float* sym) {
  const int64_t total = n_images * c * c;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t n = e / (c * c), r = (e / c) % c, col = e % c;
    sym[e] = gg[e] + gg[(n * c + col) * c + r];
  }
}

// gf[n] (C, HW) = scale * sym[n] (C, C) x f[n] (C, HW).
// grid: x = column tile of HW, y = row tile of C, z = image (strided).
__global__ void gram_backward_kernel(const float* sym, const float* f, int64_t n_images, int64_t c,
                                     int64_t hw, float scale, float* gf) {
  CS_SHARED_ALIGNED(16, as, float[kSlab][kPad]);
  CS_SHARED_ALIGNED(16, bs, float[kSlab][kPad]);
  const int64_t p0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  for (int64_t n = blockIdx.z; n < n_images; n += gridDim.z) {
    const float* sn = sym + n * c * c;
    const float* fn = f + n * c * hw;
    float acc[4][4] = {};
    for (int64_t k0 = 0; k0 < c; k0 += kSlab) {
      stage_rows(sn, c, r0, c, k0, c, as);
      stage_cols(fn, hw, p0, hw, k0, c, bs);
      __syncthreads();
      multiply_stage(as, bs, acc);
      __syncthreads();
    }
    float* out = gf + n * c * hw;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int64_t r = r0 + 4 * ty + i, p = p0 + 4 * tx + j;
        if (r < c && p < hw) out[r * hw + p] = acc[i][j] * scale;
      }
  }
}

unsigned image_grid(int64_t n) { return static_cast<unsigned>(n < 65535 ? n : 65535); }

void cuda_forward(const Tensor& f, Tensor& g) {
  const int64_t n = f.dim(0), c = f.dim(1), hw = f.dim(2) * f.dim(3);
  if (n == 0 || c == 0) return;
  cudaStream_t stream = prepare(f);
  const float scale = static_cast<float>(1.0 / static_cast<double>(hw));
  const int64_t side = (c + kTile - 1) / kTile;
  const int64_t tiles = side * (side + 1) / 2;
  CS_CHECK(tiles <= 0x7fffffff, "gram_forward: " << c << " channels is too many");
  // Split the features when the tiles alone cannot fill the GPU.
  int64_t slices = 1;
  const int64_t work = std::min<int64_t>(n, 65535) * tiles;
  if (work < kTargetBlocks) {
    const int64_t wanted = (kTargetBlocks + work - 1) / work;
    const int64_t most = (hw + kMinSlice - 1) / kMinSlice;
    slices = std::max<int64_t>(1, std::min(wanted, most));
  }
  int64_t slice = (hw + slices - 1) / slices;
  slice = (slice + kSlab - 1) / kSlab * kSlab;
  slices = (hw + slice - 1) / slice;
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(slices), image_grid(n));
  if (slices == 1) {
    cuda::launch(gram_tile_kernel, grid, kThreads, 0, stream, f.data<float>(), n, c, hw, side,
                 slice, scale, false, g.data<float>());
    CS_CUDA_CHECK_LAUNCH("gram_tile_kernel");
    return;
  }
  Tensor partials = Tensor::empty({slices, n, c, c}, f.device());
  cuda::launch(gram_tile_kernel, grid, kThreads, 0, stream, f.data<float>(), n, c, hw, side, slice,
               scale, true, partials.data<float>());
  CS_CUDA_CHECK_LAUNCH("gram_tile_kernel (split)");
  cuda::launch(gram_reduce_kernel, cuda::grid_for(n * c * c, kThreads), kThreads, 0, stream,
               partials.data<float>(), slices, n, c, scale, g.data<float>());
  CS_CUDA_CHECK_LAUNCH("gram_reduce_kernel");
}

void cuda_backward(const Tensor& f, const Tensor& gg, Tensor& gf) {
  const int64_t n = f.dim(0), c = f.dim(1), hw = f.dim(2) * f.dim(3);
  if (n == 0 || c == 0 || hw == 0) return;
  cudaStream_t stream = prepare(f);
  const float scale = static_cast<float>(1.0 / static_cast<double>(hw));
  Tensor sym = Tensor::empty({n, c, c}, f.device());
  cuda::launch(symmetrize_kernel, cuda::grid_for(n * c * c, kThreads), kThreads, 0, stream,
               gg.data<float>(), n, c, sym.data<float>());
  CS_CUDA_CHECK_LAUNCH("symmetrize_kernel");
  const int64_t col_tiles = (hw + kTile - 1) / kTile, row_tiles = (c + kTile - 1) / kTile;
  CS_CHECK(col_tiles <= 0x7fffffff && row_tiles <= 65535,
           "gram_backward: features " << shape_str(f.shape()) << " too large for one launch");
  const dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(row_tiles), image_grid(n));
  cuda::launch(gram_backward_kernel, grid, kThreads, 0, stream, sym.data<float>(), f.data<float>(),
               n, c, hw, scale, gf.data<float>());
  CS_CUDA_CHECK_LAUNCH("gram_backward_kernel");
}

}  // namespace

CS_REGISTER_OP(gram_registry, DeviceType::CUDA, (GramImpl{&cuda_forward, &cuda_backward}))

}  // namespace cs::kernels
