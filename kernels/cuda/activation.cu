// ReLU, its three backward rules, and leaky ReLU on the GPU (f32).
//
// All memory-bound and elementwise: each thread moves float4 (16-byte)
// vectors through a grid-stride loop when every pointer is 16-byte aligned,
// and a scalar loop handles the tail and unaligned views. The comparisons and
// the single multiply of leaky ReLU are exact, so every kernel matches the
// CPU reference bit for bit (NaN inputs included: NaN > 0 is false, as on the
// CPU).
//
// No __restrict__: the kernels may run in place (out == in); each element is
// read and written by the same thread.
//
// Bytes per element: forward 8 (read x, write y); standard and guided backward
// 12 (read x and gy, write gx); deconvnet backward 8, since its rule ignores x
// and the kernel never reads it.
#include "kernels/activation.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// ---- the guided-ReLU backward: the showcase kernel ----------------------------------
//
// Guided backpropagation (Springenberg et al., "Striving for Simplicity", 2015)
// combines the two other rules: a gradient passes a ReLU only where the
// forward input was positive (the true gradient's gate, [x > 0]) AND the
// gradient itself is positive (the deconvnet's gate, [gy > 0]):
//   gx = gy * [x > 0] * [gy > 0].
// Written as a select, not a product, so gx is exactly gy or +0 (a product
// would give -0 for negative gy and NaN for an infinite one).
__device__ __forceinline__ float guided_gate(float x, float gy) {
  return (x > 0.0f && gy > 0.0f) ? gy : 0.0f;
}

__global__ void __launch_bounds__(kThreads)
    guided_relu_backward_kernel(const float* x, const float* gy,
                                float* gx, int64_t n, bool vectorized) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {  // x, gy, gx all 16-byte aligned: one 16-byte load per input per thread
    const int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    const float4* g4 = reinterpret_cast<const float4*>(gy);
    float4* o4 = reinterpret_cast<float4*>(gx);
    for (int64_t v = first; v < n4; v += stride) {
      const float4 a = x4[v], g = g4[v];
      o4[v] = make_float4(guided_gate(a.x, g.x), guided_gate(a.y, g.y), guided_gate(a.z, g.z),
                          guided_gate(a.w, g.w));
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) gx[i] = guided_gate(x[i], gy[i]);
}

// ---- the other maps: one template, a functor per rule ---------------------------------

template <typename F>
__global__ void __launch_bounds__(kThreads)
    unary_map_kernel(const float* in, float* out, int64_t n,
                     bool vectorized, F f) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    for (int64_t v = first; v < n4; v += stride) {
      const float4 a = reinterpret_cast<const float4*>(in)[v];
      reinterpret_cast<float4*>(out)[v] = make_float4(f(a.x), f(a.y), f(a.z), f(a.w));
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) out[i] = f(in[i]);
}

// f(x, gy) -> gx
template <typename F>
__global__ void __launch_bounds__(kThreads)
    binary_map_kernel(const float* x, const float* gy,
                      float* out, int64_t n, bool vectorized, F f) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    for (int64_t v = first; v < n4; v += stride) {
      const float4 a = reinterpret_cast<const float4*>(x)[v];
      const float4 g = reinterpret_cast<const float4*>(gy)[v];
      reinterpret_cast<float4*>(out)[v] =
          make_float4(f(a.x, g.x), f(a.y, g.y), f(a.z, g.z), f(a.w, g.w));
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) out[i] = f(x[i], gy[i]);
}

struct ReluOp {  // y = x > 0 ? x : 0
  __device__ float operator()(float x) const { return x > 0.0f ? x : 0.0f; }
};
struct ReluStandardBackwardOp {  // the true gradient: gx = gy * [x > 0]
  __device__ float operator()(float x, float gy) const { return x > 0.0f ? gy : 0.0f; }
};
struct ReluDeconvnetBackwardOp {  // Zeiler & Fergus: gx = max(gy, 0), x ignored
  __device__ float operator()(float gy) const { return gy > 0.0f ? gy : 0.0f; }
};
struct LeakyOp {  // y = x > 0 ? x : slope * x
  float slope;
  __device__ float operator()(float x) const { return x > 0.0f ? x : slope * x; }
};
struct LeakyBackwardOp {  // gx = x > 0 ? gy : slope * gy
  float slope;
  __device__ float operator()(float x, float gy) const { return x > 0.0f ? gy : slope * gy; }
};

template <typename F>
void launch_unary(const Tensor& in, Tensor& out, F f, const char* name) {
  const int64_t n = in.numel();
  if (n == 0) return;
  const float* pi = in.data<float>();
  float* po = out.data<float>();
  const bool vec = aligned16(pi) && aligned16(po);
  const int device = in.device().index;
  cuda::set_device(device);
  cuda::launch(unary_map_kernel<F>, cuda::grid_for(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0,
               cuda::current_stream(device), pi, po, n, vec, f);
  CS_CUDA_CHECK_LAUNCH(name);
}

template <typename F>
void launch_binary(const Tensor& x, const Tensor& gy, Tensor& out, F f, const char* name) {
  const int64_t n = x.numel();
  if (n == 0) return;
  const float* px = x.data<float>();
  const float* pg = gy.data<float>();
  float* po = out.data<float>();
  const bool vec = aligned16(px) && aligned16(pg) && aligned16(po);
  const int device = x.device().index;
  cuda::set_device(device);
  cuda::launch(binary_map_kernel<F>, cuda::grid_for(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0,
               cuda::current_stream(device), px, pg, po, n, vec, f);
  CS_CUDA_CHECK_LAUNCH(name);
}

void launch_guided(const Tensor& x, const Tensor& gy, Tensor& gx) {
  const int64_t n = x.numel();
  if (n == 0) return;
  const float* px = x.data<float>();
  const float* pg = gy.data<float>();
  float* po = gx.data<float>();
  const bool vec = aligned16(px) && aligned16(pg) && aligned16(po);
  const int device = x.device().index;
  cuda::set_device(device);
  cuda::launch(guided_relu_backward_kernel, cuda::grid_for(vec ? (n + 3) / 4 : n, kThreads),
               kThreads, 0, cuda::current_stream(device), px, pg, po, n, vec);
  CS_CUDA_CHECK_LAUNCH("guided_relu_backward_kernel");
}

void cuda_relu_forward(const Tensor& x, Tensor& y) { launch_unary(x, y, ReluOp{}, "relu_forward"); }

void cuda_relu_backward(const Tensor& x, const Tensor& gy, Tensor& gx, ReluRule rule) {
  switch (rule) {
    case ReluRule::Standard:
      launch_binary(x, gy, gx, ReluStandardBackwardOp{}, "relu_backward (standard)");
      return;
    case ReluRule::Guided:
      launch_guided(x, gy, gx);
      return;
    case ReluRule::Deconvnet:
      launch_unary(gy, gx, ReluDeconvnetBackwardOp{}, "relu_backward (deconvnet)");
      return;
  }
  CS_FAIL("relu_backward: unknown rule " << static_cast<int>(rule));
}

void cuda_leaky_forward(const Tensor& x, double slope, Tensor& y) {
  launch_unary(x, y, LeakyOp{static_cast<float>(slope)}, "leaky_relu_forward");
}

void cuda_leaky_backward(const Tensor& x, const Tensor& gy, double slope, Tensor& gx) {
  launch_binary(x, gy, gx, LeakyBackwardOp{static_cast<float>(slope)}, "leaky_relu_backward");
}

}  // namespace

CS_REGISTER_OP(activation_registry, DeviceType::CUDA,
               (ActivationImpl{&cuda_relu_forward, &cuda_relu_backward, &cuda_leaky_forward,
                               &cuda_leaky_backward}))

}  // namespace cs::kernels
