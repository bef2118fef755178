// Bilinear resize: dispatchers and the CPU reference (forward gathers four
// neighbours; backward scatters each gradient back to them).
#include "kernels/resize.h"

namespace cs::kernels {

OpRegistry<ResizeImpl>& resize_registry() {
  static OpRegistry<ResizeImpl> registry("resize_bilinear");
  return registry;
}

namespace {
void check_resize(const Tensor& small_or_in, const Tensor& out, const char* op) {
  CS_CHECK(small_or_in.ndim() == 4 && out.ndim() == 4 && small_or_in.dim(0) == out.dim(0) &&
               small_or_in.dim(1) == out.dim(1),
           op << ": " << shape_str(small_or_in.shape()) << " and " << shape_str(out.shape())
              << " must be (N, C, H, W) with the same N and C");
  CS_CHECK(small_or_in.dim(2) > 0 && small_or_in.dim(3) > 0 && out.dim(2) > 0 && out.dim(3) > 0,
           op << ": empty image size in " << shape_str(small_or_in.shape()) << " -> "
              << shape_str(out.shape()));
}
}  // namespace

void resize_bilinear_forward(const Tensor& x, Tensor& y) {
  check_compatible({&x, &y}, "resize_bilinear_forward");
  check_resize(x, y, "resize_bilinear_forward");
  if (y.numel() == 0) return;
  resize_registry().get(x.device()).forward(x, y);
}

void resize_bilinear_backward(const Tensor& gy, Tensor& gx) {
  check_compatible({&gy, &gx}, "resize_bilinear_backward");
  check_resize(gx, gy, "resize_bilinear_backward");
  if (gx.numel() == 0) return;
  resize_registry().get(gy.device()).backward(gy, gx);
}

namespace {

template <typename T, bool kBackward>
void resize_typed(const Tensor& src, Tensor& dst) {
  // Forward: src = x (H, W) -> dst = y (P, Q). Backward: src = gy, dst = gx.
  const Tensor& in = kBackward ? dst : src;
  const Tensor& out = kBackward ? src : dst;
  const int64_t planes = in.dim(0) * in.dim(1), H = in.dim(2), W = in.dim(3);
  const int64_t P = out.dim(2), Q = out.dim(3);
  const T* ps = src.data<T>();
  T* pd = dst.data<T>();
  if (kBackward) std::fill(pd, pd + dst.numel(), T(0));
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t p = 0; p < P; ++p) {
      const BilinearTap th = bilinear_tap(p, H, P);
      const T h1 = static_cast<T>(th.lambda1), h0 = T(1) - h1;
      for (int64_t q = 0; q < Q; ++q) {
        const BilinearTap tw = bilinear_tap(q, W, Q);
        const T w1 = static_cast<T>(tw.lambda1), w0 = T(1) - w1;
        const int64_t base = plane * H * W;
        const int64_t o = (plane * P + p) * Q + q;
        if (!kBackward) {
          pd[o] = h0 * (w0 * ps[base + th.i0 * W + tw.i0] + w1 * ps[base + th.i0 * W + tw.i1]) +
                  h1 * (w0 * ps[base + th.i1 * W + tw.i0] + w1 * ps[base + th.i1 * W + tw.i1]);
        } else {
          const T g = ps[o];
          pd[base + th.i0 * W + tw.i0] += h0 * w0 * g;
          pd[base + th.i0 * W + tw.i1] += h0 * w1 * g;
          pd[base + th.i1 * W + tw.i0] += h1 * w0 * g;
          pd[base + th.i1 * W + tw.i1] += h1 * w1 * g;
        }
      }
    }
}

void cpu_forward(const Tensor& x, Tensor& y) {
  dispatch_floating(x.dtype(), "resize_bilinear", [&](auto z) { resize_typed<decltype(z), false>(x, y); });
}
void cpu_backward(const Tensor& gy, Tensor& gx) {
  dispatch_floating(gy.dtype(), "resize_bilinear", [&](auto z) { resize_typed<decltype(z), true>(gy, gx); });
}

}  // namespace

CS_REGISTER_OP(resize_registry, DeviceType::CPU, (ResizeImpl{&cpu_forward, &cpu_backward}))

}  // namespace cs::kernels
