// Fused optimizer steps on the GPU: one launch per parameter tensor, every
// element read and written once (SGD with momentum: 12 bytes read, 8 written
// per element; Adam: 16 read, 12 written), float4 when all the tensors are
// 16-byte aligned, a scalar loop for the tail.
//
// Each operation is rounded as the CPU reference writes it (the __f*_rn
// intrinsics forbid fused multiply-adds), so the GPU follows the CPU step by
// step instead of drifting by an ulp per step.
#include "kernels/optimizer.h"
#include "runtime/cuda/cuda_context.cuh"

#include <cmath>

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

cudaStream_t prepare(const Tensor& t) {
  cuda::set_device(t.device().index);
  return cuda::current_stream(t.device().index);
}

struct SgdParams {
  float lr, weight_decay, momentum, one_minus_dampening;
  bool has_buffer, first_step, nesterov;
};

// torch.optim.SGD for one element; buf is untouched without momentum.
__device__ __forceinline__ void sgd_element(const SgdParams& a, float& p, float g, float& buf) {
  float d = __fadd_rn(g, __fmul_rn(a.weight_decay, p));
  if (a.has_buffer) {
    buf = a.first_step ? d : __fadd_rn(__fmul_rn(a.momentum, buf), __fmul_rn(a.one_minus_dampening, d));
    d = a.nesterov ? __fadd_rn(d, __fmul_rn(a.momentum, buf)) : buf;
  }
  p = __fsub_rn(p, __fmul_rn(a.lr, d));
}

struct AdamParams {
  float lr, beta1, beta2, eps, weight_decay, step_size, sqrt_bias_correction2;
  bool decoupled;
};

// torch.optim.Adam / AdamW for one element.
__device__ __forceinline__ void adam_element(const AdamParams& a, float& p, float g, float& m,
                                             float& v) {
  float d = g;
  if (a.decoupled)
    p = __fmul_rn(p, __fsub_rn(1.0f, __fmul_rn(a.lr, a.weight_decay)));
  else
    d = __fadd_rn(d, __fmul_rn(a.weight_decay, p));
  m = __fadd_rn(__fmul_rn(a.beta1, m), __fmul_rn(__fsub_rn(1.0f, a.beta1), d));
  v = __fadd_rn(__fmul_rn(a.beta2, v), __fmul_rn(__fmul_rn(__fsub_rn(1.0f, a.beta2), d), d));
  const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(v), a.sqrt_bias_correction2), a.eps);
  p = __fsub_rn(p, __fdiv_rn(__fmul_rn(a.step_size, m), denom));
}

__global__ void sgd_kernel(SgdParams a, float* param, const float* grad, float* buf, int64_t n,
                           bool vectorized) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    float4* p4 = reinterpret_cast<float4*>(param);
    const float4* g4 = reinterpret_cast<const float4*>(grad);
    float4* b4 = reinterpret_cast<float4*>(buf);
    for (int64_t i = first; i < n4; i += stride) {
      float4 p = p4[i];
      const float4 g = g4[i];
      float4 b = a.has_buffer && !a.first_step ? b4[i] : make_float4(0, 0, 0, 0);
      sgd_element(a, p.x, g.x, b.x);
      sgd_element(a, p.y, g.y, b.y);
      sgd_element(a, p.z, g.z, b.z);
      sgd_element(a, p.w, g.w, b.w);
      p4[i] = p;
      if (a.has_buffer) b4[i] = b;
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) {
    float p = param[i];
    float b = a.has_buffer && !a.first_step ? buf[i] : 0.0f;
    sgd_element(a, p, grad[i], b);
    param[i] = p;
    if (a.has_buffer) buf[i] = b;
  }
}

__global__ void adam_kernel(AdamParams a, float* param, const float* grad, float* m, float* v,
                            int64_t n, bool vectorized) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    float4* p4 = reinterpret_cast<float4*>(param);
    const float4* g4 = reinterpret_cast<const float4*>(grad);
    float4* m4 = reinterpret_cast<float4*>(m);
    float4* v4 = reinterpret_cast<float4*>(v);
    for (int64_t i = first; i < n4; i += stride) {
      float4 p = p4[i], mm = m4[i], vv = v4[i];
      const float4 g = g4[i];
      adam_element(a, p.x, g.x, mm.x, vv.x);
      adam_element(a, p.y, g.y, mm.y, vv.y);
      adam_element(a, p.z, g.z, mm.z, vv.z);
      adam_element(a, p.w, g.w, mm.w, vv.w);
      p4[i] = p;
      m4[i] = mm;
      v4[i] = vv;
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) {
    float p = param[i], mm = m[i], vv = v[i];
    adam_element(a, p, grad[i], mm, vv);
    param[i] = p;
    m[i] = mm;
    v[i] = vv;
  }
}

void cuda_sgd(Tensor& param, const Tensor& grad, Tensor& buf, const SgdArgs& args) {
  const int64_t n = param.numel();
  const bool has_buffer = args.momentum > 0;
  // Scalars rounded to float exactly as the CPU reference rounds them.
  const SgdParams a{static_cast<float>(args.lr), static_cast<float>(args.weight_decay),
                    static_cast<float>(args.momentum), static_cast<float>(1 - args.dampening),
                    has_buffer, args.first_step, args.nesterov};
  float* pb = has_buffer ? buf.data<float>() : nullptr;
  const bool vec = aligned16(param.data<float>()) && aligned16(grad.data<float>()) &&
                   (!has_buffer || aligned16(pb));
  cuda::launch(sgd_kernel, cuda::grid_for(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0,
               prepare(param), a, param.data<float>(), grad.data<float>(), pb, n, vec);
  CS_CUDA_CHECK_LAUNCH("sgd_kernel");
}

void cuda_adam(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamArgs& args) {
  const int64_t n = param.numel();
  const double bc1 = 1 - std::pow(args.beta1, static_cast<double>(args.step));
  const double bc2 = 1 - std::pow(args.beta2, static_cast<double>(args.step));
  const AdamParams a{static_cast<float>(args.lr),          static_cast<float>(args.beta1),
                     static_cast<float>(args.beta2),       static_cast<float>(args.eps),
                     static_cast<float>(args.weight_decay), static_cast<float>(args.lr / bc1),
                     static_cast<float>(std::sqrt(bc2)),   args.decoupled_weight_decay};
  const bool vec = aligned16(param.data<float>()) && aligned16(grad.data<float>()) &&
                   aligned16(m.data<float>()) && aligned16(v.data<float>());
  cuda::launch(adam_kernel, cuda::grid_for(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0,
               prepare(param), a, param.data<float>(), grad.data<float>(), m.data<float>(),
               v.data<float>(), n, vec);
  CS_CUDA_CHECK_LAUNCH("adam_kernel");
}

}  // namespace

CS_REGISTER_OP(optimizer_registry, DeviceType::CUDA, (OptimizerImpl{&cuda_sgd, &cuda_adam}))

}  // namespace cs::kernels
