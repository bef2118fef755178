// Pooling: dispatchers (all argument checks) and the CPU reference.
//
// The reference follows PyTorch's CPU kernels (aten/src/ATen/native/cpu/
// MaxPoolKernel.cpp, AvgPoolKernel.cpp, AdaptiveAvgPoolKernel.cpp) line by
// line: windows clipped to the input, ties to the first maximum, NaN taking
// over, divisors counted as PyTorch counts them. Backward passes scatter, in
// row-major output order, into a zeroed gx: that order is the specification
// the GPU's gathers reproduce.
#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/pool_impl.h"

namespace cs::kernels {

OpRegistry<PoolImpl>& pool_registry() {
  static OpRegistry<PoolImpl> registry("pool2d");
  return registry;
}

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

int64_t pooled_size(int64_t in, int kernel, int stride, int pad, bool ceil_mode) {
  int64_t out = floor_div(in + 2 * int64_t{pad} - kernel + (ceil_mode ? stride - 1 : 0), stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

namespace {

// Checks x's shape and the window arguments; returns the geometry.
PoolGeometry pool_geometry(const Shape& x, const Pool2dArgs& a, const char* op) {
  CS_CHECK(x.size() == 4, op << ": input must be (N, C, H, W), got " << shape_str(x));
  CS_CHECK(a.kernel_h > 0 && a.kernel_w > 0,
           op << ": kernel size must be positive, got " << a.kernel_h << "x" << a.kernel_w);
  CS_CHECK(a.stride_h > 0 && a.stride_w > 0,
           op << ": stride must be positive, got " << a.stride_h << "x" << a.stride_w);
  CS_CHECK(a.pad_h >= 0 && a.pad_w >= 0,
           op << ": padding must be non-negative, got " << a.pad_h << "x" << a.pad_w);
  CS_CHECK(2 * int64_t{a.pad_h} <= a.kernel_h && 2 * int64_t{a.pad_w} <= a.kernel_w,
           op << ": padding " << a.pad_h << "x" << a.pad_w << " exceeds half the kernel "
              << a.kernel_h << "x" << a.kernel_w << " (pad <= kernel / 2, as PyTorch requires)");
  const int64_t h = x[2], w = x[3];
  CS_CHECK(h > 0 && w > 0, op << ": input height and width must be positive, got "
                              << shape_str(x));
  // Every window bound (start, start + kernel, input + padding) must fit in an int.
  const int64_t limit = INT32_MAX;
  CS_CHECK(h + 2 * int64_t{a.pad_h} + a.kernel_h + a.stride_h < limit &&
               w + 2 * int64_t{a.pad_w} + a.kernel_w + a.stride_w < limit && h * w <= limit,
           op << ": input " << shape_str(x) << " or window too large for 32-bit plane indexing");
  const int64_t p = pooled_size(h, a.kernel_h, a.stride_h, a.pad_h, a.ceil_mode);
  const int64_t q = pooled_size(w, a.kernel_w, a.stride_w, a.pad_w, a.ceil_mode);
  CS_CHECK(p * q <= limit, op << ": output planes of " << p << "x" << q
                               << " too large for 32-bit plane indexing");
  CS_CHECK(p > 0 && q > 0, op << ": output would be empty (" << p << "x" << q << "): input "
                              << h << "x" << w << " is too small for kernel " << a.kernel_h
                              << "x" << a.kernel_w << ", stride " << a.stride_h << "x"
                              << a.stride_w << ", padding " << a.pad_h << "x" << a.pad_w);
  PoolGeometry g;
  g.planes = x[0] * x[1];
  g.in_h = static_cast<int>(h);
  g.in_w = static_cast<int>(w);
  g.out_h = static_cast<int>(p);
  g.out_w = static_cast<int>(q);
  g.kernel_h = a.kernel_h;
  g.kernel_w = a.kernel_w;
  g.stride_h = a.stride_h;
  g.stride_w = a.stride_w;
  g.pad_h = a.pad_h;
  g.pad_w = a.pad_w;
  g.count_include_pad = a.count_include_pad;
  return g;
}

Shape pooled_shape(const Shape& x, const PoolGeometry& g) { return {x[0], x[1], g.out_h, g.out_w}; }

void check_switches(const Tensor& switches, const Tensor& like, const Shape& shape, const char* op) {
  CS_CHECK(switches.defined(), op << ": switches are undefined");
  check_dtype(switches, DType::I32, op);
  check_same_device(like, switches, op);
  check_shape(switches, shape, op);
}


const PoolImpl& impl_for(const Tensor& t) { return pool_registry().get(t.device()); }

}  // namespace

Shape pool2d_output_shape(const Shape& x, const Pool2dArgs& args) {
  return pooled_shape(x, pool_geometry(x, args, "pool2d"));
}

void max_pool2d_forward(const Tensor& x, Tensor& y, Tensor& switches, const Pool2dArgs& args) {
  const char* op = "max_pool2d_forward";
  check_compatible({&x, &y}, op);
  const PoolGeometry g = pool_geometry(x.shape(), args, op);
  check_shape(y, pooled_shape(x.shape(), g), op);
  check_switches(switches, x, y.shape(), op);
  check_no_alias(y, {&x, &switches}, op);
  check_no_alias(switches, {&x}, op);
  if (y.numel() == 0) return;
  impl_for(x).max_forward(x, y, switches, g);
}

void max_pool2d_backward(const Tensor& gy, const Tensor& switches, Tensor& gx,
                         const Pool2dArgs& args) {
  const char* op = "max_pool2d_backward";
  check_compatible({&gy, &gx}, op);
  const PoolGeometry g = pool_geometry(gx.shape(), args, op);
  check_shape(gy, pooled_shape(gx.shape(), g), op);
  check_switches(switches, gx, gy.shape(), op);
  check_no_alias(gx, {&gy, &switches}, op);
  if (gx.numel() == 0) return;
  impl_for(gx).max_backward(gy, switches, gx, g);
}

void avg_pool2d_forward(const Tensor& x, Tensor& y, const Pool2dArgs& args) {
  const char* op = "avg_pool2d_forward";
  check_compatible({&x, &y}, op);
  const PoolGeometry g = pool_geometry(x.shape(), args, op);
  check_shape(y, pooled_shape(x.shape(), g), op);
  check_no_alias(y, {&x}, op);
  if (y.numel() == 0) return;
  impl_for(x).avg_forward(x, y, g);
}

void avg_pool2d_backward(const Tensor& gy, Tensor& gx, const Pool2dArgs& args) {
  const char* op = "avg_pool2d_backward";
  check_compatible({&gy, &gx}, op);
  const PoolGeometry g = pool_geometry(gx.shape(), args, op);
  check_shape(gy, pooled_shape(gx.shape(), g), op);
  check_no_alias(gx, {&gy}, op);
  if (gx.numel() == 0) return;
  impl_for(gx).avg_backward(gy, gx, g);
}

namespace {

// x (N, C, H, W) and y (N, C, P, Q) with any P, Q >= 1 (P > H is allowed:
// bins then repeat input rows).
PoolGeometry adaptive_geometry(const Tensor& x, const Tensor& y, const char* op) {
  CS_CHECK(x.ndim() == 4 && y.ndim() == 4, op << ": input and output must be (N, C, H, W), got "
                                              << shape_str(x.shape()) << " and "
                                              << shape_str(y.shape()));
  CS_CHECK(x.dim(0) == y.dim(0) && x.dim(1) == y.dim(1),
           op << ": input " << shape_str(x.shape()) << " and output " << shape_str(y.shape())
              << " differ in batch or channels");
  const int64_t h = x.dim(2), w = x.dim(3), p = y.dim(2), q = y.dim(3);
  CS_CHECK(h > 0 && w > 0 && p > 0 && q > 0,
           op << ": spatial sizes must be positive, got input " << shape_str(x.shape())
              << " and output " << shape_str(y.shape()));
  // Planes and the bins' index maths run in 32 bits.
  CS_CHECK(h * w <= INT32_MAX && p * q <= INT32_MAX && (h + 1) * (p + 1) < INT32_MAX &&
               (w + 1) * (q + 1) < INT32_MAX,
           op << ": sizes " << shape_str(x.shape()) << " -> " << shape_str(y.shape())
              << " too large for 32-bit bin indexing");
  PoolGeometry g;
  g.planes = x.dim(0) * x.dim(1);
  g.in_h = static_cast<int>(h);
  g.in_w = static_cast<int>(w);
  g.out_h = static_cast<int>(p);
  g.out_w = static_cast<int>(q);
  return g;
}

}  // namespace

void adaptive_avg_pool2d_forward(const Tensor& x, Tensor& y) {
  const char* op = "adaptive_avg_pool2d_forward";
  check_compatible({&x, &y}, op);
  const PoolGeometry g = adaptive_geometry(x, y, op);
  check_no_alias(y, {&x}, op);
  if (y.numel() == 0) return;
  impl_for(x).adaptive_forward(x, y, g);
}

void adaptive_avg_pool2d_backward(const Tensor& gy, Tensor& gx) {
  const char* op = "adaptive_avg_pool2d_backward";
  check_compatible({&gy, &gx}, op);
  const PoolGeometry g = adaptive_geometry(gx, gy, op);
  check_no_alias(gx, {&gy}, op);
  if (gx.numel() == 0) return;
  impl_for(gx).adaptive_backward(gy, gx, g);
}

// ---- CPU reference ------------------------------------------------------------------

namespace {

// Threads only pay off beyond some work; small calls (gradchecks) stay serial.
bool worth_threads(int64_t elements) { return elements >= (int64_t{1} << 15); }

// The window of output (oh, ow) clipped to the input: rows [h0, h1), columns [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
};

Window clipped_window(int64_t oh, int64_t ow, const PoolGeometry& g) {
  const int64_t hs = oh * g.stride_h - g.pad_h, ws = ow * g.stride_w - g.pad_w;
  return Window{std::max<int64_t>(hs, 0), std::min<int64_t>(hs + g.kernel_h, g.in_h),
                std::max<int64_t>(ws, 0), std::min<int64_t>(ws + g.kernel_w, g.in_w)};
}

// x: (N, C, H, W) -> y, switches: (N, C, P, Q).
template <typename T>
void max_forward_typed(const Tensor& x, Tensor& y, Tensor& switches, const PoolGeometry& g) {
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const T* px = x.data<T>();
  T* py = y.data<T>();
  int32_t* ps = switches.data<int32_t>();
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * (in_plane + out_plane)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const T* xp = px + plane * in_plane;
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const Window win = clipped_window(oh, ow, g);
        T best = -std::numeric_limits<T>::infinity();
        int64_t arg = win.h0 * g.in_w + win.w0;
        for (int64_t ih = win.h0; ih < win.h1; ++ih)
          for (int64_t iw = win.w0; iw < win.w1; ++iw) {
            const T v = xp[ih * g.in_w + iw];
            // Strict '>': the first maximum keeps ties. NaN always takes over.
            if (v > best || std::isnan(v)) {
              best = v;
              arg = ih * g.in_w + iw;
            }
          }
        const int64_t o = plane * out_plane + oh * g.out_w + ow;
        py[o] = best;
        ps[o] = static_cast<int32_t>(arg);
      }
  }
}

// gy, switches: (N, C, P, Q) -> gx: (N, C, H, W), gx[s] += gy for each switch s.
template <typename T>
void max_backward_typed(const Tensor& gy, const Tensor& switches, Tensor& gx, const PoolGeometry& g) {
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const T* pgy = gy.data<T>();
  const int32_t* ps = switches.data<int32_t>();
  T* pgx = gx.data<T>();
  int64_t first_bad = std::numeric_limits<int64_t>::max();  // flat index into switches
#pragma omp parallel for schedule(static) reduction(min : first_bad) if (worth_threads(g.planes * (in_plane + out_plane)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    T* gxp = pgx + plane * in_plane;
    std::fill(gxp, gxp + in_plane, T(0));
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t o = plane * out_plane + oh * g.out_w + ow;
        const int64_t s = ps[o];
        // The switch must lie in its own window, as the forward writes it.
        const Window win = clipped_window(oh, ow, g);
        const int64_t sh = s >= 0 ? s / g.in_w : -1, sw = s >= 0 ? s % g.in_w : -1;
        if (sh < win.h0 || sh >= win.h1 || sw < win.w0 || sw >= win.w1) {
          first_bad = std::min(first_bad, o);
          continue;
        }
        gxp[s] += pgy[o];
      }
  }
  if (first_bad != std::numeric_limits<int64_t>::max()) {
    const int64_t q = first_bad % g.out_w, p = first_bad / g.out_w % g.out_h;
    CS_FAIL("max_pool2d_backward: switch " << ps[first_bad] << " of output (" << p << ", " << q
                                           << ") in plane " << first_bad / (int64_t{g.out_h} * g.out_w)
                                           << " lies outside its pooling window (switches must "
                                              "come from max_pool2d_forward with the same args)");
  }
}

// The divisor of output (oh, ow), as PyTorch counts it: the window cut at the
// end of the padding (ceil mode can reach beyond it), with or without the
// padded cells.
int64_t avg_divisor(int64_t oh, int64_t ow, const PoolGeometry& g) {
  const int64_t hs = oh * g.stride_h - g.pad_h, ws = ow * g.stride_w - g.pad_w;
  const int64_t he = std::min<int64_t>(hs + g.kernel_h, g.in_h + g.pad_h);
  const int64_t we = std::min<int64_t>(ws + g.kernel_w, g.in_w + g.pad_w);
  if (g.count_include_pad) return (he - hs) * (we - ws);
  const Window win = clipped_window(oh, ow, g);
  return (win.h1 - win.h0) * (win.w1 - win.w0);
}

template <typename T>
void avg_forward_typed(const Tensor& x, Tensor& y, const PoolGeometry& g) {
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const T* px = x.data<T>();
  T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * (in_plane + out_plane)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const T* xp = px + plane * in_plane;
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const Window win = clipped_window(oh, ow, g);
        T sum = 0;
        for (int64_t ih = win.h0; ih < win.h1; ++ih)
          for (int64_t iw = win.w0; iw < win.w1; ++iw) sum += xp[ih * g.in_w + iw];
        py[plane * out_plane + oh * g.out_w + ow] = sum / static_cast<T>(avg_divisor(oh, ow, g));
      }
  }
}

template <typename T>
void avg_backward_typed(const Tensor& gy, Tensor& gx, const PoolGeometry& g) {
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const T* pgy = gy.data<T>();
  T* pgx = gx.data<T>();
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * (in_plane + out_plane)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    T* gxp = pgx + plane * in_plane;
    std::fill(gxp, gxp + in_plane, T(0));
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const T delta = pgy[plane * out_plane + oh * g.out_w + ow] /
                        static_cast<T>(avg_divisor(oh, ow, g));
        const Window win = clipped_window(oh, ow, g);
        for (int64_t ih = win.h0; ih < win.h1; ++ih)
          for (int64_t iw = win.w0; iw < win.w1; ++iw) gxp[ih * g.in_w + iw] += delta;
      }
  }
}

// PyTorch's adaptive bins: output o covers [floor(o*in/out), ceil((o+1)*in/out)).
int64_t bin_start(int64_t o, int64_t in, int64_t out) { return o * in / out; }
int64_t bin_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }

template <typename T>
void adaptive_forward_typed(const Tensor& x, Tensor& y, const PoolGeometry& g) {
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const T* px = x.data<T>();
  T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * (in_plane + out_plane)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const T* xp = px + plane * in_plane;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const int64_t h0 = bin_start(oh, g.in_h, g.out_h), h1 = bin_end(oh, g.in_h, g.out_h);
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t w0 = bin_start(ow, g.in_w, g.out_w), w1 = bin_end(ow, g.in_w, g.out_w);
        T sum = 0;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) sum += xp[ih * g.in_w + iw];
        py[plane * out_plane + oh * g.out_w + ow] = sum / static_cast<T>((h1 - h0) * (w1 - w0));
      }
    }
  }
}

template <typename T>
void adaptive_backward_typed(const Tensor& gy, Tensor& gx, const PoolGeometry& g) {
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const T* pgy = gy.data<T>();
  T* pgx = gx.data<T>();
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * (in_plane + out_plane)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    T* gxp = pgx + plane * in_plane;
    std::fill(gxp, gxp + in_plane, T(0));
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const int64_t h0 = bin_start(oh, g.in_h, g.out_h), h1 = bin_end(oh, g.in_h, g.out_h);
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t w0 = bin_start(ow, g.in_w, g.out_w), w1 = bin_end(ow, g.in_w, g.out_w);
        const T delta =
            pgy[plane * out_plane + oh * g.out_w + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) gxp[ih * g.in_w + iw] += delta;
      }
    }
  }
}

void cpu_max_forward(const Tensor& x, Tensor& y, Tensor& switches, const PoolGeometry& g) {
  dispatch_floating(x.dtype(), "max_pool2d_forward",
                    [&](auto zero) { max_forward_typed<decltype(zero)>(x, y, switches, g); });
}
void cpu_max_backward(const Tensor& gy, const Tensor& switches, Tensor& gx, const PoolGeometry& g) {
  dispatch_floating(gy.dtype(), "max_pool2d_backward",
                    [&](auto zero) { max_backward_typed<decltype(zero)>(gy, switches, gx, g); });
}
void cpu_avg_forward(const Tensor& x, Tensor& y, const PoolGeometry& g) {
  dispatch_floating(x.dtype(), "avg_pool2d_forward",
                    [&](auto zero) { avg_forward_typed<decltype(zero)>(x, y, g); });
}
void cpu_avg_backward(const Tensor& gy, Tensor& gx, const PoolGeometry& g) {
  dispatch_floating(gy.dtype(), "avg_pool2d_backward",
                    [&](auto zero) { avg_backward_typed<decltype(zero)>(gy, gx, g); });
}
void cpu_adaptive_forward(const Tensor& x, Tensor& y, const PoolGeometry& g) {
  dispatch_floating(x.dtype(), "adaptive_avg_pool2d_forward",
                    [&](auto zero) { adaptive_forward_typed<decltype(zero)>(x, y, g); });
}
void cpu_adaptive_backward(const Tensor& gy, Tensor& gx, const PoolGeometry& g) {
  dispatch_floating(gy.dtype(), "adaptive_avg_pool2d_backward",
                    [&](auto zero) { adaptive_backward_typed<decltype(zero)>(gy, gx, g); });
}

}  // namespace

CS_REGISTER_OP(pool_registry, DeviceType::CPU,
               (PoolImpl{&cpu_max_forward, &cpu_max_backward, &cpu_avg_forward, &cpu_avg_backward,
                         &cpu_adaptive_forward, &cpu_adaptive_backward}))

}  // namespace cs::kernels
