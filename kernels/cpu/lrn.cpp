// Local response normalization: dispatchers and the CPU reference.
//   scale[c] = k + alpha/size * sum_{c' = c - size/2}^{c + (size-1)/2} x[c']^2
//   y[c] = x[c] * scale[c]^-beta
//   gx[j] = gy[j] scale[j]^-beta
//           - 2 alpha beta / size * x[j] * sum_{c: j in window(c)} gy[c] y[c] / scale[c]
#include "kernels/lrn.h"

#include <algorithm>
#include <cmath>

namespace cs::kernels {

OpRegistry<LrnImpl>& lrn_registry() {
  static OpRegistry<LrnImpl> registry("lrn");
  return registry;
}

namespace {
void check_lrn(const Tensor& x, const LrnArgs& a, const char* op) {
  CS_CHECK(x.ndim() == 4, op << ": input must be (N, C, H, W), got " << shape_str(x.shape()));
  CS_CHECK(a.size > 0, op << ": size must be positive, got " << a.size);
  CS_CHECK(a.k > 0 || a.alpha > 0, op << ": k and alpha cannot both be zero");
}
}  // namespace

void lrn_forward(const Tensor& x, Tensor& y, Tensor& scale, const LrnArgs& args) {
  check_compatible({&x, &y, &scale}, "lrn_forward");
  check_lrn(x, args, "lrn_forward");
  check_shape(y, x.shape(), "lrn_forward: output");
  check_shape(scale, x.shape(), "lrn_forward: scale");
  if (x.numel() == 0) return;
  lrn_registry().get(x.device()).forward(x, y, scale, args);
}

void lrn_backward(const Tensor& x, const Tensor& y, const Tensor& scale, const Tensor& gy,
                  Tensor& gx, const LrnArgs& args) {
  check_compatible({&x, &y, &scale, &gy, &gx}, "lrn_backward");
  check_lrn(x, args, "lrn_backward");
  for (const Tensor* t : {&y, &scale, &gy, static_cast<const Tensor*>(&gx)})
    check_shape(*t, x.shape(), "lrn_backward");
  if (x.numel() == 0) return;
  lrn_registry().get(x.device()).backward(x, y, scale, gy, gx, args);
}

namespace {

template <typename T>
void forward_typed(const Tensor& x, Tensor& y, Tensor& scale, const LrnArgs& a) {
  const int64_t n = x.dim(0), C = x.dim(1), hw = x.dim(2) * x.dim(3);
  const int64_t before = a.size / 2, after = (a.size - 1) / 2;
  const T* px = x.data<T>();
  T* py = y.data<T>();
  T* ps = scale.data<T>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t lo = std::max<int64_t>(0, c - before), hi = std::min<int64_t>(C - 1, c + after);
      for (int64_t j = 0; j < hw; ++j) {
        double sum = 0;
        for (int64_t cc = lo; cc <= hi; ++cc) {
          const double v = px[(i * C + cc) * hw + j];
          sum += v * v;
        }
        const double s = a.k + a.alpha / a.size * sum;
        const int64_t o = (i * C + c) * hw + j;
        ps[o] = static_cast<T>(s);
        py[o] = static_cast<T>(px[o] * std::pow(s, -a.beta));
      }
    }
}

template <typename T>
void backward_typed(const Tensor& x, const Tensor& y, const Tensor& scale, const Tensor& gy,
                    Tensor& gx, const LrnArgs& a) {
  const int64_t n = x.dim(0), C = x.dim(1), hw = x.dim(2) * x.dim(3);
  const int64_t before = a.size / 2, after = (a.size - 1) / 2;
  const T *px = x.data<T>(), *py = y.data<T>(), *ps = scale.data<T>(), *pg = gy.data<T>();
  T* out = gx.data<T>();
  const double factor = 2.0 * a.alpha * a.beta / a.size;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < C; ++j) {
      // Channels c whose window holds j: c in [j - after, j + before].
      const int64_t lo = std::max<int64_t>(0, j - after), hi = std::min<int64_t>(C - 1, j + before);
      for (int64_t s = 0; s < hw; ++s) {
        double acc = 0;
        for (int64_t c = lo; c <= hi; ++c) {
          const int64_t o = (i * C + c) * hw + s;
          acc += static_cast<double>(pg[o]) * py[o] / ps[o];
        }
        const int64_t o = (i * C + j) * hw + s;
        out[o] = static_cast<T>(pg[o] * std::pow(static_cast<double>(ps[o]), -a.beta) -
                                factor * px[o] * acc);
      }
    }
}

void cpu_forward(const Tensor& x, Tensor& y, Tensor& scale, const LrnArgs& a) {
  dispatch_floating(x.dtype(), "lrn", [&](auto z) { forward_typed<decltype(z)>(x, y, scale, a); });
}
void cpu_backward(const Tensor& x, const Tensor& y, const Tensor& scale, const Tensor& gy,
                  Tensor& gx, const LrnArgs& a) {
  dispatch_floating(x.dtype(), "lrn", [&](auto z) { backward_typed<decltype(z)>(x, y, scale, gy, gx, a); });
}

}  // namespace

CS_REGISTER_OP(lrn_registry, DeviceType::CPU, (LrnImpl{&cpu_forward, &cpu_backward}))

}  // namespace cs::kernels
