// ReLU (three backward rules) and leaky ReLU: dispatchers and CPU reference.
#include "kernels/activation.h"

namespace cs::kernels {

OpRegistry<ActivationImpl>& activation_registry() {
  static OpRegistry<ActivationImpl> registry("activation");
  return registry;
}

const char* relu_rule_name(ReluRule rule) {
  switch (rule) {
    case ReluRule::Standard: return "standard";
    case ReluRule::Guided: return "guided";
    case ReluRule::Deconvnet: return "deconvnet";
  }
  return "?";
}

void relu_forward(const Tensor& x, Tensor& y) {
  check_compatible({&x, &y}, "relu_forward");
  check_shape(y, x.shape(), "relu_forward: output");
  if (x.numel() == 0) return;
  activation_registry().get(x.device()).relu_forward(x, y);
}

void relu_backward(const Tensor& x, const Tensor& gy, Tensor& gx, ReluRule rule) {
  check_compatible({&x, &gy, &gx}, "relu_backward");
  check_shape(gy, x.shape(), "relu_backward: output gradient");
  check_shape(gx, x.shape(), "relu_backward: input gradient");
  if (x.numel() == 0) return;
  activation_registry().get(x.device()).relu_backward(x, gy, gx, rule);
}

void leaky_relu_forward(const Tensor& x, double slope, Tensor& y) {
  check_compatible({&x, &y}, "leaky_relu_forward");
  check_shape(y, x.shape(), "leaky_relu_forward: output");
  if (x.numel() == 0) return;
  activation_registry().get(x.device()).leaky_forward(x, slope, y);
}

void leaky_relu_backward(const Tensor& x, const Tensor& gy, double slope, Tensor& gx) {
  check_compatible({&x, &gy, &gx}, "leaky_relu_backward");
  check_shape(gy, x.shape(), "leaky_relu_backward: output gradient");
  check_shape(gx, x.shape(), "leaky_relu_backward: input gradient");
  if (x.numel() == 0) return;
  activation_registry().get(x.device()).leaky_backward(x, gy, slope, gx);
}

namespace {

void cpu_relu_forward(const Tensor& x, Tensor& y) {
  dispatch_floating(x.dtype(), "relu", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) py[i] = px[i] > T(0) ? px[i] : T(0);
  });
}

void cpu_relu_backward(const Tensor& x, const Tensor& gy, Tensor& gx, ReluRule rule) {
  dispatch_floating(x.dtype(), "relu", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    const T* pg = gy.data<T>();
    T* out = gx.data<T>();
    const int64_t n = x.numel();
    switch (rule) {
      case ReluRule::Standard:  // the true gradient
#pragma omp parallel for simd schedule(static) if (n > 65536)
        for (int64_t i = 0; i < n; ++i) out[i] = px[i] > T(0) ? pg[i] : T(0);
        break;
      case ReluRule::Guided:  // only positive gradients through active units
        for (int64_t i = 0; i < n; ++i) out[i] = px[i] > T(0) && pg[i] > T(0) ? pg[i] : T(0);
        break;
      case ReluRule::Deconvnet:  // rectify the signal going down, ignore the input
        for (int64_t i = 0; i < n; ++i) out[i] = pg[i] > T(0) ? pg[i] : T(0);
        break;
    }
  });
}

void cpu_leaky_forward(const Tensor& x, double slope, Tensor& y) {
  dispatch_floating(x.dtype(), "leaky_relu", [&](auto zero) {
    using T = decltype(zero);
    const T a = static_cast<T>(slope);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) py[i] = px[i] > T(0) ? px[i] : a * px[i];
  });
}

void cpu_leaky_backward(const Tensor& x, const Tensor& gy, double slope, Tensor& gx) {
  dispatch_floating(x.dtype(), "leaky_relu", [&](auto zero) {
    using T = decltype(zero);
    const T a = static_cast<T>(slope);
    const T* px = x.data<T>();
    const T* pg = gy.data<T>();
    T* out = gx.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = px[i] > T(0) ? pg[i] : a * pg[i];
  });
}

}  // namespace

CS_REGISTER_OP(activation_registry, DeviceType::CPU,
               (ActivationImpl{&cpu_relu_forward, &cpu_relu_backward, &cpu_leaky_forward,
                               &cpu_leaky_backward}))

}  // namespace cs::kernels
