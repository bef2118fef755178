// Pooling on the GPU: memory-bound, one thread per output (forward) or per
// input element (backward), each reading its few neighbours through L1/L2.
//
// - Indexing is 32-bit: the host splits a call into chunks of whole planes
//   of fewer than 2^31 elements, and kernels split their flat index into
//   (plane, row, column) with FastDiv (multiply-high + shift) instead of
//   integer division, which the GPU does not have in hardware.
// - Common windows are compile-time: 3x3 and 2x2 kernels unroll in the
//   forward, stride 2 divides by a shift in the backward.
// - Backward passes are gathers (pool_impl.h): each input element visits the
//   few windows that can hold it in row-major order and adds in registers.
//   No atomics; the result is bitwise equal to the CPU reference's scatter.
// - Per-element formulations live in kernels/pool_impl.h, shared with the
//   host so the tests check them against the CPU reference without a GPU.
#include <algorithm>
#include <climits>

#include "kernels/pool_impl.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

using pooling::StaticDiv;

constexpr int kThreads = 256;

// Calls launch(first_plane, count) over chunks of whole planes holding fewer
// than 2^31 elements (the dispatcher guarantees one plane does).
template <typename F>
void for_each_chunk(int64_t planes, int64_t per_plane, F launch) {
  const int64_t chunk = std::max<int64_t>(1, int64_t{INT32_MAX} / per_plane);
  for (int64_t first = 0; first < planes; first += chunk) {
    const int64_t n = std::min(chunk, planes - first);
    launch(first, static_cast<uint32_t>(n * per_plane));
  }
}

unsigned blocks_for(uint32_t count) { return (count + kThreads - 1) / kThreads; }

__device__ __forceinline__ uint32_t thread_index() { return blockIdx.x * blockDim.x + threadIdx.x; }

// ---- forward: one thread per output --------------------------------------------------

template <int K>
__global__ void max_pool_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                        int32_t* __restrict__ switches, PoolGeometry g,
                                        FastDiv div_q, FastDiv div_p, uint32_t count) {
  const uint32_t i = thread_index();
  if (i >= count) return;
  const uint32_t row = div_q.div(i);  // plane * P + oh
  const uint32_t plane = div_p.div(row);
  const int ow = static_cast<int>(i - row * g.out_w), oh = static_cast<int>(row - plane * g.out_h);
  int32_t arg;
  y[i] = pooling::max_pool_window<K, K>(x + static_cast<size_t>(plane) * g.in_h * g.in_w, oh, ow,
                                        g, arg);
  switches[i] = arg;
}

__global__ void avg_pool_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                        PoolGeometry g, FastDiv div_q, FastDiv div_p,
                                        uint32_t count) {
  const uint32_t i = thread_index();
  if (i >= count) return;
  const uint32_t row = div_q.div(i);
  const uint32_t plane = div_p.div(row);
  const int ow = static_cast<int>(i - row * g.out_w), oh = static_cast<int>(row - plane * g.out_h);
  y[i] = pooling::avg_pool_window(x + static_cast<size_t>(plane) * g.in_h * g.in_w, oh, ow, g);
}

__global__ void adaptive_pool_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                             PoolGeometry g, pooling::AdaptiveDivs d,
                                             uint32_t count) {
  const uint32_t i = thread_index();
  if (i >= count) return;
  const uint32_t row = d.out_w.div(i);
  const uint32_t plane = d.out_h.div(row);
  const int ow = static_cast<int>(i - row * g.out_w), oh = static_cast<int>(row - plane * g.out_h);
  y[i] = pooling::adaptive_avg_window(x + static_cast<size_t>(plane) * g.in_h * g.in_w, oh, ow, g, d);
}

// ---- backward: one thread per input element, gathering -------------------------------

template <typename Div>
__global__ void max_pool_backward_kernel(const float* __restrict__ gy,
                                         const int32_t* __restrict__ switches,
                                         float* __restrict__ gx, PoolGeometry g, FastDiv div_w,
                                         FastDiv div_h, Div stride_h, Div stride_w, uint32_t count) {
  const uint32_t i = thread_index();
  if (i >= count) return;
  const uint32_t row = div_w.div(i);  // plane * H + h
  const uint32_t plane = div_h.div(row);
  const int w = static_cast<int>(i - row * g.in_w), h = static_cast<int>(row - plane * g.in_h);
  const size_t offset = static_cast<size_t>(plane) * g.out_h * g.out_w;
  gx[i] = pooling::max_pool_backward_at(gy + offset, switches + offset, h, w, g, stride_h, stride_w);
}

template <typename Div>
__global__ void avg_pool_backward_kernel(const float* __restrict__ gy, float* __restrict__ gx,
                                         PoolGeometry g, FastDiv div_w, FastDiv div_h,
                                         Div stride_h, Div stride_w, uint32_t count) {
  const uint32_t i = thread_index();
  if (i >= count) return;
  const uint32_t row = div_w.div(i);
  const uint32_t plane = div_h.div(row);
  const int w = static_cast<int>(i - row * g.in_w), h = static_cast<int>(row - plane * g.in_h);
  gx[i] = pooling::avg_pool_backward_at(gy + static_cast<size_t>(plane) * g.out_h * g.out_w, h, w,
                                        g, stride_h, stride_w);
}

__global__ void adaptive_pool_backward_kernel(const float* __restrict__ gy, float* __restrict__ gx,
                                              PoolGeometry g, pooling::AdaptiveDivs d,
                                              uint32_t count) {
  const uint32_t i = thread_index();
  if (i >= count) return;
  const uint32_t row = d.in_w.div(i);
  const uint32_t plane = d.in_h.div(row);
  const int w = static_cast<int>(i - row * g.in_w), h = static_cast<int>(row - plane * g.in_h);
  gx[i] = pooling::adaptive_avg_backward_at(gy + static_cast<size_t>(plane) * g.out_h * g.out_w, h,
                                            w, g, d);
}

// ---- host launchers ----------------------------------------------------------------------

int64_t in_plane(const PoolGeometry& g) { return int64_t{g.in_h} * g.in_w; }
int64_t out_plane(const PoolGeometry& g) { return int64_t{g.out_h} * g.out_w; }

pooling::AdaptiveDivs adaptive_divs(const PoolGeometry& g) {
  return pooling::AdaptiveDivs{FastDiv(g.in_h), FastDiv(g.in_w), FastDiv(g.out_h), FastDiv(g.out_w)};
}

void cuda_max_forward(const Tensor& x, Tensor& y, Tensor& switches, const PoolGeometry& g) {
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const FastDiv div_q(g.out_w), div_p(g.out_h);
  const int k = g.kernel_h == g.kernel_w && (g.kernel_h == 2 || g.kernel_h == 3) ? g.kernel_h : 0;
  for_each_chunk(g.planes, out_plane(g), [&](int64_t first, uint32_t count) {
    const float* px = x.data<float>() + first * in_plane(g);
    float* py = y.data<float>() + first * out_plane(g);
    int32_t* ps = switches.data<int32_t>() + first * out_plane(g);
    if (k == 3)
      cuda::launch(max_pool_forward_kernel<3>, blocks_for(count), kThreads, 0, stream, px, py, ps,
                   g, div_q, div_p, count);
    else if (k == 2)
      cuda::launch(max_pool_forward_kernel<2>, blocks_for(count), kThreads, 0, stream, px, py, ps,
                   g, div_q, div_p, count);
    else
      cuda::launch(max_pool_forward_kernel<0>, blocks_for(count), kThreads, 0, stream, px, py, ps,
                   g, div_q, div_p, count);
    CS_CUDA_CHECK_LAUNCH("max_pool_forward_kernel");
  });
}

void cuda_max_backward(const Tensor& gy, const Tensor& switches, Tensor& gx, const PoolGeometry& g) {
  const int device = gx.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const FastDiv div_w(g.in_w), div_h(g.in_h);
  for_each_chunk(g.planes, in_plane(g), [&](int64_t first, uint32_t count) {
    const float* pgy = gy.data<float>() + first * out_plane(g);
    const int32_t* ps = switches.data<int32_t>() + first * out_plane(g);
    float* pgx = gx.data<float>() + first * in_plane(g);
    if (g.stride_h == 2 && g.stride_w == 2)
      cuda::launch(max_pool_backward_kernel<StaticDiv<2>>, blocks_for(count), kThreads, 0, stream,
                   pgy, ps, pgx, g, div_w, div_h, StaticDiv<2>{}, StaticDiv<2>{}, count);
    else
      cuda::launch(max_pool_backward_kernel<FastDiv>, blocks_for(count), kThreads, 0, stream, pgy,
                   ps, pgx, g, div_w, div_h, FastDiv(g.stride_h), FastDiv(g.stride_w), count);
    CS_CUDA_CHECK_LAUNCH("max_pool_backward_kernel");
  });
}

void cuda_avg_forward(const Tensor& x, Tensor& y, const PoolGeometry& g) {
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const FastDiv div_q(g.out_w), div_p(g.out_h);
  for_each_chunk(g.planes, out_plane(g), [&](int64_t first, uint32_t count) {
    cuda::launch(avg_pool_forward_kernel, blocks_for(count), kThreads, 0, stream,
                 x.data<float>() + first * in_plane(g), y.data<float>() + first * out_plane(g), g,
                 div_q, div_p, count);
    CS_CUDA_CHECK_LAUNCH("avg_pool_forward_kernel");
  });
}

void cuda_avg_backward(const Tensor& gy, Tensor& gx, const PoolGeometry& g) {
  const int device = gx.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const FastDiv div_w(g.in_w), div_h(g.in_h);
  for_each_chunk(g.planes, in_plane(g), [&](int64_t first, uint32_t count) {
    const float* pgy = gy.data<float>() + first * out_plane(g);
    float* pgx = gx.data<float>() + first * in_plane(g);
    if (g.stride_h == 2 && g.stride_w == 2)
      cuda::launch(avg_pool_backward_kernel<StaticDiv<2>>, blocks_for(count), kThreads, 0, stream,
                   pgy, pgx, g, div_w, div_h, StaticDiv<2>{}, StaticDiv<2>{}, count);
    else
      cuda::launch(avg_pool_backward_kernel<FastDiv>, blocks_for(count), kThreads, 0, stream, pgy,
                   pgx, g, div_w, div_h, FastDiv(g.stride_h), FastDiv(g.stride_w), count);
    CS_CUDA_CHECK_LAUNCH("avg_pool_backward_kernel");
  });
}

void cuda_adaptive_forward(const Tensor& x, Tensor& y, const PoolGeometry& g) {
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const pooling::AdaptiveDivs d = adaptive_divs(g);
  for_each_chunk(g.planes, out_plane(g), [&](int64_t first, uint32_t count) {
    cuda::launch(adaptive_pool_forward_kernel, blocks_for(count), kThreads, 0, stream,
                 x.data<float>() + first * in_plane(g), y.data<float>() + first * out_plane(g), g,
                 d, count);
    CS_CUDA_CHECK_LAUNCH("adaptive_pool_forward_kernel");
  });
}

void cuda_adaptive_backward(const Tensor& gy, Tensor& gx, const PoolGeometry& g) {
  const int device = gx.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const pooling::AdaptiveDivs d = adaptive_divs(g);
  for_each_chunk(g.planes, in_plane(g), [&](int64_t first, uint32_t count) {
    cuda::launch(adaptive_pool_backward_kernel, blocks_for(count), kThreads, 0, stream,
                 gy.data<float>() + first * out_plane(g), gx.data<float>() + first * in_plane(g), g,
                 d, count);
    CS_CUDA_CHECK_LAUNCH("adaptive_pool_backward_kernel");
  });
}

}  // namespace

CS_REGISTER_OP(pool_registry, DeviceType::CUDA,
               (PoolImpl{&cuda_max_forward, &cuda_max_backward, &cuda_avg_forward,
                         &cuda_avg_backward, &cuda_adaptive_forward, &cuda_adaptive_backward}))

}  // namespace cs::kernels
