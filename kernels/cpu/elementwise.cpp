// Elementwise ops: dispatchers (argument checks) and the CPU reference.
#include "kernels/elementwise.h"

#include <algorithm>
#include <cmath>

namespace cs::kernels {

OpRegistry<ElementwiseImpl>& elementwise_registry() {
  static OpRegistry<ElementwiseImpl> registry("elementwise");
  return registry;
}

namespace {

void check_same_numel(const Tensor& a, const Tensor& b, const char* op) {
  CS_CHECK(a.numel() == b.numel(), op << ": element counts differ: " << shape_str(a.shape())
                                      << " vs " << shape_str(b.shape()));
}

const ElementwiseImpl& impl_for(const Tensor& t) { return elementwise_registry().get(t.device()); }

}  // namespace

void fill(Tensor& x, double value) {
  check_compute_dtype(x, "fill");
  impl_for(x).fill(x, value);
}

void copy(const Tensor& x, Tensor& y) {
  CS_CHECK(x.defined() && y.defined(), "copy: undefined tensor");
  check_same_numel(x, y, "copy");
  y.copy_from(x);
}

#define CS_BINARY_DISPATCH(op)                                 \
  void op(const Tensor& a, const Tensor& b, Tensor& out) {     \
    check_compatible({&a, &b, &out}, #op);                     \
    check_same_numel(a, b, #op);                               \
    check_same_numel(a, out, #op);                             \
    impl_for(a).op(a, b, out);                                 \
  }
CS_BINARY_DISPATCH(add)
CS_BINARY_DISPATCH(sub)
CS_BINARY_DISPATCH(mul)
CS_BINARY_DISPATCH(div)
#undef CS_BINARY_DISPATCH

void scale(const Tensor& x, double alpha, Tensor& out) {
  check_compatible({&x, &out}, "scale");
  check_same_numel(x, out, "scale");
  impl_for(x).scale(x, alpha, out);
}

void axpy(double alpha, const Tensor& x, Tensor& y) {
  check_compatible({&x, &y}, "axpy");
  check_same_numel(x, y, "axpy");
  impl_for(x).axpy(alpha, x, y);
}

void add_scalar(const Tensor& x, double c, Tensor& out) {
  check_compatible({&x, &out}, "add_scalar");
  check_same_numel(x, out, "add_scalar");
  impl_for(x).add_scalar(x, c, out);
}

void abs(const Tensor& x, Tensor& out) {
  check_compatible({&x, &out}, "abs");
  check_same_numel(x, out, "abs");
  impl_for(x).abs(x, out);
}

void clamp(const Tensor& x, double lo, double hi, Tensor& out) {
  check_compatible({&x, &out}, "clamp");
  check_same_numel(x, out, "clamp");
  CS_CHECK(lo <= hi, "clamp: lower bound " << lo << " above upper bound " << hi);
  impl_for(x).clamp(x, lo, hi, out);
}

// ---- CPU reference ----------------------------------------------------------

namespace {

template <typename F>
void map_unary(const Tensor& x, Tensor& out, F f) {
  dispatch_floating(x.dtype(), "elementwise", [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) o[i] = f(in[i]);
  });
}

template <typename F>
void map_binary(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  dispatch_floating(a.dtype(), "elementwise", [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* o = out.data<T>();
    const int64_t n = a.numel();
    for (int64_t i = 0; i < n; ++i) o[i] = f(pa[i], pb[i]);
  });
}

void cpu_fill(Tensor& x, double value) {
  dispatch_floating(x.dtype(), "fill", [&](auto zero) {
    using T = decltype(zero);
    std::fill_n(x.data<T>(), x.numel(), static_cast<T>(value));
  });
}

void cpu_add(const Tensor& a, const Tensor& b, Tensor& out) {
  map_binary(a, b, out, [](auto p, auto q) { return p + q; });
}
void cpu_sub(const Tensor& a, const Tensor& b, Tensor& out) {
  map_binary(a, b, out, [](auto p, auto q) { return p - q; });
}
void cpu_mul(const Tensor& a, const Tensor& b, Tensor& out) {
  map_binary(a, b, out, [](auto p, auto q) { return p * q; });
}

void cpu_div(const Tensor& a, const Tensor& b, Tensor& out) {
  map_binary(a, b, out, [](auto p, auto q) { return p / q; });
}

void cpu_scale(const Tensor& x, double alpha, Tensor& out) {
  map_unary(x, out, [alpha](auto v) { return static_cast<decltype(v)>(alpha) * v; });
}

void cpu_axpy(double alpha, const Tensor& x, Tensor& y) {
  map_binary(x, y, y, [alpha](auto xv, auto yv) {
    return yv + static_cast<decltype(xv)>(alpha) * xv;
  });
}

void cpu_add_scalar(const Tensor& x, double c, Tensor& out) {
  map_unary(x, out, [c](auto v) { return v + static_cast<decltype(v)>(c); });
}

void cpu_abs(const Tensor& x, Tensor& out) {
  map_unary(x, out, [](auto v) { return std::abs(v); });
}

void cpu_clamp(const Tensor& x, double lo, double hi, Tensor& out) {
  map_unary(x, out, [lo, hi](auto v) {
    using T = decltype(v);
    return std::min(std::max(v, static_cast<T>(lo)), static_cast<T>(hi));
  });
}

}  // namespace

CS_REGISTER_OP(elementwise_registry, DeviceType::CPU,
               (ElementwiseImpl{&cpu_fill, &cpu_add, &cpu_sub, &cpu_mul, &cpu_div, &cpu_scale, &cpu_axpy,
                                &cpu_add_scalar, &cpu_abs, &cpu_clamp}))

}  // namespace cs::kernels
