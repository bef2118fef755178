// Elementwise ops on the GPU: memory-bound, so each thread moves float4
// (16-byte) vectors through a grid-stride loop when the pointers allow it,
// and a scalar loop handles the tail and unaligned views.
#include "kernels/elementwise.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

template <typename F>
__global__ void unary_kernel(const float* x, float* out, int64_t n,
                             bool vectorized, F f) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* o4 = reinterpret_cast<float4*>(out);
    for (int64_t i = first; i < n4; i += stride) {
      float4 v = x4[i];
      o4[i] = make_float4(f(v.x), f(v.y), f(v.z), f(v.w));
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) out[i] = f(x[i]);
}

template <typename F>
__global__ void binary_kernel(const float* a, const float* b, float* out, int64_t n,
                              bool vectorized, F f) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* b4 = reinterpret_cast<const float4*>(b);
    float4* o4 = reinterpret_cast<float4*>(out);
    for (int64_t i = first; i < n4; i += stride) {
      const float4 p = a4[i], q = b4[i];
      o4[i] = make_float4(f(p.x, q.x), f(p.y, q.y), f(p.z, q.z), f(p.w, q.w));
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) out[i] = f(a[i], b[i]);
}

template <typename F>
void launch_unary(const Tensor& x, Tensor& out, F f, const char* name) {
  const int64_t n = x.numel();
  if (n == 0) return;
  const float* px = x.data<float>();
  float* po = out.data<float>();
  const bool vec = aligned16(px) && aligned16(po);
  cuda::set_device(x.device().index);
  cuda::launch(unary_kernel<F>, cuda::grid_for(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0,
               cuda::current_stream(x.device().index), px, po, n, vec, f);
  CS_CUDA_CHECK_LAUNCH(name);
}

template <typename F>
void launch_binary(const Tensor& a, const Tensor& b, Tensor& out, F f, const char* name) {
  const int64_t n = a.numel();
  if (n == 0) return;
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* po = out.data<float>();
  const bool vec = aligned16(pa) && aligned16(pb) && aligned16(po);
  cuda::set_device(a.device().index);
  cuda::launch(binary_kernel<F>, cuda::grid_for(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0,
               cuda::current_stream(a.device().index), pa, pb, po, n, vec, f);
  CS_CUDA_CHECK_LAUNCH(name);
}

struct AddOp { __device__ float operator()(float p, float q) const { return p + q; } };
struct SubOp { __device__ float operator()(float p, float q) const { return p - q; } };
struct MulOp { __device__ float operator()(float p, float q) const { return p * q; } };
struct DivOp { __device__ float operator()(float p, float q) const { return p / q; } };
struct ScaleOp {
  float alpha;
  __device__ float operator()(float v) const { return alpha * v; }
};
struct AxpyOp {
  float alpha;
  __device__ float operator()(float xv, float yv) const { return yv + alpha * xv; }
};
struct AddScalarOp {
  float c;
  __device__ float operator()(float v) const { return v + c; }
};
struct AbsOp { __device__ float operator()(float v) const { return fabsf(v); } };
struct ClampOp {
  float lo, hi;
  __device__ float operator()(float v) const { return fminf(fmaxf(v, lo), hi); }
};
struct FillOp {
  float value;
  __device__ float operator()(float) const { return value; }
};

void cuda_fill(Tensor& x, double value) {
  launch_unary(x, x, FillOp{static_cast<float>(value)}, "fill");
}
void cuda_add(const Tensor& a, const Tensor& b, Tensor& out) { launch_binary(a, b, out, AddOp{}, "add"); }
void cuda_sub(const Tensor& a, const Tensor& b, Tensor& out) { launch_binary(a, b, out, SubOp{}, "sub"); }
void cuda_mul(const Tensor& a, const Tensor& b, Tensor& out) { launch_binary(a, b, out, MulOp{}, "mul"); }
void cuda_div(const Tensor& a, const Tensor& b, Tensor& out) { launch_binary(a, b, out, DivOp{}, "div"); }
void cuda_scale(const Tensor& x, double alpha, Tensor& out) {
  launch_unary(x, out, ScaleOp{static_cast<float>(alpha)}, "scale");
}
void cuda_axpy(double alpha, const Tensor& x, Tensor& y) {
  launch_binary(x, y, y, AxpyOp{static_cast<float>(alpha)}, "axpy");
}
void cuda_add_scalar(const Tensor& x, double c, Tensor& out) {
  launch_unary(x, out, AddScalarOp{static_cast<float>(c)}, "add_scalar");
}
void cuda_abs(const Tensor& x, Tensor& out) { launch_unary(x, out, AbsOp{}, "abs"); }
void cuda_clamp(const Tensor& x, double lo, double hi, Tensor& out) {
  launch_unary(x, out, ClampOp{static_cast<float>(lo), static_cast<float>(hi)}, "clamp");
}

}  // namespace

CS_REGISTER_OP(elementwise_registry, DeviceType::CUDA,
               (ElementwiseImpl{&cuda_fill, &cuda_add, &cuda_sub, &cuda_mul, &cuda_div, &cuda_scale,
                                &cuda_axpy, &cuda_add_scalar, &cuda_abs, &cuda_clamp}))

}  // namespace cs::kernels
