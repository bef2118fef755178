// Optimizer steps: dispatchers and the CPU reference, line by line
// torch.optim.SGD and torch.optim.Adam/AdamW.
#include "kernels/optimizer.h"

#include <cmath>

namespace cs::kernels {

OpRegistry<OptimizerImpl>& optimizer_registry() {
  static OpRegistry<OptimizerImpl> registry("optimizer");
  return registry;
}

void sgd_step(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdArgs& args) {
  check_compatible({&param, &grad}, "sgd_step");
  check_shape(grad, param.shape(), "sgd_step: gradient");
  CS_CHECK(args.lr >= 0, "sgd_step: negative learning rate " << args.lr);
  CS_CHECK(args.momentum >= 0, "sgd_step: negative momentum " << args.momentum);
  if (args.momentum > 0) {
    check_compatible({&param, &momentum_buffer}, "sgd_step");
    check_shape(momentum_buffer, param.shape(), "sgd_step: momentum buffer");
  }
  if (param.numel() == 0) return;
  optimizer_registry().get(param.device()).sgd(param, grad, momentum_buffer, args);
}

void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamArgs& args) {
  check_compatible({&param, &grad, &m, &v}, "adam_step");
  check_shape(grad, param.shape(), "adam_step: gradient");
  check_shape(m, param.shape(), "adam_step: first moment");
  check_shape(v, param.shape(), "adam_step: second moment");
  CS_CHECK(args.step >= 1, "adam_step: the step count starts at 1, got " << args.step);
  CS_CHECK(args.lr >= 0 && args.eps > 0, "adam_step: bad lr " << args.lr << " or eps " << args.eps);
  if (param.numel() == 0) return;
  optimizer_registry().get(param.device()).adam(param, grad, m, v, args);
}

namespace {

void cpu_sgd(Tensor& param, const Tensor& grad, Tensor& buf, const SgdArgs& a) {
  dispatch_floating(param.dtype(), "sgd_step", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* b = a.momentum > 0 ? buf.data<T>() : nullptr;
    const T lr = static_cast<T>(a.lr), wd = static_cast<T>(a.weight_decay),
            mom = static_cast<T>(a.momentum), damp = static_cast<T>(1 - a.dampening);
    for (int64_t i = 0; i < param.numel(); ++i) {
      T d = g[i] + wd * p[i];
      if (b) {
        b[i] = a.first_step ? d : mom * b[i] + damp * d;
        d = a.nesterov ? d + mom * b[i] : b[i];
      }
      p[i] -= lr * d;
    }
  });
}

void cpu_adam(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamArgs& a) {
  dispatch_floating(param.dtype(), "adam_step", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    const double bc1 = 1 - std::pow(a.beta1, static_cast<double>(a.step));
    const double bc2 = 1 - std::pow(a.beta2, static_cast<double>(a.step));
    const T lr = static_cast<T>(a.lr), b1 = static_cast<T>(a.beta1), b2 = static_cast<T>(a.beta2),
            wd = static_cast<T>(a.weight_decay), eps = static_cast<T>(a.eps);
    const T step_size = static_cast<T>(a.lr / bc1), sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
    for (int64_t i = 0; i < param.numel(); ++i) {
      T d = g[i];
      if (a.decoupled_weight_decay)
        p[i] *= T(1) - lr * wd;
      else
        d += wd * p[i];
      pm[i] = b1 * pm[i] + (T(1) - b1) * d;
      pv[i] = b2 * pv[i] + (T(1) - b2) * d * d;
      // param -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), as torch.optim.Adam computes it.
      p[i] -= step_size * pm[i] / (std::sqrt(pv[i]) / sqrt_bc2 + eps);
    }
  });
}

}  // namespace

CS_REGISTER_OP(optimizer_registry, DeviceType::CPU, (OptimizerImpl{&cpu_sgd, &cpu_adam}))

}  // namespace cs::kernels
