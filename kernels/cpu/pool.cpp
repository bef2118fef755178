// Pooling: dispatchers, argument checks and the CPU reference.
#include "kernels/pool.h"

#include <cmath>
#include <limits>

namespace cs::kernels {

OpRegistry<PoolImpl>& pool_registry() {
  static OpRegistry<PoolImpl> registry("pool");
  return registry;
}

namespace {

// PyTorch's output size: floor (or ceil) of (in + 2 pad - k) / stride + 1; in
// ceil mode the last window must start inside the input or the left padding.
int64_t pooled_size(int64_t in, int k, int stride, int pad, bool ceil_mode) {
  const int64_t span = in + 2 * pad - k;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

void check_pool_args(const Shape& x, const Pool2dArgs& a) {
  CS_CHECK(x.size() == 4, "pool2d: input must be (N, C, H, W), got " << shape_str(x));
  CS_CHECK(a.kernel_h > 0 && a.kernel_w > 0,
           "pool2d: kernel must be positive, got " << a.kernel_h << "x" << a.kernel_w);
  CS_CHECK(a.stride_h > 0 && a.stride_w > 0,
           "pool2d: stride must be positive, got " << a.stride_h << "x" << a.stride_w);
  CS_CHECK(a.pad_h >= 0 && a.pad_w >= 0 && a.pad_h <= a.kernel_h / 2 && a.pad_w <= a.kernel_w / 2,
           "pool2d: padding " << a.pad_h << "x" << a.pad_w << " must be between 0 and half the "
                              << a.kernel_h << "x" << a.kernel_w << " kernel");
  CS_CHECK(x[2] + 2 * a.pad_h >= a.kernel_h && x[3] + 2 * a.pad_w >= a.kernel_w,
           "pool2d: a " << a.kernel_h << "x" << a.kernel_w << " window does not fit the input "
                        << shape_str(x) << " with padding " << a.pad_h << "x" << a.pad_w);
}

const PoolImpl& impl_for(const Tensor& t) { return pool_registry().get(t.device()); }

}  // namespace

Shape pool2d_output_shape(const Shape& x, const Pool2dArgs& a) {
  check_pool_args(x, a);
  return {x[0], x[1], pooled_size(x[2], a.kernel_h, a.stride_h, a.pad_h, a.ceil_mode),
          pooled_size(x[3], a.kernel_w, a.stride_w, a.pad_w, a.ceil_mode)};
}

void max_pool2d_forward(const Tensor& x, Tensor& y, Tensor& switches, const Pool2dArgs& args) {
  check_compatible({&x, &y}, "max_pool2d_forward");
  const Shape out = pool2d_output_shape(x.shape(), args);
  check_shape(y, out, "max_pool2d_forward: output");
  check_shape(switches, out, "max_pool2d_forward: switches");
  check_dtype(switches, DType::I32, "max_pool2d_forward: switches");
  check_same_device(x, switches, "max_pool2d_forward");
  if (y.numel() == 0) return;
  impl_for(x).max_forward(x, y, switches, args);
}

void max_pool2d_backward(const Tensor& gy, const Tensor& switches, Tensor& gx) {
  check_compatible({&gy, &gx}, "max_pool2d_backward");
  CS_CHECK(gy.ndim() == 4 && gx.ndim() == 4 && gy.dim(0) == gx.dim(0) && gy.dim(1) == gx.dim(1),
           "max_pool2d_backward: gradients " << shape_str(gy.shape()) << " and "
                                             << shape_str(gx.shape()) << " do not fit");
  check_shape(switches, gy.shape(), "max_pool2d_backward: switches");
  check_dtype(switches, DType::I32, "max_pool2d_backward: switches");
  check_same_device(gy, switches, "max_pool2d_backward");
  if (gx.numel() == 0) return;
  impl_for(gy).max_backward(gy, switches, gx);
}

void avg_pool2d_forward(const Tensor& x, Tensor& y, const Pool2dArgs& args) {
  check_compatible({&x, &y}, "avg_pool2d_forward");
  check_shape(y, pool2d_output_shape(x.shape(), args), "avg_pool2d_forward: output");
  if (y.numel() == 0) return;
  impl_for(x).avg_forward(x, y, args);
}

void avg_pool2d_backward(const Tensor& gy, Tensor& gx, const Pool2dArgs& args) {
  check_compatible({&gy, &gx}, "avg_pool2d_backward");
  check_shape(gy, pool2d_output_shape(gx.shape(), args), "avg_pool2d_backward: output gradient");
  if (gx.numel() == 0) return;
  impl_for(gy).avg_backward(gy, gx, args);
}

void adaptive_avg_pool2d_forward(const Tensor& x, Tensor& y) {
  check_compatible({&x, &y}, "adaptive_avg_pool2d_forward");
  CS_CHECK(x.ndim() == 4 && y.ndim() == 4 && x.dim(0) == y.dim(0) && x.dim(1) == y.dim(1),
           "adaptive_avg_pool2d: input " << shape_str(x.shape()) << " and output "
                                         << shape_str(y.shape()) << " must share N and C");
  CS_CHECK(x.dim(2) > 0 && x.dim(3) > 0 && y.dim(2) > 0 && y.dim(3) > 0,
           "adaptive_avg_pool2d: empty spatial size in " << shape_str(x.shape()) << " -> "
                                                         << shape_str(y.shape()));
  if (y.numel() == 0) return;
  impl_for(x).adaptive_forward(x, y);
}

void adaptive_avg_pool2d_backward(const Tensor& gy, Tensor& gx) {
  check_compatible({&gy, &gx}, "adaptive_avg_pool2d_backward");
  CS_CHECK(gx.ndim() == 4 && gy.ndim() == 4 && gx.dim(0) == gy.dim(0) && gx.dim(1) == gy.dim(1),
           "adaptive_avg_pool2d_backward: gradients " << shape_str(gy.shape()) << " and "
                                                      << shape_str(gx.shape()) << " do not fit");
  if (gx.numel() == 0) return;
  impl_for(gy).adaptive_backward(gy, gx);
}

// ---- CPU reference -----------------------------------------------------------------------

namespace {

template <typename T>
void max_forward_typed(const Tensor& x, Tensor& y, Tensor& switches, const Pool2dArgs& a) {
  const int64_t planes = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t P = y.dim(2), Q = y.dim(3);
  const T* px = x.data<T>();
  T* py = y.data<T>();
  int32_t* ps = switches.data<int32_t>();
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const T* in = px + plane * H * W;
    for (int64_t p = 0; p < P; ++p) {
      // The window's rows and columns that lie inside the input (padding never wins).
      const int64_t h0 = std::max<int64_t>(p * a.stride_h - a.pad_h, 0);
      const int64_t h1 = std::min<int64_t>(p * a.stride_h - a.pad_h + a.kernel_h, H);
      for (int64_t q = 0; q < Q; ++q) {
        const int64_t w0 = std::max<int64_t>(q * a.stride_w - a.pad_w, 0);
        const int64_t w1 = std::min<int64_t>(q * a.stride_w - a.pad_w + a.kernel_w, W);
        // The first maximum in row-major window order wins; a NaN wins over numbers.
        int64_t best_index = h0 * W + w0;
        T best = in[best_index];
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) {
            const T v = in[h * W + w];
            if (v > best || (v != v && best == best)) {
              best = v;
              best_index = h * W + w;
            }
          }
        py[(plane * P + p) * Q + q] = best;
        ps[(plane * P + p) * Q + q] = static_cast<int32_t>(best_index);
      }
    }
  }
}

template <typename T>
void max_backward_typed(const Tensor& gy, const Tensor& switches, Tensor& gx) {
  const int64_t planes = gy.dim(0) * gy.dim(1), PQ = gy.dim(2) * gy.dim(3);
  const int64_t HW = gx.dim(2) * gx.dim(3);
  const T* pg = gy.data<T>();
  const int32_t* ps = switches.data<int32_t>();
  T* out = gx.data<T>();
  std::fill(out, out + gx.numel(), T(0));
  for (int64_t i = 0; i < planes * PQ; ++i)
    CS_CHECK(ps[i] >= 0 && ps[i] < HW, "max_pool2d_backward: switch " << ps[i] << " outside the "
                                                                      << HW << " inputs of a plane");
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t j = 0; j < PQ; ++j) out[plane * HW + ps[plane * PQ + j]] += pg[plane * PQ + j];
}

// Divisor of window (p, q): cells inside the padded input (PyTorch's
// count_include_pad) or inside the input only.
int64_t avg_divisor(int64_t hs, int64_t he, int64_t ws, int64_t we, int64_t H, int64_t W,
                    const Pool2dArgs& a) {
  if (a.count_include_pad) {
    const int64_t h_end = std::min<int64_t>(he, H + a.pad_h), w_end = std::min<int64_t>(we, W + a.pad_w);
    return (h_end - hs) * (w_end - ws);
  }
  return (std::min(he, H) - std::max<int64_t>(hs, 0)) * (std::min(we, W) - std::max<int64_t>(ws, 0));
}

template <typename T, bool kBackward>
void avg_typed(const Tensor& src, Tensor& dst, const Pool2dArgs& a) {
  // Forward: src = x, dst = y. Backward: src = gy, dst = gx (each gy spread over its window).
  const Tensor& x_like = kBackward ? dst : src;
  const Tensor& y_like = kBackward ? src : dst;
  const int64_t planes = x_like.dim(0) * x_like.dim(1), H = x_like.dim(2), W = x_like.dim(3);
  const int64_t P = y_like.dim(2), Q = y_like.dim(3);
  const T* in = src.data<T>();
  T* out = dst.data<T>();
  if (kBackward) std::fill(out, out + dst.numel(), T(0));
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q) {
        const int64_t hs = p * a.stride_h - a.pad_h, ws = q * a.stride_w - a.pad_w;
        const int64_t he = hs + a.kernel_h, we = ws + a.kernel_w;
        const T divisor = static_cast<T>(avg_divisor(hs, he, ws, we, H, W, a));
        if (!kBackward) {
          T total = 0;
          for (int64_t h = std::max<int64_t>(hs, 0); h < std::min(he, H); ++h)
            for (int64_t w = std::max<int64_t>(ws, 0); w < std::min(we, W); ++w)
              total += in[plane * H * W + h * W + w];
          out[(plane * P + p) * Q + q] = total / divisor;
        } else {
          const T g = in[(plane * P + p) * Q + q] / divisor;
          for (int64_t h = std::max<int64_t>(hs, 0); h < std::min(he, H); ++h)
            for (int64_t w = std::max<int64_t>(ws, 0); w < std::min(we, W); ++w)
              out[plane * H * W + h * W + w] += g;
        }
      }
}

template <typename T, bool kBackward>
void adaptive_typed(const Tensor& src, Tensor& dst) {
  const Tensor& x_like = kBackward ? dst : src;
  const Tensor& y_like = kBackward ? src : dst;
  const int64_t planes = x_like.dim(0) * x_like.dim(1), H = x_like.dim(2), W = x_like.dim(3);
  const int64_t P = y_like.dim(2), Q = y_like.dim(3);
  const T* in = src.data<T>();
  T* out = dst.data<T>();
  if (kBackward) std::fill(out, out + dst.numel(), T(0));
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q) {
        const int64_t hs = adaptive_start(p, H, P), he = adaptive_end(p, H, P);
        const int64_t ws = adaptive_start(q, W, Q), we = adaptive_end(q, W, Q);
        const T count = static_cast<T>((he - hs) * (we - ws));
        if (!kBackward) {
          T total = 0;
          for (int64_t h = hs; h < he; ++h)
            for (int64_t w = ws; w < we; ++w) total += in[plane * H * W + h * W + w];
          out[(plane * P + p) * Q + q] = total / count;
        } else {
          const T g = in[(plane * P + p) * Q + q] / count;
          for (int64_t h = hs; h < he; ++h)
            for (int64_t w = ws; w < we; ++w) out[plane * H * W + h * W + w] += g;
        }
      }
}

void cpu_max_forward(const Tensor& x, Tensor& y, Tensor& s, const Pool2dArgs& a) {
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto z) { max_forward_typed<decltype(z)>(x, y, s, a); });
}
void cpu_max_backward(const Tensor& gy, const Tensor& s, Tensor& gx) {
  dispatch_floating(gy.dtype(), "max_pool2d", [&](auto z) { max_backward_typed<decltype(z)>(gy, s, gx); });
}
void cpu_avg_forward(const Tensor& x, Tensor& y, const Pool2dArgs& a) {
  dispatch_floating(x.dtype(), "avg_pool2d", [&](auto z) { avg_typed<decltype(z), false>(x, y, a); });
}
void cpu_avg_backward(const Tensor& gy, Tensor& gx, const Pool2dArgs& a) {
  dispatch_floating(gy.dtype(), "avg_pool2d", [&](auto z) { avg_typed<decltype(z), true>(gy, gx, a); });
}
void cpu_adaptive_forward(const Tensor& x, Tensor& y) {
  dispatch_floating(x.dtype(), "adaptive_avg_pool2d", [&](auto z) { adaptive_typed<decltype(z), false>(x, y); });
}
void cpu_adaptive_backward(const Tensor& gy, Tensor& gx) {
  dispatch_floating(gy.dtype(), "adaptive_avg_pool2d", [&](auto z) { adaptive_typed<decltype(z), true>(gy, gx); });
}

}  // namespace

CS_REGISTER_OP(pool_registry, DeviceType::CPU,
               (PoolImpl{&cpu_max_forward, &cpu_max_backward, &cpu_avg_forward, &cpu_avg_backward,
                         &cpu_adaptive_forward, &cpu_adaptive_backward}))

}  // namespace cs::kernels
