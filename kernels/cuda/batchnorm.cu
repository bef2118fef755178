// Batch normalization on the GPU (f32). Memory-bound: the training forward
// reads x twice and writes y once; the training backward reads gy and x
// twice and writes gx once. See docs/kernels/normalization.md.
//
// Per-channel reductions run over N*H*W values that are spread over N
// separate runs of H*W (x is (N, C, H, W)). Two reduction kernels, chosen by
// the run length `inner` = H*W:
//   planar (inner >= 32): grid (C, splits); block (c, s) reduces the s-th
//     contiguous chunk of channel c's N*H*W values. Consecutive threads read
//     consecutive addresses inside a run.
//   column (inner < 32, e.g. BatchNorm1d where inner = 1): x seen as a matrix
//     (N, C*inner); a 32-column x 8-row block reduces 32 columns over a band
//     of rows, so a warp reads 32 consecutive floats of one row.
// Each block writes one partial per (channel, split) (per column for the
// column kernel); a finalize kernel (one warp per channel) merges a
// channel's partials in a fixed order. The grid depends only on the shape
// and every merge tree has a fixed shape, so the result is the same bits
// every run; no atomics.
//
// Forward statistics: Welford states merged with Chan's formula (no
// sum-of-squares cancellation), computed on d = x - K_c where K_c is the
// first value of channel c. For data such as 1e4 + noise, x - K_c is exact
// and small, so mean(d) keeps full precision; the output is computed as
// ((x - K_c) - mean(d)) * scale + beta and never rounds the mean to a float
// of magnitude 1e4. The per-channel scalars (invstd, running statistics)
// are finished in double.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/batchnorm.h"
#include "kernels/cuda/channel_stats.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kUnroll = 4;               // loads in flight per thread and loop trip
constexpr int64_t kTargetBlocks = 1024;  // ~8 blocks of 256 threads on each of 132 SMs
constexpr int64_t kMinPerBlock = 4096;   // planar: at least 16 values per thread
constexpr int kColumnInnerLimit = 32;    // runs shorter than a warp: column kernel
constexpr int kColTile = 32;             // column kernel: 32 columns ...
constexpr int kColRows = 8;              // ... x 8 row lanes = 256 threads
constexpr int64_t kMinRowsPerSplit = 64;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- reduction plan: depends only on the shape ---------------------------------------

struct ReducePlan {
  bool column = false;
  int64_t splits = 1;  // blocks per channel (planar) or bands of rows (column)
  int64_t chunk = 0;   // planar: values per block; column: rows per band
  int64_t parts = 1;   // partials per channel: splits (planar) or splits * inner (column)
};

ReducePlan plan_for(const BatchNormDims& d) {
  ReducePlan p;
  p.column = d.inner < kColumnInnerLimit;
  if (!p.column) {
    int64_t s = std::min(ceil_div(kTargetBlocks, d.channels), ceil_div(d.count(), kMinPerBlock));
    p.splits = std::max<int64_t>(1, s);
    p.chunk = ceil_div(d.count(), p.splits);
    p.parts = p.splits;
  } else {
    const int64_t tiles = ceil_div(d.channels * d.inner, kColTile);
    int64_t s = std::min(ceil_div(kTargetBlocks, tiles), ceil_div(d.outer, kMinRowsPerSplit));
    p.splits = std::max<int64_t>(1, s);
    p.chunk = ceil_div(d.outer, p.splits);
    p.parts = p.splits * d.inner;
  }
  return p;
}

// ---- reduction policies ----------------------------------------------------------------
// A policy says what one value of channel c contributes and how states merge:
//   Ctx  per-channel constants, read once per thread;
//   load(ctx, a)  the value(s) at flat address a;
//   add(state, v) / add4(state, v[4]) / merge(state, other);
//   shfl_down(state, offset) for the warp trees; store(part, state).

// Forward: Welford of d = x - K_c.
struct StatsPolicy {
  using State = Welford;
  using Value = float;
  struct Ctx {
    float shift;
  };
  const float* __restrict__ x;
  float* part_n;
  float* part_mean;
  float* part_m2;

  __device__ Ctx context(int64_t c, int64_t inner) const { return Ctx{__ldg(x + c * inner)}; }
  __device__ Value load(const Ctx& ctx, int64_t a) const { return __ldg(x + a) - ctx.shift; }
  __device__ static void add(State& s, Value v) { s.add(v); }
  __device__ static void add4(State& s, const Value (&v)[kUnroll]) { s.add4(v[0], v[1], v[2], v[3]); }
  __device__ static void merge(State& s, const State& o) { s.merge(o); }
  __device__ static State shfl_down(const State& s, int offset) {
    State o;
    o.n = __shfl_down_sync(0xffffffffu, s.n, offset);
    o.mean = __shfl_down_sync(0xffffffffu, s.mean, offset);
    o.m2 = __shfl_down_sync(0xffffffffu, s.m2, offset);
    return o;
  }
  __device__ void store(int64_t part, const State& s) const {
    part_n[part] = s.n;
    part_mean[part] = s.mean;
    part_m2[part] = s.m2;
  }
};

// Backward: sum(gy) and sum(gy * (x - mean_c)).
struct GradSums {  // trivial (shared memory); empty state: GradSums{}
  float sg, sgd;
};
struct GradPolicy {
  using State = GradSums;
  struct Value {
    float g, d;
  };
  struct Ctx {
    float mean;
  };
  const float* __restrict__ gy;
  const float* __restrict__ x;
  const float* __restrict__ mean;  // (C): the statistics the backward differentiates through
  float* part_sg;
  float* part_sgd;

  __device__ Ctx context(int64_t c, int64_t) const { return Ctx{__ldg(mean + c)}; }
  __device__ Value load(const Ctx& ctx, int64_t a) const {
    return Value{__ldg(gy + a), __ldg(x + a) - ctx.mean};
  }
  __device__ static void add(State& s, Value v) {
    s.sg += v.g;
    s.sgd += v.g * v.d;
  }
  __device__ static void add4(State& s, const Value (&v)[kUnroll]) {
    s.sg += (v[0].g + v[1].g) + (v[2].g + v[3].g);
    s.sgd += (v[0].g * v[0].d + v[1].g * v[1].d) + (v[2].g * v[2].d + v[3].g * v[3].d);
  }
  __device__ static void merge(State& s, const State& o) {
    s.sg += o.sg;
    s.sgd += o.sgd;
  }
  __device__ static State shfl_down(const State& s, int offset) {
    State o;
    o.sg = __shfl_down_sync(0xffffffffu, s.sg, offset);
    o.sgd = __shfl_down_sync(0xffffffffu, s.sgd, offset);
    return o;
  }
  __device__ void store(int64_t part, const State& s) const {
    part_sg[part] = s.sg;
    part_sgd[part] = s.sgd;
  }
};

// Merges the states of a whole block into thread 0, in a fixed tree.
template <typename P>
__device__ typename P::State block_merge(typename P::State s) {
  using State = typename P::State;
  CS_SHARED(warp_states, State[kWarps]);
  for (int offset = 16; offset > 0; offset /= 2) P::merge(s, P::shfl_down(s, offset));
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_states[warp] = s;
  __syncthreads();
  if (warp == 0) {
    s = lane < kWarps ? warp_states[lane] : State{};
    for (int offset = 16; offset > 0; offset /= 2) P::merge(s, P::shfl_down(s, offset));
  }
  return s;
}

// Planar reduction. Block (c = blockIdx.x, s = blockIdx.y) covers the values
// q in [s*chunk, min(count, (s+1)*chunk)) of channel c, q = n*inner + i at
// address n*plane + c*inner + i.
template <typename P, bool kFast>
__global__ void __launch_bounds__(kThreads)
    planar_reduce_kernel(P policy, int64_t inner, int64_t plane, FastDivmod inner_div,
                         int64_t count, int64_t chunk, int64_t parts) {
  const int64_t c = blockIdx.x;
  const int64_t split = blockIdx.y;
  const typename P::Ctx ctx = policy.context(c, inner);
  const int64_t base = c * inner;
  const int64_t begin = split * chunk;
  const int64_t end = std::min(count, begin + chunk);
  auto address = [&](int64_t q) -> int64_t {
    const int64_t n = kFast ? static_cast<int64_t>(inner_div.div(static_cast<uint32_t>(q))) : q / inner;
    return base + n * plane + (q - n * inner);
  };
  typename P::State state{};
  int64_t q = begin + threadIdx.x;
  for (; q + (kUnroll - 1) * kThreads < end; q += kUnroll * kThreads) {
    typename P::Value v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) v[u] = policy.load(ctx, address(q + u * kThreads));
    P::add4(state, v);
  }
  for (; q < end; q += kThreads) P::add(state, policy.load(ctx, address(q)));
  state = block_merge<P>(state);
  if (threadIdx.x == 0) policy.store(c * parts + split, state);
}

// Column reduction. x as a matrix (outer, K = channels*inner); block
// (blockIdx.x, s = blockIdx.y) reduces columns k = blockIdx.x*32 + tx over
// rows [s*chunk, (s+1)*chunk), each row lane ty taking every 8th row; the
// 8 lanes of a column merge in order 0..7. Partial of column k = c*inner + i
// in band s: c*parts + s*inner + i.
template <typename P>
__global__ void __launch_bounds__(kColTile * kColRows)
    column_reduce_kernel(P policy, int64_t channels, int64_t inner, int64_t outer, int64_t chunk,
                         int64_t parts) {
  using State = typename P::State;
  CS_SHARED(lanes, State[kColRows][kColTile]);
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t width = channels * inner;
  const int64_t k = static_cast<int64_t>(blockIdx.x) * kColTile + tx;
  const int64_t split = blockIdx.y;
  const int64_t row_begin = split * chunk;
  const int64_t row_end = std::min(outer, row_begin + chunk);
  State state{};
  if (k < width) {
    const int64_t c = k / inner;
    const typename P::Ctx ctx = policy.context(c, inner);
    int64_t n = row_begin + ty;
    for (; n + (kUnroll - 1) * kColRows < row_end; n += kUnroll * kColRows) {
      typename P::Value v[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) v[u] = policy.load(ctx, (n + u * kColRows) * width + k);
      P::add4(state, v);
    }
    for (; n < row_end; n += kColRows) P::add(state, policy.load(ctx, n * width + k));
  }
  lanes[ty][tx] = state;
  __syncthreads();
  if (ty == 0 && k < width) {
    for (int r = 1; r < kColRows; ++r) P::merge(state, lanes[r][tx]);
    const int64_t c = k / inner, i = k - c * inner;
    policy.store(c * parts + split * inner + i, state);
  }
}

template <typename P>
void launch_reduce(const P& policy, const BatchNormDims& d, const ReducePlan& plan,
                   cudaStream_t stream) {
  if (!plan.column) {
    const dim3 grid(static_cast<unsigned>(d.channels), static_cast<unsigned>(plan.splits));
    const int64_t plane = d.channels * d.inner;
    if (d.count() <= std::numeric_limits<int32_t>::max()) {
      const FastDivmod inner_div(static_cast<uint32_t>(d.inner));
      cuda::launch(planar_reduce_kernel<P, true>, grid, kThreads, 0, stream, policy, d.inner, plane,
                   inner_div, d.count(), plan.chunk, plan.parts);
    } else {
      cuda::launch(planar_reduce_kernel<P, false>, grid, kThreads, 0, stream, policy, d.inner,
                   plane, FastDivmod{}, d.count(), plan.chunk, plan.parts);
    }
    CS_CUDA_CHECK_LAUNCH("batch_norm planar_reduce_kernel");
  } else {
    const dim3 grid(static_cast<unsigned>(ceil_div(d.channels * d.inner, kColTile)),
                    static_cast<unsigned>(plan.splits));
    cuda::launch(column_reduce_kernel<P>, grid, dim3(kColTile, kColRows), 0, stream, policy,
                 d.channels, d.inner, d.outer, plan.chunk, plan.parts);
    CS_CUDA_CHECK_LAUNCH("batch_norm column_reduce_kernel");
  }
}

// ---- finalize: one warp per channel merges its partials in a fixed order --------------

__global__ void __launch_bounds__(kThreads)
    stats_finalize_kernel(const float* __restrict__ x, int64_t channels, int64_t inner,
                          int64_t parts, const float* __restrict__ part_n,
                          const float* __restrict__ part_mean, const float* __restrict__ part_m2,
                          double count, double momentum, double eps,
                          const float* __restrict__ gamma, const float* __restrict__ beta,
                          float* running_mean, float* running_var, float* save_mean,
                          float* save_invstd, float4* params) {
  const int lane = threadIdx.x % 32;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (c >= channels) return;  // the whole warp leaves together
  Welford w{};
  for (int64_t j = lane; j < parts; j += 32)
    w.merge(part_n[c * parts + j], part_mean[c * parts + j], part_m2[c * parts + j]);
  for (int offset = 16; offset > 0; offset /= 2) {
    const float n = __shfl_down_sync(0xffffffffu, w.n, offset);
    const float m = __shfl_down_sync(0xffffffffu, w.mean, offset);
    const float m2 = __shfl_down_sync(0xffffffffu, w.m2, offset);
    w.merge(n, m, m2);
  }
  if (lane != 0) return;
  const double shift = x[c * inner];  // K_c, as the reduction used
  const double mean = shift + static_cast<double>(w.mean);
  const double var = std::max(0.0, static_cast<double>(w.m2) / count);  // biased: normalizes
  const double invstd = 1.0 / std::sqrt(var + eps);
  save_mean[c] = static_cast<float>(mean);
  save_invstd[c] = static_cast<float>(invstd);
  // PyTorch's running estimates use the unbiased variance.
  running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * mean);
  running_var[c] =
      static_cast<float>((1 - momentum) * running_var[c] + momentum * var * count / (count - 1));
  params[c] = make_float4(static_cast<float>(shift), w.mean,
                          static_cast<float>(static_cast<double>(gamma[c]) * invstd), beta[c]);
}

// Backward sums. Train: ggamma = invstd * sum(gy * (x - mean)), gbeta = sum(gy),
// gx = k1 * ((gy - mg) - (x - mean) * c2) with k1 = gamma * invstd,
// mg = gbeta / m, c2 = invstd * ggamma / m (m values per channel).
// Eval (train == false): invstd from running_var; gx = gy * gamma * invstd.
__global__ void __launch_bounds__(kThreads)
    grad_finalize_kernel(bool train, int64_t channels, int64_t parts,
                         const float* __restrict__ part_sg, const float* __restrict__ part_sgd,
                         double count, double eps, const float* __restrict__ gamma,
                         const float* __restrict__ mean, const float* __restrict__ invstd_or_var,
                         float* ggamma, float* gbeta, float4* params) {
  const int lane = threadIdx.x % 32;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (c >= channels) return;
  double sg = 0, sgd = 0;
  for (int64_t j = lane; j < parts; j += 32) {
    sg += part_sg[c * parts + j];
    sgd += part_sgd[c * parts + j];
  }
  for (int offset = 16; offset > 0; offset /= 2) {
    sg += __shfl_down_sync(0xffffffffu, sg, offset);
    sgd += __shfl_down_sync(0xffffffffu, sgd, offset);
  }
  if (lane != 0) return;
  const double invstd = train ? static_cast<double>(invstd_or_var[c])
                              : 1.0 / std::sqrt(static_cast<double>(invstd_or_var[c]) + eps);
  const double sum_gxhat = sgd * invstd;
  ggamma[c] = static_cast<float>(sum_gxhat);
  gbeta[c] = static_cast<float>(sg);
  const double k1 = static_cast<double>(gamma[c]) * invstd;
  if (train) {
    params[c] = make_float4(mean[c], static_cast<float>(k1), static_cast<float>(sg / count),
                            static_cast<float>(invstd * sum_gxhat / count));
  } else {
    params[c] = make_float4(static_cast<float>(k1), 0.0f, 0.0f, 0.0f);
  }
}

// Eval forward: y = (x - running_mean) * (gamma * invstd) + beta.
__global__ void eval_params_kernel(int64_t channels, const float* __restrict__ gamma,
                                   const float* __restrict__ beta,
                                   const float* __restrict__ running_mean,
                                   const float* __restrict__ running_var, double eps,
                                   float4* params) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
  params[c] = make_float4(running_mean[c], 0.0f,
                          static_cast<float>(static_cast<double>(gamma[c]) * invstd), beta[c]);
}

// ---- elementwise passes with a per-channel float4 of constants -------------------------

// y = ((x - p.x) - p.y) * p.z + p.w: training (K_c, mean(d), gamma*invstd, beta)
// and eval (running_mean, 0, gamma*invstd, beta).
struct NormalizeOp {
  __device__ float operator()(float x, float, const float4& p) const {
    return ((x - p.x) - p.y) * p.z + p.w;
  }
};
// Training backward: gx = k1 * ((gy - mg) - (x - mean) * c2), p = (mean, k1, mg, c2).
struct TrainBackwardOp {
  __device__ float operator()(float gy, float x, const float4& p) const {
    return p.y * ((gy - p.z) - (x - p.x) * p.w);
  }
};
// Eval backward: gx = gy * (gamma * invstd).
struct EvalBackwardOp {
  __device__ float operator()(float gy, float, const float4& p) const { return gy * p.x; }
};

// Flat index j -> channel (j / inner) % channels.
template <bool kFast>
struct ChannelOf {
  FastDivmod inner_div, channel_div;
  int64_t inner, channels;
  __device__ void row_of(int64_t j, int64_t& row, int64_t& i) const {
    if (kFast) {
      row = inner_div.div(static_cast<uint32_t>(j));
    } else {
      row = j / inner;
    }
    i = j - row * inner;
  }
  __device__ int64_t channel_of_row(int64_t row) const {
    if (kFast) return channel_div.mod(static_cast<uint32_t>(row));
    return row % channels;
  }
};

// out[j] = op(a[j], b[j], params[channel(j)]); b may be null (op ignores it).
// No __restrict__ on a, b, out: in-place calls (out == a) are fine, since
// each element is read and written by the same thread.
// float4 loads and stores when every pointer is 16-byte aligned; inside a
// vector the (row, channel) pair is stepped forward, one division per vector.
template <typename Op, bool kFast>
__global__ void __launch_bounds__(kThreads)
    channel_map_kernel(const float* a, const float* b, float* out, int64_t n, bool vectorized,
                       ChannelOf<kFast> ch,
                       const float4* __restrict__ params, Op op) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    for (int64_t v = first; v < n4; v += stride) {
      int64_t row, i;
      ch.row_of(4 * v, row, i);
      int64_t c = ch.channel_of_row(row);
      const float4 av = reinterpret_cast<const float4*>(a)[v];
      const float4 bv = b ? reinterpret_cast<const float4*>(b)[v] : make_float4(0, 0, 0, 0);
      const float ain[4] = {av.x, av.y, av.z, av.w};
      const float bin[4] = {bv.x, bv.y, bv.z, bv.w};
      float res[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        if (e > 0 && ++i == ch.inner) {  // next run: next channel (wrapping to 0 at a new sample)
          i = 0;
          if (++c == ch.channels) c = 0;
        }
        res[e] = op(ain[e], bin[e], __ldg(params + c));
      }
      reinterpret_cast<float4*>(out)[v] = make_float4(res[0], res[1], res[2], res[3]);
    }
    done = n4 * 4;
  }
  for (int64_t j = done + first; j < n; j += stride) {
    int64_t row, i;
    ch.row_of(j, row, i);
    const float4 p = __ldg(params + ch.channel_of_row(row));
    out[j] = op(a[j], b ? b[j] : 0.0f, p);
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

template <typename Op>
void launch_channel_map(const float* a, const float* b, float* out, const BatchNormDims& d,
                        const float4* params, Op op, cudaStream_t stream) {
  const int64_t n = d.outer * d.channels * d.inner;
  if (n == 0) return;
  const bool vec = aligned16(a) && (!b || aligned16(b)) && aligned16(out);
  const unsigned grid = cuda::grid_for(vec ? (n + 3) / 4 : n, kThreads);
  if (n <= std::numeric_limits<int32_t>::max()) {
    ChannelOf<true> ch{FastDivmod(static_cast<uint32_t>(d.inner)),
                       FastDivmod(static_cast<uint32_t>(d.channels)), d.inner, d.channels};
    cuda::launch(channel_map_kernel<Op, true>, grid, kThreads, 0, stream, a, b, out, n, vec, ch,
                 params, op);
  } else {
    ChannelOf<false> ch{FastDivmod{}, FastDivmod{}, d.inner, d.channels};
    cuda::launch(channel_map_kernel<Op, false>, grid, kThreads, 0, stream, a, b, out, n, vec, ch,
                 params, op);
  }
  CS_CUDA_CHECK_LAUNCH("batch_norm channel_map_kernel");
}

float4* as_float4(Tensor& t) { return reinterpret_cast<float4*>(t.data<float>()); }

unsigned finalize_grid(int64_t channels) { return static_cast<unsigned>(ceil_div(channels, kWarps)); }

// ---- the four entry points --------------------------------------------------------------

void cuda_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& rm,
                        Tensor& rv, double momentum, double eps, Tensor& y, Tensor& save_mean,
                        Tensor& save_invstd, const BatchNormDims& d) {
  if (d.channels == 0) return;  // count() > 1 is checked, so the channels hold values
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const ReducePlan plan = plan_for(d);
  const int64_t np = d.channels * plan.parts;
  Tensor partials = Tensor::empty({3 * np}, x.device());
  Tensor params = Tensor::empty({4 * d.channels}, x.device());
  float* pp = partials.data<float>();
  launch_reduce(StatsPolicy{x.data<float>(), pp, pp + np, pp + 2 * np}, d, plan, stream);
  cuda::launch(stats_finalize_kernel, finalize_grid(d.channels), kThreads, 0, stream,
               x.data<float>(), d.channels, d.inner, plan.parts, pp, pp + np, pp + 2 * np,
               static_cast<double>(d.count()), momentum, eps, gamma.data<float>(),
               beta.data<float>(), rm.data<float>(), rv.data<float>(), save_mean.data<float>(),
               save_invstd.data<float>(), as_float4(params));
  CS_CUDA_CHECK_LAUNCH("batch_norm stats_finalize_kernel");
  launch_channel_map(x.data<float>(), nullptr, y.data<float>(), d, as_float4(params),
                     NormalizeOp{}, stream);
}

void cuda_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm,
                       const Tensor& rv, double eps, Tensor& y, const BatchNormDims& d) {
  if (d.channels == 0 || d.count() == 0) return;
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  Tensor params = Tensor::empty({4 * d.channels}, x.device());
  cuda::launch(eval_params_kernel, cuda::grid_for(d.channels, kThreads), kThreads, 0, stream,
               d.channels, gamma.data<float>(), beta.data<float>(), rm.data<float>(),
               rv.data<float>(), eps, as_float4(params));
  CS_CUDA_CHECK_LAUNCH("batch_norm eval_params_kernel");
  launch_channel_map(x.data<float>(), nullptr, y.data<float>(), d, as_float4(params),
                     NormalizeOp{}, stream);
}

// Shared by both backwards: the per-channel sums, their finalize, then gx.
template <typename Op>
void backward_common(bool train, const Tensor& gy, const Tensor& x, const Tensor& gamma,
                     const Tensor& mean, const Tensor& invstd_or_var, double eps, Tensor& gx,
                     Tensor& ggamma, Tensor& gbeta, const BatchNormDims& d, Op op) {
  if (d.channels == 0) return;
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  if (d.count() == 0) {  // no values: the sums are zero and gx is empty
    CS_CUDA_CHECK(cudaMemsetAsync(ggamma.data<float>(), 0, ggamma.nbytes(), stream));
    CS_CUDA_CHECK(cudaMemsetAsync(gbeta.data<float>(), 0, gbeta.nbytes(), stream));
    return;
  }
  const ReducePlan plan = plan_for(d);
  const int64_t np = d.channels * plan.parts;
  Tensor partials = Tensor::empty({2 * np}, x.device());
  Tensor params = Tensor::empty({4 * d.channels}, x.device());
  float* pp = partials.data<float>();
  launch_reduce(GradPolicy{gy.data<float>(), x.data<float>(), mean.data<float>(), pp, pp + np}, d,
                plan, stream);
  cuda::launch(grad_finalize_kernel, finalize_grid(d.channels), kThreads, 0, stream, train,
               d.channels, plan.parts, pp, pp + np, static_cast<double>(d.count()), eps,
               gamma.data<float>(), mean.data<float>(), invstd_or_var.data<float>(),
               ggamma.data<float>(), gbeta.data<float>(), as_float4(params));
  CS_CUDA_CHECK_LAUNCH("batch_norm grad_finalize_kernel");
  launch_channel_map(gy.data<float>(), train ? x.data<float>() : nullptr, gx.data<float>(), d,
                     as_float4(params), op, stream);
}

void cuda_backward_train(const Tensor& gy, const Tensor& x, const Tensor& gamma,
                         const Tensor& save_mean, const Tensor& save_invstd, Tensor& gx,
                         Tensor& ggamma, Tensor& gbeta, const BatchNormDims& d) {
  backward_common(true, gy, x, gamma, save_mean, save_invstd, 0.0, gx, ggamma, gbeta, d,
                  TrainBackwardOp{});
}

void cuda_backward_eval(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& rm,
                        const Tensor& rv, double eps, Tensor& gx, Tensor& ggamma, Tensor& gbeta,
                        const BatchNormDims& d) {
  backward_common(false, gy, x, gamma, rm, rv, eps, gx, ggamma, gbeta, d, EvalBackwardOp{});
}

}  // namespace

CS_REGISTER_OP(batchnorm_registry, DeviceType::CUDA,
               (BatchNormImpl{&cuda_forward_train, &cuda_forward_eval, &cuda_backward_train,
                              &cuda_backward_eval}))

}  // namespace cs::kernels
