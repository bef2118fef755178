// Pairwise distances on the GPU. L2 and cosine reuse convscope's GEMM for the
// dot products and finish elementwise; L1 has no GEMM form, so it is a tiled
// kernel of the same shape: 32x32 output tiles, the two operands staged
// through shared memory 32 features at a time, each thread owning a 2x2 (of
// a 16x16 grid) block of outputs.
#include "kernels/distance.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 32;

cudaStream_t prepare(const Tensor& t) {
  cuda::set_device(t.device().index);
  return cuda::current_stream(t.device().index);
}

// One warp per row: each lane sums a strided share, then a shuffle tree.
__global__ void row_squared_norms_kernel(const float* x, float* out, int64_t rows, int64_t d) {
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= rows) return;
  const float* row = x + warp * d;
  float acc = 0.0f;
  for (int64_t j = lane; j < d; j += 32) acc += row[j] * row[j];
  for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_down_sync(0xffffffffu, acc, offset);
  if (lane == 0) out[warp] = acc;
}

__global__ void finish_kernel(const float* qn, const float* pn, float* dot, int64_t m, int64_t n,
                              int cosine) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < m * n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const float q = qn[i / n], p = pn[i % n], d = dot[i];
    if (!cosine) {
      dot[i] = sqrtf(fmaxf(q + p - 2.0f * d, 0.0f));
    } else {
      const float norms = sqrtf(q * p);
      dot[i] = norms > 0.0f ? fminf(fmaxf(1.0f - d / norms, 0.0f), 2.0f) : 1.0f;
    }
  }
}

__global__ void l1_kernel(const float* q, const float* p, float* out, int64_t m, int64_t n,
                          int64_t d) {
  CS_SHARED(qs, float[kTile][kTile + 1]);  // +1: no bank conflicts on column reads
  CS_SHARED(ps, float[kTile][kTile + 1]);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTile;
  float acc[2][2] = {{0, 0}, {0, 0}};
  for (int64_t k0 = 0; k0 < d; k0 += kTile) {
    for (int e = threadIdx.x; e < kTile * kTile; e += blockDim.x) {
      const int r = e / kTile, c = e % kTile;
      qs[r][c] = (row0 + r < m && k0 + c < d) ? q[(row0 + r) * d + k0 + c] : 0.0f;
      ps[r][c] = (col0 + r < n && k0 + c < d) ? p[(col0 + r) * d + k0 + c] : 0.0f;
    }
    __syncthreads();
    const int kmax = static_cast<int>(d - k0 < kTile ? d - k0 : kTile);
    for (int k = 0; k < kmax; ++k)
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) acc[a][b] += fabsf(qs[ty * 2 + a][k] - ps[tx * 2 + b][k]);
    __syncthreads();
  }
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      const int64_t r = row0 + ty * 2 + a, c = col0 + tx * 2 + b;
      if (r < m && c < n) out[r * n + c] = acc[a][b];
    }
}

void cuda_row_squared_norms(const Tensor& x, Tensor& out) {
  const int64_t rows = x.dim(0);
  if (rows == 0) return;
  cuda::launch(row_squared_norms_kernel, cuda::grid_for(rows * 32, kThreads, 1LL << 30), kThreads,
               0, prepare(x), x.data<float>(), out.data<float>(), rows, x.dim(1));
  CS_CUDA_CHECK_LAUNCH("row_squared_norms_kernel");
}

void cuda_finish(const Tensor& qn, const Tensor& pn, Tensor& dot, Metric metric) {
  const int64_t m = dot.dim(0), n = dot.dim(1);
  cuda::launch(finish_kernel, cuda::grid_for(m * n, kThreads), kThreads, 0, prepare(dot),
               qn.data<float>(), pn.data<float>(), dot.data<float>(), m, n,
               metric == Metric::Cosine);
  CS_CUDA_CHECK_LAUNCH("finish_kernel");
}

void cuda_l1(const Tensor& queries, const Tensor& points, Tensor& out) {
  const int64_t m = queries.dim(0), n = points.dim(0);
  CS_CHECK((m + kTile - 1) / kTile <= 65535, "pairwise L1: at most " << 65535 * kTile
                                                                     << " queries per call, got " << m);
  const dim3 grid(static_cast<unsigned>((n + kTile - 1) / kTile),
                  static_cast<unsigned>((m + kTile - 1) / kTile));
  cuda::launch(l1_kernel, grid, kThreads, 0, prepare(out), queries.data<float>(),
               points.data<float>(), out.data<float>(), m, n, queries.dim(1));
  CS_CUDA_CHECK_LAUNCH("l1_kernel");
}

}  // namespace

CS_REGISTER_OP(distance_registry, DeviceType::CUDA,
               (DistanceImpl{&cuda_row_squared_norms, &cuda_finish, &cuda_l1}))

}  // namespace cs::kernels
