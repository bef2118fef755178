// Fixed-shape reductions for row kernels (softmax, cross-entropy, tensor ops).
// Every reduction combines values in an order that depends only on the
// launch shape, never on timing: same input, same bits, every run.
//
// A Reducer is used by all threads of its group (a warp or a whole block)
// together; every call returns the result to every thread of the group.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace cs::kernels::rowred {

constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

// One warp owns a row: `lane` in [0, 32), a stride of 32.
struct WarpReducer {
  int lane;
  __device__ int rank() const { return lane; }
  __device__ int size() const { return 32; }
  __device__ float sum(float v) const { return warp_sum(v); }
  __device__ float max(float v) const { return warp_max(v); }
};

// One block of kBlockThreads owns a row. `scratch` holds kBlockThreads / 32
// floats of shared memory; the calls synchronise the block.
template <int kBlockThreads>
struct BlockReducer {
  float* scratch;
  __device__ int rank() const { return threadIdx.x; }
  __device__ int size() const { return kBlockThreads; }

  template <typename Op>
  __device__ float reduce(float v, Op op) const {
    constexpr int kWarps = kBlockThreads / 32;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int offset = 16; offset > 0; offset /= 2) v = op(v, __shfl_xor_sync(kFullMask, v, offset));
    __syncthreads();  // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    // Every thread combines the warp results in the same order 0, 1, 2, ...
    float r = scratch[0];
    for (int w = 1; w < kWarps; ++w) r = op(r, scratch[w]);
    return r;
  }
  __device__ float sum(float v) const {
    return reduce(v, [](float a, float b) { return a + b; });
  }
  __device__ float max(float v) const {
    return reduce(v, [](float a, float b) { return fmaxf(a, b); });
  }
};

}  // namespace cs::kernels::rowred
