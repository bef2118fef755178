// Deterministic sum on the GPU: a fixed number of blocks (set by n alone)
// each reduce a grid-strided share into one partial; one block then adds
// the partials in a fixed tree. Same input, same bits, every run.
#include "kernels/reduce.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxPartials = 1024;

// Sum of `value` over the block, valid in thread 0. Fixed shape: deterministic.
__device__ float block_sum(float value) {
  CS_SHARED(warp_sums, float[kThreads / 32]);
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = value;
  __syncthreads();
  value = threadIdx.x < blockDim.x / 32 ? warp_sums[lane] : 0.0f;
  if (warp == 0)
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;
}

__global__ void partial_sums_kernel(const float* x, int64_t n, float* partials) {
  float acc = 0.0f;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    acc += x[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

__global__ void final_sum_kernel(const float* partials, int count, float* out) {
  float acc = 0.0f;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) out[0] = acc;
}

void cuda_sum_all(const Tensor& x, Tensor& out) {
  const int device = x.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const int64_t n = x.numel();
  const int blocks = static_cast<int>(std::min<int64_t>(kMaxPartials, std::max<int64_t>(1, (n + kThreads - 1) / kThreads)));
  Tensor partials = Tensor::empty({blocks}, x.device());
  cuda::launch(partial_sums_kernel, blocks, kThreads, 0, stream, x.data<float>(), n,
               partials.data<float>());
  CS_CUDA_CHECK_LAUNCH("partial_sums_kernel");
  cuda::launch(final_sum_kernel, 1, kThreads, 0, stream, partials.data<float>(), blocks,
               out.data<float>());
  CS_CUDA_CHECK_LAUNCH("final_sum_kernel");
}

}  // namespace

CS_REGISTER_OP(reduce_registry, DeviceType::CUDA, (ReduceImpl{&cuda_sum_all}))

}  // namespace cs::kernels
