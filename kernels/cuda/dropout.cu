// Inverted dropout on the GPU (f32): the mask comes from the same Philox
// stream as the CPU reference (runtime/philox.h), so (seed, offset) gives the
// same mask bit for bit on both devices.
//
// Element i uses word (offset + i) of the stream, which is word
// (offset + i) % 4 of the Philox block (offset + i) / 4. One Philox call
// (10 rounds, ~100 integer instructions) yields four words, so each thread
// takes one whole Philox block, i.e. four consecutive elements, rather than
// recomputing the block for every element. When offset % 4 == 0 those four
// elements are a float4 of x and y and a uchar4 of the mask; otherwise (or
// for unaligned views, or the first/last partial block) they are handled one
// by one.
#include "kernels/dropout.h"
#include "runtime/cuda/cuda_context.cuh"
#include "runtime/philox.h"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;

bool aligned(const void* p, uintptr_t bytes) { return (reinterpret_cast<uintptr_t>(p) % bytes) == 0; }

// The scale 1/(1 - p) as a float, as the CPU reference computes it
// (kernels/cpu/dropout.cpp, keep_scale): p = 1 drops everything.
float keep_scale(double p) { return p < 1 ? static_cast<float>(1.0 / (1.0 - p)) : 0.0f; }

// Thread t handles Philox block b0 + t (b0 = offset / 4): elements
// i = 4 * (b0 + t) + k - offset, k = 0..3, those with 0 <= i < n.
__global__ void __launch_bounds__(kThreads)
    dropout_forward_kernel(const float* x, float* y,
                           uint8_t* mask, int64_t n, uint64_t seed, uint64_t offset,
                           int64_t blocks, float p, bool drop_all, float scale, bool vectorized) {
  const uint64_t b0 = offset >> 2;
  const uint32_t key0 = static_cast<uint32_t>(seed), key1 = static_cast<uint32_t>(seed >> 32);
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < blocks;
       t += stride) {
    const uint64_t block = b0 + static_cast<uint64_t>(t);
    const philox::U32x4 words = philox::philox4x32_10(
        philox::U32x4{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0u, 0u}},
        key0, key1);
    bool keep[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) keep[k] = !drop_all && philox::uniform_from_word(words.v[k]) >= p;
    // First element of this block; negative only for the first block when offset % 4 != 0.
    const int64_t first = static_cast<int64_t>(4 * block - offset);
    if (vectorized && first + 3 < n) {  // vectorized implies offset % 4 == 0, so first >= 0
      const float4 v = reinterpret_cast<const float4*>(x)[first / 4];
      reinterpret_cast<float4*>(y)[first / 4] =
          make_float4(keep[0] ? v.x * scale : 0.0f, keep[1] ? v.y * scale : 0.0f,
                      keep[2] ? v.z * scale : 0.0f, keep[3] ? v.w * scale : 0.0f);
      reinterpret_cast<uchar4*>(mask)[first / 4] =
          make_uchar4(keep[0], keep[1], keep[2], keep[3]);
    } else {
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const int64_t i = first + k;
        if (i < 0 || i >= n) continue;
        y[i] = keep[k] ? x[i] * scale : 0.0f;
        mask[i] = keep[k] ? 1 : 0;
      }
    }
  }
}

// gx = mask ? gy * scale : 0, four elements at a time where aligned.
__global__ void __launch_bounds__(kThreads)
    dropout_backward_kernel(const float* gy, const uint8_t* mask,
                            float* gx, int64_t n, float scale, bool vectorized) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    for (int64_t v = first; v < n4; v += stride) {
      const float4 g = reinterpret_cast<const float4*>(gy)[v];
      const uchar4 m = reinterpret_cast<const uchar4*>(mask)[v];
      reinterpret_cast<float4*>(gx)[v] =
          make_float4(m.x ? g.x * scale : 0.0f, m.y ? g.y * scale : 0.0f,
                      m.z ? g.z * scale : 0.0f, m.w ? g.w * scale : 0.0f);
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) gx[i] = mask[i] ? gy[i] * scale : 0.0f;
}

void cuda_forward(const Tensor& x, double p, uint64_t seed, uint64_t offset, Tensor& y,
                  Tensor& mask) {
  const int64_t n = x.numel();
  if (n == 0) return;
  const int device = x.device().index;
  cuda::set_device(device);
  const float* px = x.data<float>();
  float* py = y.data<float>();
  uint8_t* pm = mask.data<uint8_t>();
  const bool vec = offset % 4 == 0 && aligned(px, 16) && aligned(py, 16) && aligned(pm, 4);
  const int64_t blocks =
      static_cast<int64_t>(((offset + static_cast<uint64_t>(n) - 1) >> 2) - (offset >> 2) + 1);
  cuda::launch(dropout_forward_kernel, cuda::grid_for(blocks, kThreads), kThreads, 0,
               cuda::current_stream(device), px, py, pm, n, seed, offset, blocks,
               static_cast<float>(p), p >= 1, keep_scale(p), vec);
  CS_CUDA_CHECK_LAUNCH("dropout_forward_kernel");
}

void cuda_backward(const Tensor& gy, const Tensor& mask, double p, Tensor& gx) {
  const int64_t n = gy.numel();
  if (n == 0) return;
  const int device = gy.device().index;
  cuda::set_device(device);
  const float* pg = gy.data<float>();
  const uint8_t* pm = mask.data<uint8_t>();
  float* po = gx.data<float>();
  const bool vec = aligned(pg, 16) && aligned(po, 16) && aligned(pm, 4);
  cuda::launch(dropout_backward_kernel, cuda::grid_for(vec ? (n + 3) / 4 : n, kThreads), kThreads,
               0, cuda::current_stream(device), pg, pm, po, n, keep_scale(p), vec);
  CS_CUDA_CHECK_LAUNCH("dropout_backward_kernel");
}

}  // namespace

CS_REGISTER_OP(dropout_registry, DeviceType::CUDA, (DropoutImpl{&cuda_forward, &cuda_backward}))

}  // namespace cs::kernels
