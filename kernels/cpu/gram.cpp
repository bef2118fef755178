// Gram matrices: dispatchers and the CPU reference (a GEMM per image).
#include "kernels/gram.h"

#include "kernels/gemm.h"

namespace cs::kernels {

OpRegistry<GramImpl>& gram_registry() {
  static OpRegistry<GramImpl> registry("gram");
  return registry;
}

void gram_forward(const Tensor& f, Tensor& g) {
  check_compatible({&f, &g}, "gram_forward");
  CS_CHECK(f.ndim() == 4, "gram_forward: features must be (N, C, H, W), got " << shape_str(f.shape()));
  CS_CHECK(f.dim(2) * f.dim(3) > 0, "gram_forward: empty feature maps " << shape_str(f.shape()));
  check_shape(g, {f.dim(0), f.dim(1), f.dim(1)}, "gram_forward: output");
  if (g.numel() == 0) return;
  gram_registry().get(f.device()).forward(f, g);
}

void gram_backward(const Tensor& f, const Tensor& gg, Tensor& gf) {
  check_compatible({&f, &gg, &gf}, "gram_backward");
  CS_CHECK(f.ndim() == 4, "gram_backward: features must be (N, C, H, W), got " << shape_str(f.shape()));
  check_shape(gg, {f.dim(0), f.dim(1), f.dim(1)}, "gram_backward: output gradient");
  check_shape(gf, f.shape(), "gram_backward: feature gradient");
  if (gf.numel() == 0) return;
  gram_registry().get(f.device()).backward(f, gg, gf);
}

namespace {

void cpu_forward(const Tensor& f, Tensor& g) {
  const int64_t n = f.dim(0), c = f.dim(1), hw = f.dim(2) * f.dim(3);
  const Tensor f3 = f.reshape({n * c, hw});
  Tensor g3 = g.reshape({n * c, c});
  for (int64_t i = 0; i < n; ++i) {
    const Tensor fi = f3.narrow(i * c, c);  // (C, HW)
    Tensor gi = g3.narrow(i * c, c);        // (C, C)
    gemm(fi, Transpose::No, fi, Transpose::Yes, gi, 1.0 / static_cast<double>(hw));
  }
}

void cpu_backward(const Tensor& f, const Tensor& gg, Tensor& gf) {
  const int64_t n = f.dim(0), c = f.dim(1), hw = f.dim(2) * f.dim(3);
  const Tensor f3 = f.reshape({n * c, hw});
  const Tensor gg3 = gg.reshape({n * c, c});
  Tensor gf3 = gf.reshape({n * c, hw});
  Tensor sym = Tensor::empty({c, c}, Device::cpu(), f.dtype());
  for (int64_t i = 0; i < n; ++i) {
    const Tensor ggi = gg3.narrow(i * c, c);
    dispatch_floating(f.dtype(), "gram_backward", [&](auto zero) {
      using T = decltype(zero);
      const T* src = ggi.data<T>();
      T* dst = sym.data<T>();
      for (int64_t a = 0; a < c; ++a)
        for (int64_t b = 0; b < c; ++b) dst[a * c + b] = src[a * c + b] + src[b * c + a];
    });
    Tensor gfi = gf3.narrow(i * c, c);
    gemm(sym, Transpose::No, f3.narrow(i * c, c), Transpose::No, gfi, 1.0 / static_cast<double>(hw));
  }
}

}  // namespace

CS_REGISTER_OP(gram_registry, DeviceType::CPU, (GramImpl{&cpu_forward, &cpu_backward}))

}  // namespace cs::kernels
