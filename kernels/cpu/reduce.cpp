#include "kernels/reduce.h"

namespace cs::kernels {

OpRegistry<ReduceImpl>& reduce_registry() {
  static OpRegistry<ReduceImpl> registry("reduce");
  return registry;
}

void sum_all(const Tensor& x, Tensor& out) {
  check_compatible({&x, &out}, "sum_all");
  CS_CHECK(out.numel() == 1, "sum_all: output must have one element, got shape "
                                 << shape_str(out.shape()));
  reduce_registry().get(x.device()).sum_all(x, out);
}

namespace {

void cpu_sum_all(const Tensor& x, Tensor& out) {
  dispatch_floating(x.dtype(), "sum_all", [&](auto zero) {
    using T = decltype(zero);
    const T* p = x.data<T>();
    double total = 0.0;
    for (int64_t i = 0; i < x.numel(); ++i) total += p[i];
    out.data<T>()[0] = static_cast<T>(total);
  });
}

}  // namespace

CS_REGISTER_OP(reduce_registry, DeviceType::CPU, (ReduceImpl{&cpu_sum_all}))

}  // namespace cs::kernels
