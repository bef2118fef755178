// 2-D convolution on the GPU, with no im2col buffer in global memory.
//
// Variants of the forward pass (conv2d_cuda_variants()):
//   direct                one thread per output element, the obviously-right baseline;
//   implicit_gemm_64x64   implicit GEMM, 64x64 block tile, 4x4 outputs per thread;
//   implicit_gemm_128x128 implicit GEMM, 128x128 block tile, 8x8 outputs per thread;
//   implicit_gemm         production: picks one of the two tiles from the shape.
// Backward-data is an implicit GEMM per stride phase (only the taps that reach
// an output), backward-weight an implicit GEMM whose reduction over N*P*Q is
// split into fixed chunks written to a partials buffer and summed in a fixed
// order; the bias gradient is a fixed-shape block reduction. No float atomics:
// the same input gives the same bits on every run.
//
// The index arithmetic (which element of x, w or gy each thread fetches)
// lives in conv2d_tiles.h, shared with a host emulation in the tests.
#include <algorithm>
#include <climits>

#include "kernels/conv2d_impl.h"
#include "kernels/cuda/conv2d_tiles.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

using namespace conv_tiles;

// Blocks that fill an H100 about twice (132 SMs, two 256-thread blocks each).
// A constant: tile choices and splits depend on the shape, never on the device.
constexpr int64_t kWaveBlocks = 264;

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The block-tile GEMM shared by every implicit-GEMM pass. The block computes
// out[m0 : m0+BM, n0 : n0+BN] = A * B over a reduction of t_len, loading the
// next BK-slice into registers while it multiplies the current one from
// shared memory (double-buffered: one barrier per slice).
template <class Cfg, class ALoader, class BLoader, class Store>
__device__ __forceinline__ void block_gemm(ALoader& a, BLoader& b, int t_len, const Store& out,
                                           int m0, int n0) {
  constexpr int BK = Cfg::BK, TM = Cfg::TM, TN = Cfg::TN;
  CS_SHARED_ALIGNED(16, As, float[2][BK][Cfg::kLdA]);
  CS_SHARED_ALIGNED(16, Bs, float[2][BK][Cfg::kLdB]);
  const int tid = threadIdx.x;
  const int tx = tid % Cfg::kThreadsN, ty = tid / Cfg::kThreadsN;

  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;
  float ra[Cfg::kALoads], rb[Cfg::kBLoads];

  const int tiles = (t_len + BK - 1) / BK;
  if (tiles > 0) {
    a.load(ra);
    b.load(rb);
#pragma unroll
    for (int i = 0; i < Cfg::kALoads; ++i) As[0][ALoader::tile_k(tid, i)][ALoader::tile_mn(tid, i)] = ra[i];
#pragma unroll
    for (int i = 0; i < Cfg::kBLoads; ++i) Bs[0][BLoader::tile_k(tid, i)][BLoader::tile_mn(tid, i)] = rb[i];
    __syncthreads();
  }
  for (int kt = 0; kt < tiles; ++kt) {
    const int cur = kt & 1;
    const bool more = kt + 1 < tiles;
    if (more) {  // global -> registers for the next slice, overlapping the math below
      a.advance();
      b.advance();
      a.load(ra);
      b.load(rb);
    }
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float av[TM], bv[TN];
#pragma unroll
      for (int i = 0; i < TM; i += 4) {
        const float4 v = *reinterpret_cast<const float4*>(&As[cur][kk][Cfg::acc_row(ty, i)]);
        av[i] = v.x, av[i + 1] = v.y, av[i + 2] = v.z, av[i + 3] = v.w;
      }
#pragma unroll
      for (int j = 0; j < TN; j += 4) {
        const float4 v = *reinterpret_cast<const float4*>(&Bs[cur][kk][Cfg::acc_col(tx, j)]);
        bv[j] = v.x, bv[j + 1] = v.y, bv[j + 2] = v.z, bv[j + 3] = v.w;
      }
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    if (more) {  // the other buffer was last read before the previous barrier
#pragma unroll
      for (int i = 0; i < Cfg::kALoads; ++i)
        As[cur ^ 1][ALoader::tile_k(tid, i)][ALoader::tile_mn(tid, i)] = ra[i];
#pragma unroll
      for (int i = 0; i < Cfg::kBLoads; ++i)
        Bs[cur ^ 1][BLoader::tile_k(tid, i)][BLoader::tile_mn(tid, i)] = rb[i];
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; j += 4) {
      const float v[4] = {acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]};
      out.store4(m0 + Cfg::acc_row(ty, i), n0 + Cfg::acc_col(tx, j), v);
    }
}

// ---- forward ------------------------------------------------------------------------

// grid (ceil(N*P*Q / BN), ceil(Kg / BM), groups)
template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, Cfg::kMinBlocks)
    conv_forward_implicit_gemm(const float* __restrict__ x, const float* __restrict__ w,
                               const float* __restrict__ bias, float* __restrict__ y,
                               ConvGeom g, bool vec4) {
  const int group = blockIdx.z, m0 = blockIdx.y * Cfg::BM, n0 = blockIdx.x * Cfg::BN;
  FwdWeightLoader<Cfg> a(w, g, group, m0, threadIdx.x);
  FwdInputLoader<Cfg> b(x, g, group, n0, threadIdx.x);
  const FwdStore out{y, bias, group, g.Kg, g.K, g.P * g.Q, g.N * g.P * g.Q, vec4};
  block_gemm<Cfg>(a, b, g.Cg * g.R * g.S, out, m0, n0);
}

// One thread per output element y[n, k, p, q]; grid-stride over all of them.
__global__ void conv_forward_direct(const float* __restrict__ x, const float* __restrict__ w,
                                    const float* __restrict__ bias, float* __restrict__ y,
                                    ConvGeom g) {
  const int64_t total = static_cast<int64_t>(g.N) * g.K * g.P * g.Q;
  const int64_t HW = static_cast<int64_t>(g.H) * g.W;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int q = static_cast<int>(idx % g.Q);
    const int p = static_cast<int>(idx / g.Q % g.P);
    const int k = static_cast<int>(idx / (static_cast<int64_t>(g.P) * g.Q) % g.K);
    const int n = static_cast<int>(idx / (static_cast<int64_t>(g.K) * g.P * g.Q));
    const int group = k / g.Kg;
    const float* xg = x + (static_cast<int64_t>(n) * g.C + static_cast<int64_t>(group) * g.Cg) * HW;
    const float* wk = w + static_cast<int64_t>(k) * g.Cg * g.R * g.S;
    float acc = 0.0f;
    for (int c = 0; c < g.Cg; ++c)
      for (int r = 0; r < g.R; ++r) {
        const int h = p * g.sh - g.ph + r * g.dh;
        if (h < 0 || h >= g.H) continue;
        for (int s = 0; s < g.S; ++s) {
          const int wi = q * g.sw - g.pw + s * g.dw;
          if (wi < 0 || wi >= g.W) continue;
          acc = fmaf(xg[c * HW + static_cast<int64_t>(h) * g.W + wi], wk[(c * g.R + r) * g.S + s], acc);
        }
      }
    y[idx] = bias ? acc + bias[k] : acc;
  }
}

// ---- backward-data ---------------------------------------------------------------------

// grid (ceil(N*ceil(H/sh)*ceil(W/sw) / BN), ceil(Cg / BM), groups*sh*sw)
template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, Cfg::kMinBlocks)
    conv_backward_data_implicit_gemm(const float* __restrict__ gy, const float* __restrict__ w,
                                     float* __restrict__ gx, ConvGeom g) {
  const int phases = g.sh * g.sw;
  const int group = blockIdx.z / phases, phase = blockIdx.z % phases;
  const BwdDataPhase ph = bwd_data_phase(g, phase);
  const int m0 = blockIdx.y * Cfg::BM, n0 = blockIdx.x * Cfg::BN;
  if (n0 >= ph.cols) return;  // this phase has fewer pixels than phase 0 (whole block)
  BwdDataWeightLoader<Cfg> a(w, g, ph, group, m0, threadIdx.x);
  BwdDataGradLoader<Cfg> b(gy, g, ph, group, n0, threadIdx.x);
  const BwdDataStore out{gx, group, g.Cg, g.C, g.H, g.W, g.sh, g.sw,
                         ph.ah, ph.aw, ph.Hph, ph.Wph, ph.cols};
  block_gemm<Cfg>(a, b, ph.t_end, out, m0, n0);
}

// ---- backward-weight -------------------------------------------------------------------

// grid (ceil(Cg*R*S / BN), ceil(Kg / BM), splits*groups); split s covers
// t in [s*chunk, min((s+1)*chunk, N*P*Q)) and writes partial[s] (K, Cg*R*S).
template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, Cfg::kMinBlocks)
    conv_backward_weight_implicit_gemm(const float* __restrict__ x, const float* __restrict__ gy,
                                       float* __restrict__ partial, ConvGeom g, int chunk,
                                       bool vec4) {
  const int group = blockIdx.z % g.groups, split = blockIdx.z / g.groups;
  const int length = g.N * g.P * g.Q;
  const int t_begin = split * chunk;
  const int t_end = static_cast<int>(min(static_cast<int64_t>(length), static_cast<int64_t>(t_begin) + chunk));
  const int m0 = blockIdx.y * Cfg::BM, n0 = blockIdx.x * Cfg::BN;
  const int crs = g.Cg * g.R * g.S;
  BwdWeightGradLoader<Cfg> a(gy, g, group, m0, t_begin, t_end, threadIdx.x);
  BwdWeightInputLoader<Cfg> b(x, g, group, n0, t_begin, t_end, threadIdx.x);
  const BwdWeightStore out{partial + static_cast<int64_t>(split) * g.K * crs, group, g.Kg, crs,
                           vec4};
  block_gemm<Cfg>(a, b, max(t_end - t_begin, 0), out, m0, n0);
}

// out[i] = sum over s = 0 .. splits-1 of partial[s*n + i], in that order.
__global__ void sum_splits_kernel(const float* __restrict__ partial, int splits, int64_t n,
                                  float* __restrict__ out) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    float acc = 0.0f;
    for (int s = 0; s < splits; ++s) acc += partial[s * n + i];
    out[i] = acc;
  }
}

// ---- bias gradient -----------------------------------------------------------------------

constexpr int kBiasThreads = 256;

// Sum over the block in a fixed tree (valid in thread 0).
__device__ float block_sum(float v) {
  CS_SHARED(warp_sums, float[kBiasThreads / 32]);
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  v = threadIdx.x < kBiasThreads / 32 ? warp_sums[lane] : 0.0f;
  if (warp == 0)
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// grid (K, splits): block (k, s) sums gy[n, k, :, :] for n in its chunk of images
// into partial[s*K + k].
__global__ void __launch_bounds__(kBiasThreads)
    conv_bias_grad_kernel(const float* __restrict__ gy, int N, int K, int PQ, int images_per_split,
                          float* __restrict__ partial) {
  const int k = blockIdx.x, split = blockIdx.y;
  const int n_begin = split * images_per_split, n_end = min(N, n_begin + images_per_split);
  float acc = 0.0f;
  for (int n = n_begin; n < n_end; ++n) {
    const float* plane = gy + (static_cast<int64_t>(n) * K + k) * PQ;
    for (int j = threadIdx.x; j < PQ; j += kBiasThreads) acc += plane[j];
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[static_cast<int64_t>(split) * K + k] = acc;
}

// ---- host side ---------------------------------------------------------------------------

ConvGeom make_geom(const Conv2dGeometry& g, const char* op) {
  const int64_t col_limit = INT_MAX;
  const int64_t h_phase = ceil_div(g.H, g.args.stride_h), w_phase = ceil_div(g.W, g.args.stride_w);
  CS_CHECK(g.N * g.P * g.Q < col_limit && g.N * h_phase * w_phase < col_limit &&
               g.Cg * g.R * g.S < col_limit && g.Kg * g.R * g.S < col_limit && g.C < col_limit &&
               g.K < col_limit && g.H * g.W < col_limit,
           op << ": sizes too large for the CUDA kernels (N*P*Q, Cg*R*S and H*W must stay below 2^31)");
  ConvGeom c;
  c.N = static_cast<int>(g.N), c.C = static_cast<int>(g.C), c.H = static_cast<int>(g.H);
  c.W = static_cast<int>(g.W), c.K = static_cast<int>(g.K), c.R = static_cast<int>(g.R);
  c.S = static_cast<int>(g.S), c.P = static_cast<int>(g.P), c.Q = static_cast<int>(g.Q);
  c.sh = g.args.stride_h, c.sw = g.args.stride_w, c.ph = g.args.pad_h, c.pw = g.args.pad_w;
  c.dh = g.args.dilation_h, c.dw = g.args.dilation_w;
  c.groups = static_cast<int>(g.groups), c.Cg = static_cast<int>(g.Cg), c.Kg = static_cast<int>(g.Kg);
  return c;
}

dim3 checked_grid(int64_t x, int64_t y, int64_t z, const char* op) {
  CS_CHECK(x < INT_MAX && y <= 65535 && z <= 65535,
           op << ": launch grid (" << x << ", " << y << ", " << z << ") exceeds the CUDA limits");
  return dim3(static_cast<unsigned>(x), static_cast<unsigned>(y), static_cast<unsigned>(z));
}

template <class Cfg>
void forward_implicit_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                           const ConvGeom& g, cudaStream_t stream) {
  const dim3 grid = checked_grid(ceil_div(static_cast<int64_t>(g.N) * g.P * g.Q, Cfg::BN),
                                 ceil_div(g.Kg, Cfg::BM), g.groups, "conv2d_forward");
  const bool vec4 = (g.P * g.Q) % 4 == 0 && aligned16(y.data<float>());
  cuda::launch(conv_forward_implicit_gemm<Cfg>, grid, Cfg::kThreads, 0, stream, x.data<float>(),
               w.data<float>(), bias.defined() ? bias.data<float>() : nullptr, y.data<float>(), g,
               vec4);
  CS_CUDA_CHECK_LAUNCH("conv_forward_implicit_gemm");
}

void forward_direct(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    const ConvGeom& g, cudaStream_t stream) {
  constexpr int kThreads = 256;
  cuda::launch(conv_forward_direct, cuda::grid_for(y.numel(), kThreads), kThreads, 0, stream,
               x.data<float>(), w.data<float>(), bias.defined() ? bias.data<float>() : nullptr,
               y.data<float>(), g);
  CS_CUDA_CHECK_LAUNCH("conv_forward_direct");
}

// The production tile: the large one only when its rows are mostly used and
// there are enough large blocks to fill the GPU.
bool use_large_tile(int64_t rows, int64_t cols, int64_t groups) {
  const int64_t blocks = ceil_div(rows, LargeTile::BM) * ceil_div(cols, LargeTile::BN) * groups;
  return rows >= 96 && blocks >= kWaveBlocks;
}

const std::vector<std::string>& variant_list() {
  static const std::vector<std::string> names = {"direct", "implicit_gemm_64x64",
                                                 "implicit_gemm_128x128", "implicit_gemm"};
  return names;
}

std::vector<std::string> cuda_variant_names() { return variant_list(); }

void cuda_forward_variant(const std::string& variant, const Tensor& x, const Tensor& w,
                          const Tensor& bias, Tensor& y, const Conv2dGeometry& geometry) {
  const ConvGeom g = make_geom(geometry, "conv2d_forward");
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  if (variant == "direct") {
    forward_direct(x, w, bias, y, g, stream);
  } else if (variant == "implicit_gemm_64x64") {
    forward_implicit_gemm<SmallTile>(x, w, bias, y, g, stream);
  } else if (variant == "implicit_gemm_128x128") {
    forward_implicit_gemm<LargeTile>(x, w, bias, y, g, stream);
  } else if (variant == "implicit_gemm") {
    if (use_large_tile(g.Kg, static_cast<int64_t>(g.N) * g.P * g.Q, g.groups))
      forward_implicit_gemm<LargeTile>(x, w, bias, y, g, stream);
    else
      forward_implicit_gemm<SmallTile>(x, w, bias, y, g, stream);
  } else {
    CS_FAIL("conv2d: unknown CUDA variant '" << variant << "'");
  }
}

void cuda_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                  const Conv2dGeometry& g) {
  cuda_forward_variant("implicit_gemm", x, w, bias, y, g);
}

template <class Cfg>
void backward_data_implicit_gemm(const Tensor& gy, const Tensor& w, Tensor& gx, const ConvGeom& g,
                                 cudaStream_t stream) {
  // Phase 0 has the most pixels: ceil(H/sh) x ceil(W/sw) per image.
  const int64_t cols = static_cast<int64_t>(g.N) * ceil_div(g.H, g.sh) * ceil_div(g.W, g.sw);
  const dim3 grid = checked_grid(ceil_div(cols, Cfg::BN), ceil_div(g.Cg, Cfg::BM),
                                 static_cast<int64_t>(g.groups) * g.sh * g.sw,
                                 "conv2d_backward_data");
  cuda::launch(conv_backward_data_implicit_gemm<Cfg>, grid, Cfg::kThreads, 0, stream,
               gy.data<float>(), w.data<float>(), gx.data<float>(), g);
  CS_CUDA_CHECK_LAUNCH("conv_backward_data_implicit_gemm");
}

void cuda_backward_data(const Tensor& gy, const Tensor& w, Tensor& gx,
                        const Conv2dGeometry& geometry) {
  const ConvGeom g = make_geom(geometry, "conv2d_backward_data");
  const int device = gx.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const int64_t cols = static_cast<int64_t>(g.N) * ceil_div(g.H, g.sh) * ceil_div(g.W, g.sw);
  if (use_large_tile(g.Cg, cols, static_cast<int64_t>(g.groups) * g.sh * g.sw))
    backward_data_implicit_gemm<LargeTile>(gy, w, gx, g, stream);
  else
    backward_data_implicit_gemm<SmallTile>(gy, w, gx, g, stream);
}

template <class Cfg>
void backward_weight_implicit_gemm(const Tensor& x, const Tensor& gy, Tensor& gw,
                                   const ConvGeom& g, cudaStream_t stream) {
  const int64_t crs = static_cast<int64_t>(g.Cg) * g.R * g.S;
  const int64_t length = static_cast<int64_t>(g.N) * g.P * g.Q;
  const int64_t tiles = ceil_div(g.Kg, Cfg::BM) * ceil_div(crs, Cfg::BN) * g.groups;
  SplitPlan plan = split_plan(length, tiles, Cfg::BK);
  if (static_cast<int64_t>(plan.splits) * g.groups > 65535) {  // grid z limit: fewer, longer chunks
    const int64_t splits = std::max<int64_t>(1, 65535 / g.groups);
    plan.chunk = static_cast<int>(ceil_div(ceil_div(length, splits), Cfg::BK) * Cfg::BK);
    plan.splits = static_cast<int>(ceil_div(length, plan.chunk));
  }
  // One split writes gw directly; more write partials summed in split order.
  Tensor partial = plan.splits == 1 ? gw : Tensor::empty({plan.splits, g.K, crs}, gw.device());
  const dim3 grid = checked_grid(ceil_div(crs, Cfg::BN), ceil_div(g.Kg, Cfg::BM),
                                 static_cast<int64_t>(plan.splits) * g.groups,
                                 "conv2d_backward_weight");
  const bool vec4 = crs % 4 == 0 && aligned16(partial.data<float>());
  cuda::launch(conv_backward_weight_implicit_gemm<Cfg>, grid, Cfg::kThreads, 0, stream,
               x.data<float>(), gy.data<float>(), partial.data<float>(), g, plan.chunk, vec4);
  CS_CUDA_CHECK_LAUNCH("conv_backward_weight_implicit_gemm");
  if (plan.splits > 1) {
    constexpr int kThreads = 256;
    cuda::launch(sum_splits_kernel, cuda::grid_for(gw.numel(), kThreads), kThreads, 0, stream,
                 partial.data<float>(), plan.splits, gw.numel(), gw.data<float>());
    CS_CUDA_CHECK_LAUNCH("sum_splits_kernel");
  }
}

void cuda_backward_weight(const Tensor& x, const Tensor& gy, Tensor& gw,
                          const Conv2dGeometry& geometry) {
  const ConvGeom g = make_geom(geometry, "conv2d_backward_weight");
  const int device = gw.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  // Split-K supplies the blocks, so only the tile's fill matters here.
  const int64_t crs = static_cast<int64_t>(g.Cg) * g.R * g.S;
  if (g.Kg >= 96 && crs >= 96)
    backward_weight_implicit_gemm<LargeTile>(x, gy, gw, g, stream);
  else
    backward_weight_implicit_gemm<SmallTile>(x, gy, gw, g, stream);
}

void cuda_backward_bias(const Tensor& gy, Tensor& gb) {
  const int64_t N = gy.dim(0), K = gy.dim(1), PQ = gy.dim(2) * gy.dim(3);
  CS_CHECK(N < INT_MAX && K < INT_MAX && PQ < INT_MAX,
           "conv2d_backward_bias: gy " << shape_str(gy.shape()) << " too large for the CUDA kernel");
  const int device = gb.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  // Split the batch so that about kWaveBlocks blocks run; fixed by the shape.
  int64_t splits = std::clamp<int64_t>(ceil_div(kWaveBlocks, K), 1, std::max<int64_t>(N, 1));
  splits = std::min<int64_t>(splits, 65535);
  const int64_t per_split = std::max<int64_t>(1, ceil_div(N, splits));
  splits = std::max<int64_t>(1, ceil_div(N, per_split));
  Tensor partial = splits == 1 ? gb : Tensor::empty({splits, K}, gb.device());
  cuda::launch(conv_bias_grad_kernel, dim3(static_cast<unsigned>(K), static_cast<unsigned>(splits)),
               kBiasThreads, 0, stream, gy.data<float>(), static_cast<int>(N), static_cast<int>(K),
               static_cast<int>(PQ), static_cast<int>(per_split), partial.data<float>());
  CS_CUDA_CHECK_LAUNCH("conv_bias_grad_kernel");
  if (splits > 1) {
    constexpr int kThreads = 256;
    cuda::launch(sum_splits_kernel, cuda::grid_for(K, kThreads), kThreads, 0, stream,
                 partial.data<float>(), static_cast<int>(splits), K, gb.data<float>());
    CS_CUDA_CHECK_LAUNCH("sum_splits_kernel");
  }
}

}  // namespace

CS_REGISTER_OP(conv2d_registry, DeviceType::CUDA,
               (Conv2dImpl{&cuda_forward, &cuda_backward_data, &cuda_backward_weight,
                           &cuda_backward_bias, &cuda_variant_names, &cuda_forward_variant}))

}  // namespace cs::kernels
