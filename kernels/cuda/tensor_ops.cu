// Broadcasts, axis reductions and row selections on the GPU. Every result is
// deterministic: reductions add in an order fixed by the shape (no float
// atomics), and selections compare (value, index) pairs under a total order.
//
//  add_channel_bias   elementwise, float4 when the trailing size allows it
//  sum_axis           rows (inner == 1): a warp (or a block, long rows) per
//                     output; otherwise 32 outputs per block, 8 threads per
//                     output summing interleaved shares, added in fixed order
//  max_over_channels  a thread per (n, pixel), channels in order
//  l2_norm            fixed-grid partial sums, then one block adds them
//  argmax_rows        a warp (short rows) or a block (long rows) per row
//  topk_rows          k == 1: the argmax kernel. k > 1: one block per row,
//                     radix selection of the k-th largest key (4 passes of
//                     8 bits, histograms in shared memory), one ordered pass
//                     collecting the k winners (ties at the threshold taken
//                     lowest index first), a bitonic sort of the k winners
//  gather_rows        a flat copy in the widest unit the row size and the
//                     pointers allow (16, 8, 4 or 1 bytes)
//  u8_to_float        a thread per 4 pixels when aligned
#include <algorithm>
#include <climits>

#include "kernels/cuda/row_reduce.cuh"
#include "kernels/tensor_ops.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int64_t kWarpRowMax = 1024;  // rows up to this length: a warp each

cudaStream_t prepare(const Tensor& t) {
  cuda::set_device(t.device().index);
  return cuda::current_stream(t.device().index);
}

bool aligned(const void* p, unsigned bytes) {
  return (reinterpret_cast<uintptr_t>(p) % bytes) == 0;
}

#define CS_GRID_STRIDE_LOOP(i, n)                                                         \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// ---- add_channel_bias -----------------------------------------------------------------------

__global__ void add_bias_kernel(float* y, const float* bias, int64_t total, int64_t channels,
                                int64_t inner) {
  CS_GRID_STRIDE_LOOP(i, total) y[i] += bias[(i / inner) % channels];
}

// inner % 4 == 0: the four elements of a float4 share a channel.
__global__ void add_bias4_kernel(float4* y, const float* bias, int64_t total4, int64_t channels,
                                 int64_t inner) {
  CS_GRID_STRIDE_LOOP(i, total4) {
    const float b = bias[(i * 4 / inner) % channels];
    float4 v = y[i];
    v.x += b;
    v.y += b;
    v.z += b;
    v.w += b;
    y[i] = v;
  }
}

void cuda_add_channel_bias(Tensor& y, const Tensor& bias, const AxisView& v) {
  const int64_t total = y.numel();
  cudaStream_t stream = prepare(y);
  float* py = y.data<float>();
  if (v.inner % 4 == 0 && aligned(py, 16)) {
    cuda::launch(add_bias4_kernel, cuda::grid_for(total / 4, kThreads), kThreads, 0, stream,
                 reinterpret_cast<float4*>(py), bias.data<float>(), total / 4, v.size, v.inner);
  } else {
    cuda::launch(add_bias_kernel, cuda::grid_for(total, kThreads), kThreads, 0, stream, py,
                 bias.data<float>(), total, v.size, v.inner);
  }
  CS_CUDA_CHECK_LAUNCH("add_bias_kernel");
}

// ---- sum_axis ---------------------------------------------------------------------------------

// inner == 1, short rows: out[row] = scale * sum of x[row, :], a warp per row.
__global__ void sum_rows_warp_kernel(const float* x, int64_t rows, int64_t size, float scale,
                                     float* out) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float* xr = x + row * size;
  float acc = 0.0f;
  for (int64_t j = lane; j < size; j += 32) acc += xr[j];
  acc = rowred::warp_sum(acc);
  if (lane == 0) out[row] = acc * scale;
}

// inner == 1, long rows: a block per row.
__global__ void sum_rows_block_kernel(const float* x, int64_t rows, int64_t size, float scale,
                                      float* out) {
  CS_SHARED(scratch, float[kWarps]);
  const rowred::BlockReducer<kThreads> r{scratch};
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* xr = x + row * size;
    float acc = 0.0f;
    for (int64_t j = threadIdx.x; j < size; j += kThreads) acc += xr[j];
    acc = r.sum(acc);
    if (threadIdx.x == 0) out[row] = acc * scale;
  }
}

// inner > 1: block (32, 8); threadIdx.x picks one of 32 consecutive inner
// positions (coalesced), threadIdx.y one of 8 interleaved shares of the axis.
// grid.x: inner tiles; grid.y: outer (strided).
__global__ void sum_columns_kernel(const float* x, int64_t outer, int64_t size, int64_t inner,
                                   float scale, float* out) {
  CS_SHARED(partial, float[8][33]);
  const int64_t i = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    float acc = 0.0f;
    if (i < inner)
      for (int64_t a = threadIdx.y; a < size; a += 8) acc += x[(o * size + a) * inner + i];
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && i < inner) {
      float total = partial[0][threadIdx.x];
      for (int s = 1; s < 8; ++s) total += partial[s][threadIdx.x];
      out[o * inner + i] = total * scale;
    }
    __syncthreads();
  }
}

void cuda_sum_axis(const Tensor& x, const AxisView& v, double scale_d, Tensor& out) {
  if (v.outer * v.inner == 0) return;
  cudaStream_t stream = prepare(x);
  const float scale = static_cast<float>(scale_d);
  const float* px = x.data<float>();
  float* po = out.data<float>();
  if (v.inner == 1 && v.size <= kWarpRowMax) {
    const int64_t blocks = (v.outer + kWarps - 1) / kWarps;
    CS_CHECK(blocks <= INT_MAX, "sum_axis: too many rows (" << v.outer << ")");
    cuda::launch(sum_rows_warp_kernel, static_cast<unsigned>(blocks), kThreads, 0, stream, px,
                 v.outer, v.size, scale, po);
    CS_CUDA_CHECK_LAUNCH("sum_rows_warp_kernel");
  } else if (v.inner == 1) {
    cuda::launch(sum_rows_block_kernel, cuda::grid_for(v.outer, 1, 1LL << 20), kThreads, 0, stream,
                 px, v.outer, v.size, scale, po);
    CS_CUDA_CHECK_LAUNCH("sum_rows_block_kernel");
  } else {
    const int64_t tiles = (v.inner + 31) / 32;
    CS_CHECK(tiles <= INT_MAX, "sum_axis: inner size " << v.inner << " too large");
    const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(std::min<int64_t>(v.outer, 65535)));
    cuda::launch(sum_columns_kernel, grid, dim3(32, 8), 0, stream, px, v.outer, v.size, v.inner,
                 scale, po);
    CS_CUDA_CHECK_LAUNCH("sum_columns_kernel");
  }
}

// ---- max_over_channels ---------------------------------------------------------------------

__global__ void max_channels_kernel(const float* x, int64_t n, int64_t c, int64_t hw, float* out) {
  CS_GRID_STRIDE_LOOP(e, n * hw) {
    const int64_t img = e / hw, p = e % hw;
    const float* base = x + img * c * hw + p;
    float best = base[0];
    for (int64_t k = 1; k < c; ++k) {
      const float v = base[k * hw];
      best = best < v ? v : best;  // std::max(best, v), as the CPU reference
    }
    out[e] = best;
  }
}

void cuda_max_over_channels(const Tensor& x, Tensor& out) {
  const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  cuda::launch(max_channels_kernel, cuda::grid_for(n * hw, kThreads), kThreads, 0, prepare(x),
               x.data<float>(), n, c, hw, out.data<float>());
  CS_CUDA_CHECK_LAUNCH("max_channels_kernel");
}

// ---- l2_norm ----------------------------------------------------------------------------------

constexpr int kMaxPartials = 1024;

__global__ void squares_partial_kernel(const float* x, int64_t n, float* partials) {
  CS_SHARED(scratch, float[kWarps]);
  float acc = 0.0f;
  CS_GRID_STRIDE_LOOP(i, n) acc += x[i] * x[i];
  acc = rowred::BlockReducer<kThreads>{scratch}.sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

__global__ void sqrt_of_sum_kernel(const float* partials, int count, float* out) {
  CS_SHARED(scratch, float[kWarps]);
  float acc = 0.0f;
  for (int i = threadIdx.x; i < count; i += kThreads) acc += partials[i];
  acc = rowred::BlockReducer<kThreads>{scratch}.sum(acc);
  if (threadIdx.x == 0) out[0] = sqrtf(acc);
}

void cuda_l2_norm(const Tensor& x, Tensor& out) {
  cudaStream_t stream = prepare(out);
  const int64_t n = x.numel();
  // The number of partials depends on n only: the same order every run.
  const int blocks = static_cast<int>(
      std::min<int64_t>(kMaxPartials, std::max<int64_t>(1, (n + kThreads - 1) / kThreads)));
  Tensor partials = Tensor::empty({blocks}, out.device());
  cuda::launch(squares_partial_kernel, blocks, kThreads, 0, stream,
               n > 0 ? x.data<float>() : nullptr, n, partials.data<float>());
  CS_CUDA_CHECK_LAUNCH("squares_partial_kernel");
  cuda::launch(sqrt_of_sum_kernel, 1, kThreads, 0, stream, partials.data<float>(), blocks,
               out.data<float>());
  CS_CUDA_CHECK_LAUNCH("sqrt_of_sum_kernel");
}

// ---- argmax_rows (and topk with k == 1) ----------------------------------------------------

// The best (value, index) so far; index < 0: none. The larger value wins, the
// lower index on equal values: a total order, so any combining order gives
// the same answer. NaNs are skipped (see the CPU reference).
struct Best {
  float value;
  int index;
};

__device__ __forceinline__ Best better(Best a, Best b) {
  if (b.index < 0) return a;
  if (a.index < 0) return b;
  return (b.value > a.value || (b.value == a.value && b.index < a.index)) ? b : a;
}

__device__ __forceinline__ Best warp_best(Best b) {
  for (int offset = 16; offset > 0; offset /= 2) {
    Best other;
    other.value = __shfl_xor_sync(rowred::kFullMask, b.value, offset);
    other.index = __shfl_xor_sync(rowred::kFullMask, b.index, offset);
    b = better(b, other);
  }
  return b;
}

__device__ __forceinline__ Best scan_row(const float* xr, int64_t k, int first, int step) {
  Best b{0.0f, -1};
  for (int64_t j = first; j < k; j += step) {
    const float v = xr[j];
    if (!isnan(v) && (b.index < 0 || v > b.value)) b = Best{v, static_cast<int>(j)};
  }
  return b;
}

// The CPU reference's answer: index 0 when x[0] is NaN (nothing compares
// greater) or the row is all NaN; otherwise the first maximum of the rest.
__device__ __forceinline__ int final_index(const float* xr, Best b) {
  return (isnan(xr[0]) || b.index < 0) ? 0 : b.index;
}

__global__ void argmax_warp_kernel(const float* x, int64_t n, int64_t k, int32_t* out,
                                   float* values) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= n) return;
  const float* xr = x + row * k;
  const Best b = warp_best(scan_row(xr, k, lane, 32));
  if (lane == 0) {
    const int idx = final_index(xr, b);
    out[row] = idx;
    if (values) values[row] = xr[idx];
  }
}

__global__ void argmax_block_kernel(const float* x, int64_t n, int64_t k, int32_t* out,
                                    float* values) {
  CS_SHARED(warp_results, Best[kWarps]);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int64_t row = blockIdx.x; row < n; row += gridDim.x) {
    const float* xr = x + row * k;
    const Best b = warp_best(scan_row(xr, k, threadIdx.x, kThreads));
    if (lane == 0) warp_results[warp] = b;
    __syncthreads();
    if (threadIdx.x == 0) {
      Best total = warp_results[0];
      for (int w = 1; w < kWarps; ++w) total = better(total, warp_results[w]);
      const int idx = final_index(xr, total);
      out[row] = idx;
      if (values) values[row] = xr[idx];
    }
    __syncthreads();
  }
}

void launch_argmax(const Tensor& x, int32_t* out, float* values) {
  const int64_t n = x.dim(0), k = x.dim(1);
  CS_CHECK(k <= INT_MAX, "argmax_rows: rows of " << k << " elements do not fit int32 indices");
  cudaStream_t stream = prepare(x);
  if (k <= kWarpRowMax) {
    const int64_t blocks = (n + kWarps - 1) / kWarps;
    CS_CHECK(blocks <= INT_MAX, "argmax_rows: too many rows (" << n << ")");
    cuda::launch(argmax_warp_kernel, static_cast<unsigned>(blocks), kThreads, 0, stream,
                 x.data<float>(), n, k, out, values);
    CS_CUDA_CHECK_LAUNCH("argmax_warp_kernel");
  } else {
    cuda::launch(argmax_block_kernel, cuda::grid_for(n, 1, 1LL << 20), kThreads, 0, stream,
                 x.data<float>(), n, k, out, values);
    CS_CUDA_CHECK_LAUNCH("argmax_block_kernel");
  }
}

void cuda_argmax_rows(const Tensor& x, Tensor& out) { launch_argmax(x, out.data<int32_t>(), nullptr); }

// ---- topk_rows, k > 1 -------------------------------------------------------------------------

constexpr int kTopkSharedCandidates = 2048;  // 16 KiB of (key, index) pairs
constexpr int64_t kTopkCachedKeys = 4096;    // rows up to this length staged as keys (16 KiB)

// Order-preserving map float -> uint32 (larger float, larger key); -0.0 is
// mapped with +0.0 since they compare equal. Rows must not contain NaN.
__device__ __forceinline__ uint32_t order_key(float f) {
  uint32_t u = __float_as_uint(f);
  if (f == 0.0f) u = 0u;
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// (key, index) packed so that a larger packed value comes first: larger key,
// then lower index. 0 is below every real pair (index < 2^31): the padding.
__device__ __forceinline__ uint64_t pack(uint32_t key, int64_t index) {
  return (static_cast<uint64_t>(key) << 32) | (0xffffffffu - static_cast<uint32_t>(index));
}
__device__ __forceinline__ int64_t unpack_index(uint64_t packed) {
  return static_cast<int64_t>(0xffffffffu - static_cast<uint32_t>(packed & 0xffffffffu));
}

// Dynamic shared memory: [candidates (if shared) | keys (if cached)].
// `global_candidates`: padded_k pairs per block when they do not fit.
__global__ void topk_kernel(const float* x, int64_t n, int64_t width, int k, int padded_k,
                            bool cache_keys, uint64_t* global_candidates, float* values,
                            int32_t* indices) {
  CS_SHARED_DYNAMIC(dynamic_shared, uint64_t, alignof(uint64_t));
  CS_SHARED(hist, uint32_t[256]);
  CS_SHARED(s_digit, uint32_t);
  CS_SHARED(s_remaining, uint32_t);
  CS_SHARED(s_count_gt, uint32_t);
  CS_SHARED(s_eq_taken, uint32_t);
  CS_SHARED(s_done, bool);
  CS_SHARED(warp_eq, uint32_t[kWarps]);
  uint64_t* cand = global_candidates ? global_candidates + static_cast<int64_t>(blockIdx.x) * padded_k
                                     : dynamic_shared;
  uint32_t* keys = reinterpret_cast<uint32_t*>(dynamic_shared + (global_candidates ? 0 : padded_k));
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;

  for (int64_t row = blockIdx.x; row < n; row += gridDim.x) {
    const float* xr = x + row * width;
    if (cache_keys) {
      for (int64_t j = tid; j < width; j += kThreads) keys[j] = order_key(xr[j]);
    }
    __syncthreads();
    auto key_at = [&](int64_t j) { return cache_keys ? keys[j] : order_key(xr[j]); };

    // 1. Radix selection of the k-th largest key, 8 bits per pass from the top.
    uint32_t prefix = 0, mask = 0, remaining = static_cast<uint32_t>(k);
    for (int shift = 24; shift >= 0; shift -= 8) {
      hist[tid] = 0;  // kThreads == 256 bins
      __syncthreads();
      for (int64_t j = tid; j < width; j += kThreads) {
        const uint32_t key = key_at(j);
        if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
      }
      __syncthreads();
      if (warp == 0) {
        // Lane l covers digits 255 - 8l down to 248 - 8l; an inclusive scan
        // over lanes finds the lane where the count from the top reaches
        // `remaining`, then that lane walks its 8 digits.
        const int top = 255 - 8 * lane;
        uint32_t own = 0;
        for (int t = 0; t < 8; ++t) own += hist[top - t];
        uint32_t inclusive = own;
        for (int offset = 1; offset < 32; offset *= 2) {
          const uint32_t up = __shfl_up_sync(rowred::kFullMask, inclusive, offset);
          if (lane >= offset) inclusive += up;
        }
        const uint32_t exclusive = inclusive - own;
        if (exclusive < remaining && inclusive >= remaining) {
          uint32_t acc = exclusive;
          for (int t = 0; t < 8; ++t) {
            const uint32_t count = hist[top - t];
            if (acc + count >= remaining) {
              s_digit = static_cast<uint32_t>(top - t);
              s_remaining = remaining - acc;
              break;
            }
            acc += count;
          }
        }
      }
      __syncthreads();
      prefix |= s_digit << shift;
      mask |= 255u << shift;
      remaining = s_remaining;
      __syncthreads();  // s_digit, s_remaining and hist are rewritten next pass
    }
    const uint32_t threshold = prefix;
    const uint32_t need_eq = remaining;            // keys == threshold to take, >= 1
    const uint32_t need_gt = static_cast<uint32_t>(k) - need_eq;  // every key > threshold

    // 2. One pass in index order: every key above the threshold, and the
    // first need_eq keys equal to it (lowest indices first).
    if (tid == 0) {
      s_count_gt = 0;
      s_eq_taken = 0;
    }
    __syncthreads();
    for (int64_t base = 0; base < width; base += kThreads) {
      const int64_t j = base + tid;
      const uint32_t key = j < width ? key_at(j) : 0u;
      const bool gt = j < width && key > threshold;
      const bool eq = j < width && key == threshold;
      if (gt) cand[atomicAdd(&s_count_gt, 1u)] = pack(key, j);  // order fixed by the sort below
      const unsigned ballot = __ballot_sync(rowred::kFullMask, eq);
      if (lane == 0) warp_eq[warp] = __popc(ballot);
      __syncthreads();
      uint32_t before = s_eq_taken;
      for (int w = 0; w < warp; ++w) before += warp_eq[w];
      const uint32_t rank = before + __popc(ballot & ((1u << lane) - 1u));
      if (eq && rank < need_eq) cand[need_gt + rank] = pack(key, j);
      __syncthreads();
      if (tid == 0) {
        uint32_t total = s_eq_taken;
        for (int w = 0; w < kWarps; ++w) total += warp_eq[w];
        s_eq_taken = total;
        // Decided by one thread: s_count_gt may change again once threads
        // move on to the next chunk.
        s_done = s_count_gt == need_gt && total >= need_eq;
      }
      __syncthreads();
      if (s_done) break;  // the same for every thread
    }

    // 3. Bitonic sort of the k winners (padded with 0) into descending order.
    for (int i = k + tid; i < padded_k; i += kThreads) cand[i] = 0;
    __syncthreads();
    for (int size = 2; size <= padded_k; size *= 2) {
      for (int stride = size / 2; stride > 0; stride /= 2) {
        for (int i = tid; i < padded_k; i += kThreads) {
          const int partner = i ^ stride;
          if (partner > i) {
            const uint64_t a = cand[i], b = cand[partner];
            const bool descending = (i & size) == 0;
            if (descending ? a < b : a > b) {
              cand[i] = b;
              cand[partner] = a;
            }
          }
        }
        __syncthreads();
      }
    }
    for (int t = tid; t < k; t += kThreads) {
      const int64_t j = unpack_index(cand[t]);
      values[row * k + t] = xr[j];
      indices[row * k + t] = static_cast<int32_t>(j);
    }
    __syncthreads();  // cand and keys are reused by the next row
  }
}

void cuda_topk_rows(const Tensor& x, int k, Tensor& values, Tensor& indices) {
  const int64_t n = x.dim(0), width = x.dim(1);
  CS_CHECK(width <= INT_MAX, "topk_rows: rows of " << width << " elements do not fit int32 indices");
  if (k == 1) {
    launch_argmax(x, indices.data<int32_t>(), values.data<float>());
    return;
  }
  cudaStream_t stream = prepare(x);
  int padded_k = 1;
  while (padded_k < k) padded_k *= 2;
  const bool shared_candidates = padded_k <= kTopkSharedCandidates;
  const bool cache_keys = width <= kTopkCachedKeys;
  const int64_t blocks = std::min<int64_t>(n, shared_candidates ? 65535 * 8 : 1024);
  Tensor workspace;
  uint64_t* global_candidates = nullptr;
  if (!shared_candidates) {
    workspace = Tensor::empty({blocks * padded_k}, x.device(), DType::F64);  // 8-byte slots
    global_candidates = static_cast<uint64_t*>(workspace.raw_data());
  }
  const size_t shared_bytes = (shared_candidates ? sizeof(uint64_t) * padded_k : 0) +
                              (cache_keys ? sizeof(uint32_t) * static_cast<size_t>(width) : 0);
  cuda::launch(topk_kernel, static_cast<unsigned>(blocks), kThreads, shared_bytes, stream,
               x.data<float>(), n, width, k, padded_k, cache_keys, global_candidates,
               values.data<float>(), indices.data<int32_t>());
  CS_CUDA_CHECK_LAUNCH("topk_kernel");
}

// ---- gather_rows ------------------------------------------------------------------------------

// out row b = x row indices[b], moved in units of U (row_units per row). An
// index outside [0, rows) gives a row of zero bytes (see tensor_ops.h).
template <typename U>
__global__ void gather_kernel(const U* x, const int32_t* indices, int64_t rows, int64_t count,
                              int64_t row_units, U* out) {
  CS_GRID_STRIDE_LOOP(e, count * row_units) {
    const int64_t b = e / row_units, u = e % row_units;
    const int32_t src = indices[b];
    U value{};
    if (src >= 0 && src < rows) value = x[static_cast<int64_t>(src) * row_units + u];
    out[e] = value;
  }
}

template <typename U>
void launch_gather(const Tensor& x, const Tensor& indices, Tensor& out, int64_t row_bytes,
                   cudaStream_t stream) {
  const int64_t units = row_bytes / static_cast<int64_t>(sizeof(U));
  const int64_t count = indices.numel();
  cuda::launch(gather_kernel<U>, cuda::grid_for(count * units, kThreads), kThreads, 0, stream,
               static_cast<const U*>(x.raw_data()), indices.data<int32_t>(), x.dim(0), count, units,
               static_cast<U*>(out.raw_data()));
  CS_CUDA_CHECK_LAUNCH("gather_kernel");
}

void cuda_gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) {
  int64_t row_elements = 1;  // from the shape: x may have no rows at all
  for (int d = 1; d < x.ndim(); ++d) row_elements *= x.dim(d);
  const int64_t row_bytes = row_elements * static_cast<int64_t>(dtype_size(x.dtype()));
  if (row_bytes == 0 || indices.numel() == 0) return;
  cudaStream_t stream = prepare(out);
  const void* src = x.raw_data();
  void* dst = out.raw_data();
  auto fits = [&](unsigned unit) {
    return row_bytes % unit == 0 && aligned(src, unit) && aligned(dst, unit);
  };
  if (fits(16))
    launch_gather<uint4>(x, indices, out, row_bytes, stream);
  else if (fits(8))
    launch_gather<uint2>(x, indices, out, row_bytes, stream);
  else if (fits(4))
    launch_gather<uint32_t>(x, indices, out, row_bytes, stream);
  else
    launch_gather<uint8_t>(x, indices, out, row_bytes, stream);
}

// ---- u8_to_float_normalized -----------------------------------------------------------------

constexpr int kInlineChannels = 32;

// Per-channel mean and 1/std; `table` (2C floats on the device) when there
// are more channels than fit in the launch parameters.
struct Normalization {
  float mean[kInlineChannels];
  float inv_std[kInlineChannels];
  const float* table;
  int64_t channels;  // entries: 1 (shared by all channels) or C
};

__device__ __forceinline__ float normalize(const Normalization& p, uint8_t value, int64_t c) {
  const int64_t k = p.channels == 1 ? 0 : c;
  const float mean = p.table ? p.table[k] : p.mean[k];
  const float inv_std = p.table ? p.table[p.channels + k] : p.inv_std[k];
  // (x / 255 - mean) * (1 / std), each operation rounded as on the CPU.
  return __fmul_rn(__fsub_rn(__fdiv_rn(static_cast<float>(value), 255.0f), mean), inv_std);
}

__global__ void u8_to_float_kernel(Normalization p, const uint8_t* x, int64_t total, int64_t c,
                                   int64_t inner, float* out) {
  CS_GRID_STRIDE_LOOP(e, total) out[e] = normalize(p, x[e], (e / inner) % c);
}

// inner % 4 == 0: four pixels of one channel per thread.
__global__ void u8_to_float4_kernel(Normalization p, const uchar4* x, int64_t total4, int64_t c,
                                    int64_t inner, float4* out) {
  CS_GRID_STRIDE_LOOP(e, total4) {
    const int64_t ch = (e * 4 / inner) % c;
    const uchar4 v = x[e];
    out[e] = make_float4(normalize(p, v.x, ch), normalize(p, v.y, ch), normalize(p, v.z, ch),
                         normalize(p, v.w, ch));
  }
}

void cuda_u8_to_float(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& std,
                      Tensor& out) {
  const AxisView v = axis_view(x.shape(), 1);
  const int64_t entries = static_cast<int64_t>(mean.size());
  Normalization p{};
  p.channels = entries;
  std::vector<float> inv_std(mean.size());
  for (size_t i = 0; i < mean.size(); ++i) inv_std[i] = 1.0f / std[i];  // as the CPU reference
  Tensor table;
  if (entries <= kInlineChannels) {
    for (int64_t i = 0; i < entries; ++i) {
      p.mean[i] = mean[static_cast<size_t>(i)];
      p.inv_std[i] = inv_std[static_cast<size_t>(i)];
    }
  } else {
    std::vector<float> host(mean);
    host.insert(host.end(), inv_std.begin(), inv_std.end());
    table = Tensor::from_vector(host, {2 * entries}, x.device());
    p.table = table.data<float>();
  }
  cudaStream_t stream = prepare(x);
  const int64_t total = x.numel();
  const uint8_t* px = x.data<uint8_t>();
  float* po = out.data<float>();
  if (v.inner % 4 == 0 && aligned(px, 4) && aligned(po, 16)) {
    cuda::launch(u8_to_float4_kernel, cuda::grid_for(total / 4, kThreads), kThreads, 0, stream, p,
                 reinterpret_cast<const uchar4*>(px), total / 4, v.size, v.inner,
                 reinterpret_cast<float4*>(po));
  } else {
    cuda::launch(u8_to_float_kernel, cuda::grid_for(total, kThreads), kThreads, 0, stream, p, px,
                 total, v.size, v.inner, po);
  }
  CS_CUDA_CHECK_LAUNCH("u8_to_float_kernel");
}

}  // namespace

CS_REGISTER_OP(tensor_ops_registry, DeviceType::CUDA,
               (TensorOpsImpl{&cuda_add_channel_bias, &cuda_sum_axis, &cuda_max_over_channels,
                              &cuda_l2_norm, &cuda_argmax_rows, &cuda_topk_rows, &cuda_gather_rows,
                              &cuda_u8_to_float}))

}  // namespace cs::kernels
