// Softmax family and the fused cross-entropy on the GPU.
//
// Each row belongs to one warp (K <= kWarpRowMax, the common case: 10 or 1000
// classes) or to one block of 256 threads (longer rows). A row is read three
// times (max, sum of exp, write); the second and third reads hit L1/L2, so
// DRAM traffic stays near one read and one write of the tensor.
//
// Cross-entropy: one warp per row computes the row's loss and writes the
// probabilities; each block adds its rows' losses in warp order into one
// partial, and a single block adds the partials in a fixed tree and divides by
// N. No atomics: the loss has the same bits on every run.
//
// Labels on the GPU are not read back (that would stall the stream). A label
// outside [0, K) makes that row's loss NaN (and its gradient row NaN), so the
// mean loss is NaN and never silently wrong; with device checks on
// (kernels::set_device_checks) the dispatcher checks them on the host first.
#include "kernels/cuda/row_reduce.cuh"
#include "kernels/softmax.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;
constexpr int64_t kWarpRowMax = 1024;

using rowred::BlockReducer;
using rowred::WarpReducer;

__device__ __forceinline__ float nan_value() { return __int_as_float(0x7fffffff); }

cudaStream_t prepare(const Tensor& t) {
  cuda::set_device(t.device().index);
  return cuda::current_stream(t.device().index);
}

// ---- the per-row operations, written once for a warp or a block ----------------------

struct SoftmaxRow {
  bool log_output;
  template <typename R>
  __device__ void operator()(const R& r, int64_t row, int64_t k, const float* x, float* y) const {
    const float* xr = x + row * k;
    float* yr = y + row * k;
    float m = -INFINITY;
    for (int64_t j = r.rank(); j < k; j += r.size()) m = fmaxf(m, xr[j]);
    m = r.max(m);
    float s = 0.0f;
    for (int64_t j = r.rank(); j < k; j += r.size()) s += expf(xr[j] - m);
    const float log_s = logf(r.sum(s));
    for (int64_t j = r.rank(); j < k; j += r.size()) {
      const float shifted = (xr[j] - m) - log_s;
      yr[j] = log_output ? shifted : expf(shifted);
    }
  }
};

// gx = y * (gy - sum_k gy * y)
struct SoftmaxBackwardRow {
  template <typename R>
  __device__ void operator()(const R& r, int64_t row, int64_t k, const float* y, const float* gy,
                             float* gx) const {
    const int64_t base = row * k;
    float dot = 0.0f;
    for (int64_t j = r.rank(); j < k; j += r.size()) dot += gy[base + j] * y[base + j];
    dot = r.sum(dot);
    for (int64_t j = r.rank(); j < k; j += r.size()) gx[base + j] = y[base + j] * (gy[base + j] - dot);
  }
};

// gx = gy - exp(y) * sum_k gy, y the log-softmax
struct LogSoftmaxBackwardRow {
  template <typename R>
  __device__ void operator()(const R& r, int64_t row, int64_t k, const float* y, const float* gy,
                             float* gx) const {
    const int64_t base = row * k;
    float total = 0.0f;
    for (int64_t j = r.rank(); j < k; j += r.size()) total += gy[base + j];
    total = r.sum(total);
    for (int64_t j = r.rank(); j < k; j += r.size()) gx[base + j] = gy[base + j] - expf(y[base + j]) * total;
  }
};

template <typename Op, typename... Args>
__global__ void warp_rows_kernel(Op op, int64_t n, int64_t k, Args... args) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (row >= n) return;  // whole warps leave together
  op(WarpReducer{static_cast<int>(threadIdx.x % 32)}, row, k, args...);
}

template <typename Op, typename... Args>
__global__ void block_rows_kernel(Op op, int64_t n, int64_t k, Args... args) {
  CS_SHARED(scratch, float[kWarpsPerBlock]);
  for (int64_t row = blockIdx.x; row < n; row += gridDim.x)
    op(BlockReducer<kThreads>{scratch}, row, k, args...);
}

// Launches `op` over the n rows of length k: a warp per row when rows are
// short, a block per row otherwise.
template <typename Op, typename... Args>
void launch_rows(const Tensor& like, const char* name, Op op, Args... args) {
  const int64_t n = like.dim(0), k = like.dim(1);
  cudaStream_t stream = prepare(like);
  if (k <= kWarpRowMax) {
    const int64_t blocks = (n + kWarpsPerBlock - 1) / kWarpsPerBlock;
    CS_CHECK(blocks <= 0x7fffffff, name << ": too many rows (" << n << ")");
    cuda::launch(warp_rows_kernel<Op, Args...>, static_cast<unsigned>(blocks), kThreads, 0, stream,
                 op, n, k, args...);
  } else {
    cuda::launch(block_rows_kernel<Op, Args...>, cuda::grid_for(n, 1, 1LL << 20), kThreads, 0,
                 stream, op, n, k, args...);
  }
  CS_CUDA_CHECK_LAUNCH(name);
}

void cuda_softmax(const Tensor& x, Tensor& y) {
  launch_rows(x, "softmax_kernel", SoftmaxRow{false}, x.data<float>(), y.data<float>());
}

void cuda_log_softmax(const Tensor& x, Tensor& y) {
  launch_rows(x, "log_softmax_kernel", SoftmaxRow{true}, x.data<float>(), y.data<float>());
}

void cuda_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) {
  launch_rows(y, "softmax_backward_kernel", SoftmaxBackwardRow{}, y.data<float>(), gy.data<float>(),
              gx.data<float>());
}

void cuda_log_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) {
  launch_rows(y, "log_softmax_backward_kernel", LogSoftmaxBackwardRow{}, y.data<float>(),
              gy.data<float>(), gx.data<float>());
}

// ---- cross-entropy ------------------------------------------------------------------------

// One warp per row: probs[row] = softmax(x[row]) and the row's loss
//   -(1 - eps) log p[label] - eps / K * sum_j log p[j],
// with sum_j log p[j] = sum_j (x_j - m) - K log s. Each block writes the sum of
// its (up to kWarpsPerBlock) row losses, added in warp order.
__global__ void ce_rows_kernel(const float* x, const int32_t* labels, int64_t n, int64_t k,
                               float eps, float* probs, float* partials) {
  CS_SHARED(row_loss, float[kWarpsPerBlock]);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + warp;
  float loss = 0.0f;
  if (row < n) {
    const float* xr = x + row * k;
    float* pr = probs + row * k;
    float m = -INFINITY;
    for (int64_t j = lane; j < k; j += 32) m = fmaxf(m, xr[j]);
    m = rowred::warp_max(m);
    float s = 0.0f, t = 0.0f;
    for (int64_t j = lane; j < k; j += 32) {
      const float shifted = xr[j] - m;
      s += expf(shifted);
      t += shifted;
    }
    const float log_s = logf(rowred::warp_sum(s));
    t = rowred::warp_sum(t);
    for (int64_t j = lane; j < k; j += 32) pr[j] = expf((xr[j] - m) - log_s);
    const int32_t label = labels[row];
    if (label < 0 || label >= k) {
      loss = nan_value();
    } else {
      const float log_p_label = (xr[label] - m) - log_s;
      const float sum_log_p = t - static_cast<float>(k) * log_s;
      loss = -(1.0f - eps) * log_p_label - eps / static_cast<float>(k) * sum_log_p;
    }
  }
  if (lane == 0) row_loss[warp] = loss;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = row_loss[0];
    for (int w = 1; w < kWarpsPerBlock; ++w) total += row_loss[w];
    partials[blockIdx.x] = total;
  }
}

// One block: loss = (sum of the partials) / n, in a fixed order.
__global__ void ce_mean_kernel(const float* partials, int64_t count, int64_t n, float* loss) {
  CS_SHARED(scratch, float[kWarpsPerBlock]);
  float acc = 0.0f;
  for (int64_t i = threadIdx.x; i < count; i += kThreads) acc += partials[i];
  acc = BlockReducer<kThreads>{scratch}.sum(acc);
  if (threadIdx.x == 0) loss[0] = acc / static_cast<float>(n);
}

// glogits = gloss / N * (probs - q), q = (1 - eps) onehot(label) + eps / K.
__global__ void ce_backward_kernel(const float* probs, const int32_t* labels, const float* gloss,
                                   int64_t n, int64_t k, float eps, float* glogits) {
  const float scale = gloss[0] / static_cast<float>(n);
  const float uniform = eps / static_cast<float>(k);
  const int64_t total = n * k;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t row = i / k, j = i % k;
    const int32_t label = labels[row];
    if (label < 0 || label >= k) {
      glogits[i] = nan_value();
      continue;
    }
    const float q = (j == label ? 1.0f - eps : 0.0f) + uniform;
    glogits[i] = scale * (probs[i] - q);
  }
}

void cuda_ce_forward(const Tensor& logits, const Tensor& labels, double eps, Tensor& loss,
                     Tensor& probs) {
  const int64_t n = logits.dim(0), k = logits.dim(1);
  cudaStream_t stream = prepare(logits);
  const int64_t blocks = (n + kWarpsPerBlock - 1) / kWarpsPerBlock;
  CS_CHECK(blocks <= 0x7fffffff, "softmax_cross_entropy_forward: too many rows (" << n << ")");
  Tensor partials = Tensor::empty({blocks}, logits.device());
  cuda::launch(ce_rows_kernel, static_cast<unsigned>(blocks), kThreads, 0, stream,
               logits.data<float>(), labels.data<int32_t>(), n, k, static_cast<float>(eps),
               probs.data<float>(), partials.data<float>());
  CS_CUDA_CHECK_LAUNCH("ce_rows_kernel");
  cuda::launch(ce_mean_kernel, 1, kThreads, 0, stream, partials.data<float>(), blocks, n,
               loss.data<float>());
  CS_CUDA_CHECK_LAUNCH("ce_mean_kernel");
}

void cuda_ce_backward(const Tensor& probs, const Tensor& labels, double eps, const Tensor& gloss,
                      Tensor& glogits) {
  const int64_t n = probs.dim(0), k = probs.dim(1);
  if (n * k == 0) return;
  cuda::launch(ce_backward_kernel, cuda::grid_for(n * k, kThreads), kThreads, 0, prepare(probs),
               probs.data<float>(), labels.data<int32_t>(), gloss.data<float>(), n, k,
               static_cast<float>(eps), glogits.data<float>());
  CS_CUDA_CHECK_LAUNCH("ce_backward_kernel");
}

}  // namespace

CS_REGISTER_OP(softmax_registry, DeviceType::CUDA,
               (SoftmaxImpl{&cuda_softmax, &cuda_log_softmax, &cuda_softmax_backward,
                            &cuda_log_softmax_backward, &cuda_ce_forward, &cuda_ce_backward}))

}  // namespace cs::kernels
