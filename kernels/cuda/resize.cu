// Bilinear resize on the GPU: one thread per output (forward) or per input
// element (backward, a gather), 32-bit indexing over chunks of whole planes,
// per-element maths from kernels/resize_impl.h (shared with the host tests).
//
// The backward visits, for each input pixel, the run of output rows and
// columns whose taps touch it (bilinear::outputs_touching) and adds their
// weighted gradients in the reference's order: deterministic, no atomics,
// bitwise equal to the CPU scatter. Its cost per input grows with the
// upscaling factor squared (about (2 * out/in)^2 taps visited), which is the
// same total work as the scatter; for large factors a separable two-pass
// gather would be cheaper but would round differently.
#include <algorithm>
#include <climits>

#include "kernels/resize_impl.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;

template <typename F>
void for_each_chunk(int64_t planes, int64_t per_plane, F launch) {
  const int64_t chunk = std::max<int64_t>(1, int64_t{INT32_MAX} / per_plane);
  for (int64_t first = 0; first < planes; first += chunk) {
    const int64_t n = std::min(chunk, planes - first);
    launch(first, static_cast<uint32_t>(n * per_plane));
  }
}

unsigned blocks_for(uint32_t count) { return (count + kThreads - 1) / kThreads; }

__global__ void resize_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                      ResizeGeometry g, float scale_h, float scale_w,
                                      FastDiv div_w2, FastDiv div_h2, uint32_t count) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const uint32_t row = div_w2.div(i);  // plane * H2 + oh
  const uint32_t plane = div_h2.div(row);
  const int ow = static_cast<int>(i - row * g.out_w), oh = static_cast<int>(row - plane * g.out_h);
  y[i] = bilinear::forward_at(x + static_cast<size_t>(plane) * g.in_h * g.in_w, oh, ow, g, scale_h,
                              scale_w);
}

__global__ void resize_backward_kernel(const float* __restrict__ gy, float* __restrict__ gx,
                                       ResizeGeometry g, float scale_h, float scale_w,
                                       FastDiv div_w, FastDiv div_h, uint32_t count) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const uint32_t row = div_w.div(i);  // plane * H + ih
  const uint32_t plane = div_h.div(row);
  const int iw = static_cast<int>(i - row * g.in_w), ih = static_cast<int>(row - plane * g.in_h);
  gx[i] = bilinear::backward_at(gy + static_cast<size_t>(plane) * g.out_h * g.out_w, ih, iw, g,
                                scale_h, scale_w);
}

// PyTorch's scale for align_corners = false, computed in float as on the CPU.
float axis_scale(int in, int out) { return static_cast<float>(in) / static_cast<float>(out); }

void cuda_forward(const Tensor& x, Tensor& y, const ResizeGeometry& g) {
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const FastDiv div_w2(g.out_w), div_h2(g.out_h);
  for_each_chunk(g.planes, out_plane, [&](int64_t first, uint32_t count) {
    cuda::launch(resize_forward_kernel, blocks_for(count), kThreads, 0, stream,
                 x.data<float>() + first * in_plane, y.data<float>() + first * out_plane, g,
                 axis_scale(g.in_h, g.out_h), axis_scale(g.in_w, g.out_w), div_w2, div_h2, count);
    CS_CUDA_CHECK_LAUNCH("resize_forward_kernel");
  });
}

void cuda_backward(const Tensor& gy, Tensor& gx, const ResizeGeometry& g) {
  const int device = gx.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const FastDiv div_w(g.in_w), div_h(g.in_h);
  for_each_chunk(g.planes, in_plane, [&](int64_t first, uint32_t count) {
    cuda::launch(resize_backward_kernel, blocks_for(count), kThreads, 0, stream,
                 gy.data<float>() + first * out_plane, gx.data<float>() + first * in_plane, g,
                 axis_scale(g.in_h, g.out_h), axis_scale(g.in_w, g.out_w), div_w, div_h, count);
    CS_CUDA_CHECK_LAUNCH("resize_backward_kernel");
  });
}

}  // namespace

CS_REGISTER_OP(resize_registry, DeviceType::CUDA, (ResizeImpl{&cuda_forward, &cuda_backward}))

}  // namespace cs::kernels
