// Dropout: dispatchers and the CPU reference.
#include "kernels/dropout.h"

#include "runtime/philox.h"

namespace cs::kernels {

OpRegistry<DropoutImpl>& dropout_registry() {
  static OpRegistry<DropoutImpl> registry("dropout");
  return registry;
}

void dropout_forward(const Tensor& x, double p, uint64_t seed, uint64_t offset, Tensor& y,
                     Tensor& mask) {
  check_compatible({&x, &y}, "dropout_forward");
  check_shape(y, x.shape(), "dropout_forward: output");
  check_shape(mask, x.shape(), "dropout_forward: mask");
  check_dtype(mask, DType::U8, "dropout_forward: mask");
  check_same_device(x, mask, "dropout_forward");
  CS_CHECK(p >= 0 && p <= 1, "dropout_forward: probability " << p << " outside [0, 1]");
  if (x.numel() == 0) return;
  dropout_registry().get(x.device()).forward(x, p, seed, offset, y, mask);
}

void dropout_backward(const Tensor& gy, const Tensor& mask, double p, Tensor& gx) {
  check_compatible({&gy, &gx}, "dropout_backward");
  check_shape(gx, gy.shape(), "dropout_backward: input gradient");
  check_shape(mask, gy.shape(), "dropout_backward: mask");
  check_dtype(mask, DType::U8, "dropout_backward: mask");
  check_same_device(gy, mask, "dropout_backward");
  CS_CHECK(p >= 0 && p <= 1, "dropout_backward: probability " << p << " outside [0, 1]");
  if (gy.numel() == 0) return;
  dropout_registry().get(gy.device()).backward(gy, mask, p, gx);
}

namespace {

// The scale 1/(1-p) as a float, computed the same way on every device;
// p = 1 drops everything (scale unused).
float keep_scale(double p) { return p < 1 ? static_cast<float>(1.0 / (1.0 - p)) : 0.0f; }

void cpu_forward(const Tensor& x, double p, uint64_t seed, uint64_t offset, Tensor& y, Tensor& mask) {
  const float pf = static_cast<float>(p);
  uint8_t* m = mask.data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i)
    m[i] = p >= 1 ? 0 : (philox::uniform(seed, offset, static_cast<uint64_t>(i)) >= pf ? 1 : 0);
  dispatch_floating(x.dtype(), "dropout", [&](auto zero) {
    using T = decltype(zero);
    const T scale = static_cast<T>(keep_scale(p));
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) py[i] = m[i] ? px[i] * scale : T(0);
  });
}

void cpu_backward(const Tensor& gy, const Tensor& mask, double p, Tensor& gx) {
  const uint8_t* m = mask.data<uint8_t>();
  dispatch_floating(gy.dtype(), "dropout", [&](auto zero) {
    using T = decltype(zero);
    const T scale = static_cast<T>(keep_scale(p));
    const T* pg = gy.data<T>();
    T* out = gx.data<T>();
    for (int64_t i = 0; i < gy.numel(); ++i) out[i] = m[i] ? pg[i] * scale : T(0);
  });
}

}  // namespace

CS_REGISTER_OP(dropout_registry, DeviceType::CPU, (DropoutImpl{&cpu_forward, &cpu_backward}))

}  // namespace cs::kernels
