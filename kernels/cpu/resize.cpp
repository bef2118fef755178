// Bilinear resize: dispatchers (argument checks) and the CPU reference.
//
// The reference follows PyTorch's upsample_bilinear2d (align_corners =
// false; aten/src/ATen/native/UpSample.h and cuda/UpSampleBilinear2d.cu):
//   scale = in / out                                    (in T)
//   src   = scale * (dst + 0.5) - 0.5, clamped at 0
//   i0    = floor(src), i1 = i0 + 1 (i0 at the last input), l1 = src - i0, l0 = 1 - l1
//   y     = l0h * (l0w * x[h0,w0] + l1w * x[h0,w1]) + l1h * (l0w * x[h1,w0] + l1w * x[h1,w1])
// The backward scatters each gy into those four inputs, in row-major output
// order, into a zeroed gx: the GPU's gather reproduces this order bit for bit.
#include <algorithm>
#include <climits>
#include <vector>

#include "kernels/resize_impl.h"

namespace cs::kernels {

OpRegistry<ResizeImpl>& resize_registry() {
  static OpRegistry<ResizeImpl> registry("resize_bilinear");
  return registry;
}

namespace {

// x: (N, C, H, W) (the small side of a backward: gx), y: (N, C, H2, W2).
ResizeGeometry resize_geometry(const Tensor& x, const Tensor& y, const char* op) {
  CS_CHECK(x.ndim() == 4 && y.ndim() == 4, op << ": input and output must be (N, C, H, W), got "
                                              << shape_str(x.shape()) << " and "
                                              << shape_str(y.shape()));
  CS_CHECK(x.dim(0) == y.dim(0) && x.dim(1) == y.dim(1),
           op << ": input " << shape_str(x.shape()) << " and output " << shape_str(y.shape())
              << " differ in batch or channels");
  const int64_t h = x.dim(2), w = x.dim(3), h2 = y.dim(2), w2 = y.dim(3);
  CS_CHECK(h > 0 && w > 0 && h2 > 0 && w2 > 0,
           op << ": spatial sizes must be positive, got input " << shape_str(x.shape())
              << " and output " << shape_str(y.shape()));
  CS_CHECK(h * w <= INT32_MAX && h2 * w2 <= INT32_MAX,
           op << ": planes of " << shape_str(x.shape()) << " -> " << shape_str(y.shape())
              << " too large for 32-bit plane indexing");
  ResizeGeometry g;
  g.planes = x.dim(0) * x.dim(1);
  g.in_h = static_cast<int>(h);
  g.in_w = static_cast<int>(w);
  g.out_h = static_cast<int>(h2);
  g.out_w = static_cast<int>(w2);
  return g;
}

const ResizeImpl& impl_for(const Tensor& t) { return resize_registry().get(t.device()); }

}  // namespace

void resize_bilinear_forward(const Tensor& x, Tensor& y) {
  const char* op = "resize_bilinear_forward";
  check_compatible({&x, &y}, op);
  const ResizeGeometry g = resize_geometry(x, y, op);
  CS_CHECK(!y.shares_storage_with(x), op << ": y shares memory with x");
  if (y.numel() == 0) return;
  impl_for(x).forward(x, y, g);
}

void resize_bilinear_backward(const Tensor& gy, Tensor& gx) {
  const char* op = "resize_bilinear_backward";
  check_compatible({&gy, &gx}, op);
  const ResizeGeometry g = resize_geometry(gx, gy, op);
  CS_CHECK(!gx.shares_storage_with(gy), op << ": gx shares memory with gy");
  if (gx.numel() == 0) return;
  impl_for(gx).backward(gy, gx, g);
}

// ---- CPU reference ------------------------------------------------------------------

namespace {

// Threads only pay off beyond some work; small calls (gradchecks) stay serial.
bool worth_threads(int64_t elements) { return elements >= (int64_t{1} << 15); }

// The source taps of every output index along one axis.
template <typename T>
struct AxisTaps {
  std::vector<int64_t> i0, i1;
  std::vector<T> l0, l1;
};

template <typename T>
AxisTaps<T> axis_taps(int64_t in, int64_t out) {
  const T scale = static_cast<T>(in) / static_cast<T>(out);
  AxisTaps<T> taps;
  for (int64_t dst = 0; dst < out; ++dst) {
    T src = scale * (static_cast<T>(dst) + T(0.5)) - T(0.5);
    if (src < T(0)) src = T(0);  // PyTorch clamps negative source coordinates
    const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
    const T l1 = src - static_cast<T>(i0);
    taps.i0.push_back(i0);
    taps.i1.push_back(i0 < in - 1 ? i0 + 1 : i0);
    taps.l1.push_back(l1);
    taps.l0.push_back(T(1) - l1);
  }
  return taps;
}

// x: (N, C, H, W) -> y: (N, C, H2, W2).
template <typename T>
void forward_typed(const Tensor& x, Tensor& y, const ResizeGeometry& g) {
  const AxisTaps<T> th = axis_taps<T>(g.in_h, g.out_h), tw = axis_taps<T>(g.in_w, g.out_w);
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const T* px = x.data<T>();
  T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * (in_plane + out_plane)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const T* xp = px + plane * in_plane;
    T* yp = py + plane * out_plane;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const T* r0 = xp + th.i0[oh] * g.in_w;
      const T* r1 = xp + th.i1[oh] * g.in_w;
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
        yp[oh * g.out_w + ow] = th.l0[oh] * (tw.l0[ow] * r0[w0] + tw.l1[ow] * r0[w1]) +
                                th.l1[oh] * (tw.l0[ow] * r1[w0] + tw.l1[ow] * r1[w1]);
      }
    }
  }
}

// gy: (N, C, H2, W2) -> gx: (N, C, H, W), scattering each gy into its four taps.
template <typename T>
void backward_typed(const Tensor& gy, Tensor& gx, const ResizeGeometry& g) {
  const AxisTaps<T> th = axis_taps<T>(g.in_h, g.out_h), tw = axis_taps<T>(g.in_w, g.out_w);
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  const T* pgy = gy.data<T>();
  T* pgx = gx.data<T>();
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * (in_plane + out_plane)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const T* gyp = pgy + plane * out_plane;
    T* gxp = pgx + plane * in_plane;
    std::fill(gxp, gxp + in_plane, T(0));
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      T* r0 = gxp + th.i0[oh] * g.in_w;
      T* r1 = gxp + th.i1[oh] * g.in_w;
      const T l0h = th.l0[oh], l1h = th.l1[oh];
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
        const T v = gyp[oh * g.out_w + ow];
        r0[w0] += l0h * tw.l0[ow] * v;
        r0[w1] += l0h * tw.l1[ow] * v;
        r1[w0] += l1h * tw.l0[ow] * v;
        r1[w1] += l1h * tw.l1[ow] * v;
      }
    }
  }
}

void cpu_forward(const Tensor& x, Tensor& y, const ResizeGeometry& g) {
  dispatch_floating(x.dtype(), "resize_bilinear_forward",
                    [&](auto zero) { forward_typed<decltype(zero)>(x, y, g); });
}

void cpu_backward(const Tensor& gy, Tensor& gx, const ResizeGeometry& g) {
  dispatch_floating(gy.dtype(), "resize_bilinear_backward",
                    [&](auto zero) { backward_typed<decltype(zero)>(gy, gx, g); });
}

}  // namespace

CS_REGISTER_OP(resize_registry, DeviceType::CPU, (ResizeImpl{&cpu_forward, &cpu_backward}))

}  // namespace cs::kernels
