// t-SNE on the GPU. Rows are independent: one warp per row, lanes striding
// over the other points, a fixed shuffle tree to finish each sum - so every
// result is deterministic. The O(N^2) repulsion stages tiles of the
// embedding in shared memory, shared by the eight rows (warps) of a block.
#include <cfloat>

#include "kernels/reduce.h"
#include "kernels/tsne.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kWarps = 8;  // rows per block
constexpr int kThreads = kWarps * 32;
constexpr int kTile = 1024;  // points per shared-memory tile

cudaStream_t prepare(const Tensor& t) {
  cuda::set_device(t.device().index);
  return cuda::current_stream(t.device().index);
}

unsigned row_blocks(int64_t rows) { return static_cast<unsigned>((rows + kWarps - 1) / kWarps); }

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return __shfl_sync(0xffffffffu, v, 0);  // every lane gets the total
}

__global__ void conditional_p_kernel(const float* dist, float* p, float* achieved, int64_t rows,
                                     int64_t m, double target, int skip_self) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (i >= rows) return;
  const float* d = dist + i * m;
  double d_min = DBL_MAX;
  for (int64_t j = lane; j < m; j += 32)
    if (!(skip_self && j == i)) d_min = fmin(d_min, static_cast<double>(d[j]));
  for (int offset = 16; offset > 0; offset /= 2) d_min = fmin(d_min, __shfl_down_sync(0xffffffffu, d_min, offset));
  d_min = __shfl_sync(0xffffffffu, d_min, 0);
  double beta = 1.0, lo = -DBL_MAX, hi = DBL_MAX, entropy = 0;
  for (int iter = 0; iter < 200; ++iter) {
    double sum = 0, weighted = 0;
    for (int64_t j = lane; j < m; j += 32) {
      if (skip_self && j == i) continue;
      const double shifted = d[j] - d_min;
      const double e = exp(-beta * shifted);
      sum += e;
      weighted += shifted * e;
    }
    sum = warp_sum(sum);
    weighted = warp_sum(weighted);
    entropy = log(sum) + beta * weighted / sum;
    const double diff = entropy - target;
    if (fabs(diff) < 1e-6) break;
    if (diff > 0) {
      lo = beta;
      beta = hi == DBL_MAX ? beta * 2 : (beta + hi) / 2;
    } else {
      hi = beta;
      beta = lo == -DBL_MAX ? beta / 2 : (beta + lo) / 2;
    }
  }
  double sum = 0;
  for (int64_t j = lane; j < m; j += 32)
    if (!(skip_self && j == i)) sum += exp(-beta * (d[j] - d_min));
  sum = warp_sum(sum);
  for (int64_t j = lane; j < m; j += 32)
    p[i * m + j] = (skip_self && j == i) ? 0.0f : static_cast<float>(exp(-beta * (d[j] - d_min)) / sum);
  if (lane == 0) achieved[i] = static_cast<float>(exp(entropy));
}

__global__ void symmetrize_kernel(float* p, int64_t n) {
  const float scale = 1.0f / (2.0f * static_cast<float>(n));
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n * n;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t i = e / n, j = e % n;
    if (j < i) continue;  // the pair (i, j) belongs to its upper-triangle thread
    const float v = (p[i * n + j] + p[j * n + i]) * scale;
    p[i * n + j] = v;
    p[j * n + i] = v;
  }
}

// w = 1 / (1 + |y_i - y_j|^2), and the difference vector.
template <int D>
__device__ __forceinline__ float student(const float* yi, const float* yj, float* diff) {
  float sq = 0.0f;
#pragma unroll
  for (int k = 0; k < D; ++k) {
    diff[k] = yi[k] - yj[k];
    sq += diff[k] * diff[k];
  }
  return 1.0f / (1.0f + sq);
}

template <int D>
__global__ void attraction_dense_kernel(const float* y, const float* p, float* attr, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (i >= n) return;
  float yi[D], acc[D] = {}, diff[D];
#pragma unroll
  for (int k = 0; k < D; ++k) yi[k] = y[i * D + k];
  for (int64_t j = lane; j < n; j += 32) {
    if (j == i) continue;
    const float w = student<D>(yi, y + j * D, diff) * p[i * n + j];
#pragma unroll
    for (int k = 0; k < D; ++k) acc[k] += w * diff[k];
  }
#pragma unroll
  for (int k = 0; k < D; ++k) {
    const float total = warp_sum(acc[k]);
    if (lane == 0) attr[i * D + k] = total;
  }
}

template <int D>
__global__ void attraction_sparse_kernel(const float* y, const int32_t* rows, const int32_t* cols,
                                         const float* vals, float* attr, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (i >= n) return;
  float yi[D], acc[D] = {}, diff[D];
#pragma unroll
  for (int k = 0; k < D; ++k) yi[k] = y[i * D + k];
  for (int32_t e = rows[i] + lane; e < rows[i + 1]; e += 32) {
    const float w = student<D>(yi, y + static_cast<int64_t>(cols[e]) * D, diff) * vals[e];
#pragma unroll
    for (int k = 0; k < D; ++k) acc[k] += w * diff[k];
  }
#pragma unroll
  for (int k = 0; k < D; ++k) {
    const float total = warp_sum(acc[k]);
    if (lane == 0) attr[i * D + k] = total;
  }
}

template <int D>
__global__ void repulsion_kernel(const float* y, float* rep, float* z, int64_t n) {
  CS_SHARED(tile, float[kTile * D]);
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  float yi[D], acc[D] = {}, diff[D], zi = 0.0f;
#pragma unroll
  for (int k = 0; k < D; ++k) yi[k] = i < n ? y[i * D + k] : 0.0f;
  for (int64_t start = 0; start < n; start += kTile) {
    const int count = static_cast<int>(n - start < kTile ? n - start : kTile);
    __syncthreads();
    for (int e = threadIdx.x; e < count * D; e += blockDim.x) tile[e] = y[start * D + e];
    __syncthreads();
    if (i < n)
      for (int j = lane; j < count; j += 32) {
        if (start + j == i) continue;
        const float w = student<D>(yi, tile + j * D, diff);
        zi += w;
        const float w2 = w * w;
#pragma unroll
        for (int k = 0; k < D; ++k) acc[k] += w2 * diff[k];
      }
  }
  if (i >= n) return;
  zi = warp_sum(zi);
#pragma unroll
  for (int k = 0; k < D; ++k) {
    const float total = warp_sum(acc[k]);
    if (lane == 0) rep[i * D + k] = total;
  }
  if (lane == 0) z[i] = zi;
}

__global__ void update_kernel(float* y, const float* attr, const float* rep, float* update,
                              float* gains, float* grad, int64_t count, TsneStep s) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const float g = 4.0f * (static_cast<float>(s.exaggeration) * attr[i] - rep[i] * static_cast<float>(s.inv_z));
    float gain = gains[i];
    gain = (g > 0.0f) != (update[i] > 0.0f) ? gain + 0.2f : gain * 0.8f;
    gain = fmaxf(gain, static_cast<float>(s.min_gain));
    const float u = static_cast<float>(s.momentum) * update[i] - static_cast<float>(s.learning_rate) * gain * g;
    gains[i] = gain;
    update[i] = u;
    grad[i] = g;
    y[i] += u;
  }
}

template <int D>
__global__ void p_log_w_dense_kernel(const float* y, const float* p, float* per_row, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (i >= n) return;
  float yi[D], diff[D];
#pragma unroll
  for (int k = 0; k < D; ++k) yi[k] = y[i * D + k];
  float acc = 0.0f;
  for (int64_t j = lane; j < n; j += 32) {
    const float pij = p[i * n + j];
    if (j != i && pij > 0.0f) acc += pij * logf(student<D>(yi, y + j * D, diff));
  }
  acc = warp_sum(acc);
  if (lane == 0) per_row[i] = acc;
}

template <int D>
__global__ void p_log_w_sparse_kernel(const float* y, const int32_t* rows, const int32_t* cols,
                                      const float* vals, float* per_row, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (i >= n) return;
  float yi[D], diff[D];
#pragma unroll
  for (int k = 0; k < D; ++k) yi[k] = y[i * D + k];
  float acc = 0.0f;
  for (int32_t e = rows[i] + lane; e < rows[i + 1]; e += 32)
    if (vals[e] > 0.0f) acc += vals[e] * logf(student<D>(yi, y + static_cast<int64_t>(cols[e]) * D, diff));
  acc = warp_sum(acc);
  if (lane == 0) per_row[i] = acc;
}

void cuda_conditional_p(const Tensor& sq_dist, double perplexity, bool skip_self, Tensor& p,
                        Tensor& achieved) {
  const int64_t rows = sq_dist.dim(0);
  if (rows == 0) return;
  cuda::launch(conditional_p_kernel, row_blocks(rows), kThreads, 0, prepare(sq_dist),
               sq_dist.data<float>(), p.data<float>(), achieved.data<float>(), rows, sq_dist.dim(1),
               std::log(perplexity), skip_self ? 1 : 0);
  CS_CUDA_CHECK_LAUNCH("conditional_p_kernel");
}

void cuda_symmetrize_dense(Tensor& p) {
  const int64_t n = p.dim(0);
  if (n == 0) return;
  cuda::launch(symmetrize_kernel, cuda::grid_for(n * n, 256), 256, 0, prepare(p), p.data<float>(),
               n);
  CS_CUDA_CHECK_LAUNCH("symmetrize_kernel");
}

// Calls f(std::integral_constant<int, D>) for the embedding's dimension.
template <typename F>
void by_dimension(const Tensor& y, F f) {
  if (y.dim(1) == 2)
    f(std::integral_constant<int, 2>{});
  else
    f(std::integral_constant<int, 3>{});
}

void cuda_attraction_dense(const Tensor& y, const Tensor& p, Tensor& attr) {
  const int64_t n = y.dim(0);
  if (n == 0) return;
  by_dimension(y, [&](auto dim) {
    cuda::launch(attraction_dense_kernel<decltype(dim)::value>, row_blocks(n), kThreads, 0,
                 prepare(y), y.data<float>(), p.data<float>(), attr.data<float>(), n);
  });
  CS_CUDA_CHECK_LAUNCH("attraction_dense_kernel");
}

void cuda_attraction_sparse(const Tensor& y, const Tensor& rows, const Tensor& cols,
                            const Tensor& vals, Tensor& attr) {
  const int64_t n = y.dim(0);
  if (n == 0) return;
  by_dimension(y, [&](auto dim) {
    cuda::launch(attraction_sparse_kernel<decltype(dim)::value>, row_blocks(n), kThreads, 0,
                 prepare(y), y.data<float>(), rows.data<int32_t>(), cols.data<int32_t>(),
                 vals.data<float>(), attr.data<float>(), n);
  });
  CS_CUDA_CHECK_LAUNCH("attraction_sparse_kernel");
}

void cuda_repulsion_exact(const Tensor& y, Tensor& rep, Tensor& z) {
  const int64_t n = y.dim(0);
  if (n == 0) return;
  by_dimension(y, [&](auto dim) {
    cuda::launch(repulsion_kernel<decltype(dim)::value>, row_blocks(n), kThreads, 0, prepare(y),
                 y.data<float>(), rep.data<float>(), z.data<float>(), n);
  });
  CS_CUDA_CHECK_LAUNCH("repulsion_kernel");
}

void cuda_update(Tensor& y, const Tensor& attr, const Tensor& rep, Tensor& update, Tensor& gains,
                 Tensor& grad, const TsneStep& s) {
  const int64_t count = y.numel();
  if (count == 0) return;
  cuda::launch(update_kernel, cuda::grid_for(count, 256), 256, 0, prepare(y), y.data<float>(),
               attr.data<float>(), rep.data<float>(), update.data<float>(), gains.data<float>(),
               grad.data<float>(), count, s);
  CS_CUDA_CHECK_LAUNCH("update_kernel");
}

void cuda_p_log_w_dense(const Tensor& y, const Tensor& p, Tensor& out) {
  const int64_t n = y.dim(0);
  Tensor per_row = Tensor::zeros({std::max<int64_t>(n, 1)}, y.device());
  if (n > 0)
    by_dimension(y, [&](auto dim) {
      cuda::launch(p_log_w_dense_kernel<decltype(dim)::value>, row_blocks(n), kThreads, 0,
                   prepare(y), y.data<float>(), p.data<float>(), per_row.data<float>(), n);
    });
  CS_CUDA_CHECK_LAUNCH("p_log_w_dense_kernel");
  sum_all(per_row, out);
}

void cuda_p_log_w_sparse(const Tensor& y, const Tensor& rows, const Tensor& cols,
                         const Tensor& vals, Tensor& out) {
  const int64_t n = y.dim(0);
  Tensor per_row = Tensor::zeros({std::max<int64_t>(n, 1)}, y.device());
  if (n > 0)
    by_dimension(y, [&](auto dim) {
      cuda::launch(p_log_w_sparse_kernel<decltype(dim)::value>, row_blocks(n), kThreads, 0,
                   prepare(y), y.data<float>(), rows.data<int32_t>(), cols.data<int32_t>(),
                   vals.data<float>(), per_row.data<float>(), n);
    });
  CS_CUDA_CHECK_LAUNCH("p_log_w_sparse_kernel");
  sum_all(per_row, out);
}

}  // namespace

CS_REGISTER_OP(tsne_registry, DeviceType::CUDA,
               (TsneImpl{&cuda_conditional_p, &cuda_symmetrize_dense, &cuda_attraction_dense,
                         &cuda_attraction_sparse, &cuda_repulsion_exact, &cuda_update,
                         &cuda_p_log_w_dense, &cuda_p_log_w_sparse}))

}  // namespace cs::kernels
