// Local response normalization on the GPU: one thread per element, the
// per-element maths from kernels/lrn_impl.h (shared with the host tests). Each
// thread sums over its window of `size` channels; the neighbours' reads are
// one plane (H*W floats) apart, so a warp reads 128 contiguous bytes per
// channel and the size-fold re-reads of each value hit L1/L2 (reuse distance
// ~size*H*W*4 bytes, far below L2), leaving DRAM traffic at one read of each
// input and one write of each output. Sums run in the CPU reference's order
// with explicitly rounded operations, so `scale` is bitwise equal to the CPU;
// y and gx go through powf and match within a few ulps.
#include <algorithm>

#include "kernels/fast_div.h"
#include "kernels/lrn_impl.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;

__global__ void lrn_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                   float* __restrict__ scale, lrn::Constants<float> a,
                                   FastDiv div_plane, FastDiv div_channels, uint32_t count) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int c = static_cast<int>(div_channels.mod(div_plane.div(i)));  // i / plane = n * C + c
  const uint32_t plane = div_plane.divisor;
  float s;
  y[i] = lrn::forward_at(x + (i - c * plane), c, plane, a, s);
  scale[i] = s;
}

__global__ void lrn_backward_kernel(const float* __restrict__ x, const float* __restrict__ y,
                                    const float* __restrict__ scale, const float* __restrict__ gy,
                                    float* __restrict__ gx, lrn::Constants<float> a,
                                    FastDiv div_plane, FastDiv div_channels, uint32_t count) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int j = static_cast<int>(div_channels.mod(div_plane.div(i)));
  const uint32_t plane = div_plane.divisor;
  gx[i] = lrn::backward_at(x, y, scale, gy, i - j * plane, j, plane, a);
}

// Calls launch(first_image, count) over chunks of whole images with fewer than
// 2^31 elements (the dispatcher guarantees one image does).
template <typename F>
void for_each_chunk(const Tensor& x, F launch) {
  const int64_t images = x.dim(0), per_image = x.dim(1) * x.dim(2) * x.dim(3);
  const int64_t chunk = std::max<int64_t>(1, int64_t{INT32_MAX} / per_image);
  for (int64_t first = 0; first < images; first += chunk) {
    const int64_t n = std::min(chunk, images - first);
    launch(first * per_image, static_cast<uint32_t>(n * per_image));
  }
}

unsigned blocks_for(uint32_t count) { return (count + kThreads - 1) / kThreads; }

void cuda_forward(const Tensor& x, Tensor& y, Tensor& scale, const LrnArgs& args) {
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const lrn::Constants<float> a = lrn::constants<float>(static_cast<int>(x.dim(1)), args);
  const FastDiv div_plane(static_cast<uint32_t>(x.dim(2) * x.dim(3)));
  const FastDiv div_channels(static_cast<uint32_t>(x.dim(1)));
  for_each_chunk(x, [&](int64_t offset, uint32_t count) {
    cuda::launch(lrn_forward_kernel, blocks_for(count), kThreads, 0, stream,
                 x.data<float>() + offset, y.data<float>() + offset, scale.data<float>() + offset,
                 a, div_plane, div_channels, count);
    CS_CUDA_CHECK_LAUNCH("lrn_forward_kernel");
  });
}

void cuda_backward(const Tensor& x, const Tensor& y, const Tensor& scale, const Tensor& gy,
                   Tensor& gx, const LrnArgs& args) {
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const lrn::Constants<float> a = lrn::constants<float>(static_cast<int>(x.dim(1)), args);
  const FastDiv div_plane(static_cast<uint32_t>(x.dim(2) * x.dim(3)));
  const FastDiv div_channels(static_cast<uint32_t>(x.dim(1)));
  for_each_chunk(x, [&](int64_t offset, uint32_t count) {
    cuda::launch(lrn_backward_kernel, blocks_for(count), kThreads, 0, stream,
                 x.data<float>() + offset, y.data<float>() + offset, scale.data<float>() + offset,
                 gy.data<float>() + offset, gx.data<float>() + offset, a, div_plane, div_channels,
                 count);
    CS_CUDA_CHECK_LAUNCH("lrn_backward_kernel");
  });
}

}  // namespace

CS_REGISTER_OP(lrn_registry, DeviceType::CUDA, (LrnImpl{&cuda_forward, &cuda_backward}))

}  // namespace cs::kernels
