// Local response normalization: dispatchers (argument checks) and the CPU
// reference, PyTorch's LocalResponseNorm (torch/nn/functional.py,
// local_response_norm): squares averaged over a window of `size` channels
// zero-padded by size/2 before and (size-1)/2 after, so
//   scale[c] = k + alpha/size * sum_{c' = c - size/2}^{c + (size-1)/2} x[c']^2
//   y[c]     = x[c] / scale[c]^beta.
// Sums run over c' in increasing order (the GPU adds in the same order, so
// scale matches it bit for bit; y and gx differ by pow's last bits).
#include <algorithm>
#include <climits>
#include <cmath>

#include "kernels/lrn.h"

namespace cs::kernels {

OpRegistry<LrnImpl>& lrn_registry() {
  static OpRegistry<LrnImpl> registry("lrn");
  return registry;
}

namespace {

void check_lrn(const Tensor& x, const LrnArgs& args, const char* op) {
  CS_CHECK(x.ndim() == 4, op << ": x must be (N, C, H, W), got " << shape_str(x.shape()));
  CS_CHECK(args.size > 0, op << ": size must be positive, got " << args.size);
  CS_CHECK(std::isfinite(args.alpha) && std::isfinite(args.beta) && std::isfinite(args.k),
           op << ": alpha, beta and k must be finite, got " << args.alpha << ", " << args.beta
              << ", " << args.k);
  CS_CHECK(x.dim(1) * x.dim(2) * x.dim(3) <= INT32_MAX,
           op << ": images of " << shape_str(x.shape()) << " too large for 32-bit indexing");
}


const LrnImpl& impl_for(const Tensor& t) { return lrn_registry().get(t.device()); }

}  // namespace

void lrn_forward(const Tensor& x, Tensor& y, Tensor& scale, const LrnArgs& args) {
  const char* op = "lrn_forward";
  check_compatible({&x, &y, &scale}, op);
  check_lrn(x, args, op);
  check_shape(y, x.shape(), "lrn_forward: y");
  check_shape(scale, x.shape(), "lrn_forward: scale");
  check_no_alias(y, {&x, &scale}, op);
  check_no_alias(scale, {&x}, op);
  if (x.numel() == 0) return;
  impl_for(x).forward(x, y, scale, args);
}

void lrn_backward(const Tensor& x, const Tensor& y, const Tensor& scale, const Tensor& gy,
                  Tensor& gx, const LrnArgs& args) {
  const char* op = "lrn_backward";
  check_compatible({&x, &y, &scale, &gy, &gx}, op);
  check_lrn(x, args, op);
  check_shape(y, x.shape(), "lrn_backward: y");
  check_shape(scale, x.shape(), "lrn_backward: scale");
  check_shape(gy, x.shape(), "lrn_backward: gy");
  check_shape(gx, x.shape(), "lrn_backward: gx");
  check_no_alias(gx, {&x, &y, &scale, &gy}, op);
  if (x.numel() == 0) return;
  impl_for(x).backward(x, y, scale, gy, gx, args);
}

// ---- CPU reference ------------------------------------------------------------------

namespace {

// Threads only pay off beyond some work; small calls (gradchecks) stay serial.
bool worth_threads(int64_t elements) { return elements >= (int64_t{1} << 15); }

// x, y, scale: (N, C, H, W). One (n, c) plane per iteration; the plane of
// `scale` first accumulates the sum of squares.
template <typename T>
void forward_typed(const Tensor& x, Tensor& y, Tensor& scale, const LrnArgs& args) {
  const int64_t channels = x.dim(1), plane = x.dim(2) * x.dim(3), planes = x.dim(0) * channels;
  const T alpha_over_size = static_cast<T>(args.alpha / args.size);
  const T k = static_cast<T>(args.k), beta = static_cast<T>(args.beta);
  const T* px = x.data<T>();
  T* py = y.data<T>();
  T* ps = scale.data<T>();
#pragma omp parallel for schedule(static) if (worth_threads(x.numel()))
  for (int64_t nc = 0; nc < planes; ++nc) {
    const int64_t c = nc % channels;
    const T* image = px + (nc - c) * plane;  // channel 0 of this n
    const int64_t lo = std::max<int64_t>(0, c - args.size / 2);
    const int64_t hi = std::min<int64_t>(channels - 1, c + (args.size - 1) / 2);
    T* s = ps + nc * plane;
    std::fill(s, s + plane, T(0));
    for (int64_t cc = lo; cc <= hi; ++cc)
      for (int64_t i = 0; i < plane; ++i) {
        const T v = image[cc * plane + i];
        s[i] += v * v;
      }
    for (int64_t i = 0; i < plane; ++i) {
      s[i] = k + alpha_over_size * s[i];
      py[nc * plane + i] = px[nc * plane + i] / std::pow(s[i], beta);
    }
  }
}

// With W(c) = [c - size/2, c + (size-1)/2], y[c] = x[c] * scale[c]^-beta:
//   dy[c]/dx[j] = [c == j] scale[j]^-beta - x[c] beta scale[c]^(-beta-1) (2 alpha/size) x[j] [j in W(c)]
// so gx[j] = gy[j] scale[j]^-beta - (2 alpha beta/size) x[j] sum_{c : j in W(c)} gy[c] y[c] / scale[c],
// and j in W(c) <=> c in [j - (size-1)/2, j + size/2]. The gx plane holds the sum first.
template <typename T>
void backward_typed(const Tensor& x, const Tensor& y, const Tensor& scale, const Tensor& gy,
                    Tensor& gx, const LrnArgs& args) {
  const int64_t channels = x.dim(1), plane = x.dim(2) * x.dim(3), planes = x.dim(0) * channels;
  const T coef = static_cast<T>(2 * args.alpha * args.beta / args.size);
  const T neg_beta = static_cast<T>(-args.beta);
  const T *px = x.data<T>(), *py = y.data<T>(), *ps = scale.data<T>(), *pgy = gy.data<T>();
  T* pgx = gx.data<T>();
#pragma omp parallel for schedule(static) if (worth_threads(x.numel()))
  for (int64_t nc = 0; nc < planes; ++nc) {
    const int64_t j = nc % channels, first = (nc - j) * plane;  // channel 0 of this n
    const int64_t lo = std::max<int64_t>(0, j - (args.size - 1) / 2);
    const int64_t hi = std::min<int64_t>(channels - 1, j + args.size / 2);
    T* acc = pgx + nc * plane;
    std::fill(acc, acc + plane, T(0));
    for (int64_t c = lo; c <= hi; ++c) {
      const int64_t at = first + c * plane;
      for (int64_t i = 0; i < plane; ++i) acc[i] += pgy[at + i] * py[at + i] / ps[at + i];
    }
    for (int64_t i = 0; i < plane; ++i) {
      const int64_t e = nc * plane + i;
      acc[i] = pgy[e] * std::pow(ps[e], neg_beta) - coef * px[e] * acc[i];
    }
  }
}

void cpu_forward(const Tensor& x, Tensor& y, Tensor& scale, const LrnArgs& args) {
  dispatch_floating(x.dtype(), "lrn_forward",
                    [&](auto zero) { forward_typed<decltype(zero)>(x, y, scale, args); });
}

void cpu_backward(const Tensor& x, const Tensor& y, const Tensor& scale, const Tensor& gy,
                  Tensor& gx, const LrnArgs& args) {
  dispatch_floating(x.dtype(), "lrn_backward", [&](auto zero) {
    backward_typed<decltype(zero)>(x, y, scale, gy, gx, args);
  });
}

}  // namespace

CS_REGISTER_OP(lrn_registry, DeviceType::CPU, (LrnImpl{&cpu_forward, &cpu_backward}))

}  // namespace cs::kernels
