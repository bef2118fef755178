// Philox fills on the GPU: one thread per element, each drawing its own
// element of the stream, identical to the CPU reference bit for bit.
#include "kernels/random.h"
#include "runtime/cuda/cuda_context.cuh"
#include "runtime/philox.h"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;

__global__ void words_kernel(int32_t* x, int64_t n, uint64_t seed, uint64_t offset) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    x[i] = static_cast<int32_t>(philox::word(seed, offset, static_cast<uint64_t>(i)));
}

// kind 0: uniform, 1: normal, 2: bernoulli. a, b: (low, width), (mean, std), (p, -).
__global__ void fill_kernel(float* x, int64_t n, uint64_t seed, uint64_t offset, int kind,
                            float a, float b) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const uint64_t k = static_cast<uint64_t>(i);
    float v;
    // __fmul_rn/__fadd_rn: no FMA contraction, so the affine map rounds like the CPU's.
    if (kind == 0)
      v = __fadd_rn(a, __fmul_rn(b, philox::uniform(seed, offset, k)));
    else if (kind == 1)
      v = __fadd_rn(a, __fmul_rn(b, philox::normal(seed, offset, k)));
    else
      v = philox::bernoulli(seed, offset, k, a) ? 1.0f : 0.0f;
    x[i] = v;
  }
}

void launch_fill(Tensor& x, uint64_t seed, uint64_t offset, int kind, float a, float b) {
  const int64_t n = x.numel();
  if (n == 0) return;
  cuda::set_device(x.device().index);
  cuda::launch(fill_kernel, cuda::grid_for(n, kThreads), kThreads, 0,
               cuda::current_stream(x.device().index), x.data<float>(), n, seed, offset, kind, a,
               b);
  CS_CUDA_CHECK_LAUNCH("random fill_kernel");
}

void cuda_words(Tensor& x, uint64_t seed, uint64_t offset) {
  const int64_t n = x.numel();
  if (n == 0) return;
  cuda::set_device(x.device().index);
  cuda::launch(words_kernel, cuda::grid_for(n, kThreads), kThreads, 0,
               cuda::current_stream(x.device().index), x.data<int32_t>(), n, seed, offset);
  CS_CUDA_CHECK_LAUNCH("random words_kernel");
}

void cuda_uniform(Tensor& x, uint64_t seed, uint64_t offset, double low, double high) {
  launch_fill(x, seed, offset, 0, static_cast<float>(low), static_cast<float>(high - low));
}
void cuda_normal(Tensor& x, uint64_t seed, uint64_t offset, double mean, double stddev) {
  launch_fill(x, seed, offset, 1, static_cast<float>(mean), static_cast<float>(stddev));
}
void cuda_bernoulli(Tensor& x, uint64_t seed, uint64_t offset, double p) {
  launch_fill(x, seed, offset, 2, static_cast<float>(p), 0.0f);
}

}  // namespace

CS_REGISTER_OP(random_registry, DeviceType::CUDA,
               (RandomImpl{&cuda_words, &cuda_uniform, &cuda_normal, &cuda_bernoulli}))

}  // namespace cs::kernels
