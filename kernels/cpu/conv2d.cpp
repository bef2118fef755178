// conv2d: dispatchers, argument checks, and the CPU reference (im2col + GEMM).
//
// A chunk of images is unrolled into one column matrix so each GEMM is large:
//   col (C/g * R * S, n_chunk * P * Q): column (i, p, q) holds the input
//   window under output position (p, q) of image i.
//   forward:          y_g (K/g, n_chunk*P*Q)   = W_g (K/g, C/g*R*S) * col
//   backward data:    col                       = W_g^T * gy_g, then col2im adds
//                                                 every column back into its window
//   backward weight:  gW_g (K/g, C/g*R*S)      += gy_g * col^T, chunk after chunk
#include "kernels/conv2d.h"

#include <algorithm>

#include "kernels/gemm.h"

namespace cs::kernels {

OpRegistry<Conv2dImpl>& conv2d_registry() {
  static OpRegistry<Conv2dImpl> registry("conv2d");
  return registry;
}

VariantRegistry<Conv2dForwardFn>& conv2d_forward_variants() {
  static VariantRegistry<Conv2dForwardFn> registry("conv2d");
  return registry;
}

Conv2dGeometry conv2d_geometry(const Shape& x, const Shape& w, const Conv2dArgs& a) {
  CS_CHECK(x.size() == 4, "conv2d: input must be (N, C, H, W), got " << shape_str(x));
  CS_CHECK(w.size() == 4, "conv2d: weight must be (K, C/groups, R, S), got " << shape_str(w));
  CS_CHECK(a.stride_h > 0 && a.stride_w > 0,
           "conv2d: stride must be positive, got " << a.stride_h << "x" << a.stride_w);
  CS_CHECK(a.dilation_h > 0 && a.dilation_w > 0,
           "conv2d: dilation must be positive, got " << a.dilation_h << "x" << a.dilation_w);
  CS_CHECK(a.pad_h >= 0 && a.pad_w >= 0,
           "conv2d: padding must be non-negative, got " << a.pad_h << "x" << a.pad_w);
  CS_CHECK(a.groups > 0, "conv2d: groups must be positive, got " << a.groups);
  Conv2dGeometry g;
  g.n = x[0], g.c = x[1], g.h = x[2], g.w = x[3];
  g.k = w[0], g.r = w[2], g.s = w[3];
  g.groups = a.groups;
  CS_CHECK(g.c % g.groups == 0, "conv2d: " << g.c << " input channels not divisible by groups="
                                           << g.groups);
  CS_CHECK(g.k % g.groups == 0, "conv2d: " << g.k << " output channels not divisible by groups="
                                           << g.groups);
  g.cg = g.c / g.groups;
  g.kg = g.k / g.groups;
  CS_CHECK(w[1] == g.cg, "conv2d: weight " << shape_str(w) << " expects " << w[1] * g.groups
                                           << " input channels with groups=" << g.groups
                                           << ", the input " << shape_str(x) << " has " << g.c);
  CS_CHECK(g.r > 0 && g.s > 0, "conv2d: empty kernel " << shape_str(w));
  const int64_t span_h = static_cast<int64_t>(a.dilation_h) * (g.r - 1) + 1;
  const int64_t span_w = static_cast<int64_t>(a.dilation_w) * (g.s - 1) + 1;
  CS_CHECK(g.h + 2 * a.pad_h >= span_h && g.w + 2 * a.pad_w >= span_w,
           "conv2d: a " << g.r << "x" << g.s << " kernel (dilation " << a.dilation_h << "x"
                        << a.dilation_w << ") does not fit the padded input "
                        << g.h + 2 * a.pad_h << "x" << g.w + 2 * a.pad_w << " of " << shape_str(x));
  g.p = (g.h + 2 * a.pad_h - span_h) / a.stride_h + 1;
  g.q = (g.w + 2 * a.pad_w - span_w) / a.stride_w + 1;
  return g;
}

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dArgs& args) {
  const Conv2dGeometry g = conv2d_geometry(x, w, args);
  return {g.n, g.k, g.p, g.q};
}

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    const Conv2dArgs& args) {
  if (bias.defined()) {
    check_compatible({&x, &w, &bias, &y}, "conv2d_forward");
  } else {
    check_compatible({&x, &w, &y}, "conv2d_forward");
  }
  const Conv2dGeometry g = conv2d_geometry(x.shape(), w.shape(), args);
  check_shape(y, {g.n, g.k, g.p, g.q}, "conv2d_forward: output");
  if (bias.defined()) check_shape(bias, {g.k}, "conv2d_forward: bias");
  if (y.numel() == 0) return;
  conv2d_registry().get(x.device()).forward(x, w, bias, y, args, g);
}

void conv2d_backward_data(const Tensor& gy, const Tensor& w, Tensor& gx, const Conv2dArgs& args) {
  check_compatible({&gy, &w, &gx}, "conv2d_backward_data");
  const Conv2dGeometry g = conv2d_geometry(gx.shape(), w.shape(), args);
  check_shape(gy, {g.n, g.k, g.p, g.q}, "conv2d_backward_data: output gradient");
  if (gx.numel() == 0) return;
  conv2d_registry().get(gy.device()).backward_data(gy, w, gx, args, g);
}

void conv2d_backward_weight(const Tensor& x, const Tensor& gy, Tensor& gw, const Conv2dArgs& args) {
  check_compatible({&x, &gy, &gw}, "conv2d_backward_weight");
  const Conv2dGeometry g = conv2d_geometry(x.shape(), gw.shape(), args);
  check_shape(gy, {g.n, g.k, g.p, g.q}, "conv2d_backward_weight: output gradient");
  if (gw.numel() == 0) return;
  conv2d_registry().get(x.device()).backward_weight(x, gy, gw, args, g);
}

void conv2d_backward_bias(const Tensor& gy, Tensor& gb) {
  check_compatible({&gy, &gb}, "conv2d_backward_bias");
  CS_CHECK(gy.ndim() == 4, "conv2d_backward_bias: gradient must be (N, K, P, Q), got "
                               << shape_str(gy.shape()));
  check_shape(gb, {gy.dim(1)}, "conv2d_backward_bias: bias gradient");
  conv2d_registry().get(gy.device()).backward_bias(gy, gb);
}

std::vector<std::string> conv2d_cuda_variants() { return conv2d_forward_variants().names(); }

void conv2d_forward_cuda_variant(const std::string& variant, const Tensor& x, const Tensor& w,
                                 const Tensor& bias, Tensor& y, const Conv2dArgs& args) {
  Conv2dForwardFn* fn = conv2d_forward_variants().get(variant);
  if (bias.defined()) {
    check_compatible({&x, &w, &bias, &y}, "conv2d_forward");
  } else {
    check_compatible({&x, &w, &y}, "conv2d_forward");
  }
  CS_CHECK(x.is_cuda(), "conv2d variant '" << variant << "' runs on CUDA tensors");
  const Conv2dGeometry g = conv2d_geometry(x.shape(), w.shape(), args);
  check_shape(y, {g.n, g.k, g.p, g.q}, "conv2d_forward: output");
  if (bias.defined()) check_shape(bias, {g.k}, "conv2d_forward: bias");
  if (y.numel() == 0) return;
  fn(x, w, bias, y, args, g);
}

// ---- CPU reference ------------------------------------------------------------------------

namespace {

// Images per chunk: keep the column matrix near 2 MiB (in cache). The chunk
// size depends on the shapes alone, so the arithmetic - and the result - is
// the same whatever the number of threads.
int64_t chunk_images(const Conv2dGeometry& g, size_t elem) {
  const int64_t per_image = g.cg * g.r * g.s * g.p * g.q * static_cast<int64_t>(elem);
  return std::clamp<int64_t>((2 << 20) / std::max<int64_t>(per_image, 1), 1, g.n);
}

// col (cg*r*s, nc*P*Q): column i*P*Q + p*Q + q holds the window of image n0+i
// under output (p, q), channels c0 .. c0+cg.
template <typename T>
void im2col(const T* x, const Conv2dGeometry& g, const Conv2dArgs& a, int64_t n0, int64_t nc,
            int64_t c0, T* col) {
  const int64_t pq = g.p * g.q, cols = nc * pq;
  for (int64_t c = 0; c < g.cg; ++c)
    for (int64_t r = 0; r < g.r; ++r)
      for (int64_t s = 0; s < g.s; ++s) {
        T* row = col + ((c * g.r + r) * g.s + s) * cols;
        for (int64_t i = 0; i < nc; ++i) {
          const T* plane = x + ((n0 + i) * g.c + c0 + c) * g.h * g.w;
          for (int64_t p = 0; p < g.p; ++p) {
            const int64_t h = p * a.stride_h - a.pad_h + r * a.dilation_h;
            T* out = row + i * pq + p * g.q;
            if (h < 0 || h >= g.h) {
              std::fill(out, out + g.q, T(0));
              continue;
            }
            const T* in = plane + h * g.w;
            for (int64_t q = 0; q < g.q; ++q) {
              const int64_t w = q * a.stride_w - a.pad_w + s * a.dilation_w;
              out[q] = (w >= 0 && w < g.w) ? in[w] : T(0);
            }
          }
        }
      }
}

// Adds every column back into its window of gx (the transpose of im2col).
template <typename T>
void col2im_add(const T* col, const Conv2dGeometry& g, const Conv2dArgs& a, int64_t n0,
                int64_t nc, int64_t c0, T* gx) {
  const int64_t pq = g.p * g.q, cols = nc * pq;
  for (int64_t c = 0; c < g.cg; ++c)
    for (int64_t r = 0; r < g.r; ++r)
      for (int64_t s = 0; s < g.s; ++s) {
        const T* row = col + ((c * g.r + r) * g.s + s) * cols;
        for (int64_t i = 0; i < nc; ++i) {
          T* plane = gx + ((n0 + i) * g.c + c0 + c) * g.h * g.w;
          for (int64_t p = 0; p < g.p; ++p) {
            const int64_t h = p * a.stride_h - a.pad_h + r * a.dilation_h;
            if (h < 0 || h >= g.h) continue;
            const T* in = row + i * pq + p * g.q;
            T* out = plane + h * g.w;
            for (int64_t q = 0; q < g.q; ++q) {
              const int64_t w = q * a.stride_w - a.pad_w + s * a.dilation_w;
              if (w >= 0 && w < g.w) out[w] += in[q];
            }
          }
        }
      }
}

// Runs body(chunk_index, n0, nc) over the batch's chunks, in parallel; each
// chunk is independent work (its own images, its own output).
template <typename Body>
void for_each_chunk(const Conv2dGeometry& g, int64_t chunk, Body body) {
  const int64_t chunks = (g.n + chunk - 1) / chunk;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < chunks; ++k) body(k, k * chunk, std::min(chunk, g.n - k * chunk));
}

template <typename T>
void forward_typed(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                   const Conv2dArgs& a, const Conv2dGeometry& g) {
  const int64_t pq = g.p * g.q, crs = g.cg * g.r * g.s;
  const int64_t chunk = chunk_images(g, sizeof(T));
  const Tensor w2 = w.reshape({g.k, crs});
  T* py = y.data<T>();
  const T* pb = bias.defined() ? bias.data<T>() : nullptr;
  for_each_chunk(g, chunk, [&](int64_t, int64_t n0, int64_t nc) {
    Tensor col = Tensor::empty({crs, nc * pq}, Device::cpu(), x.dtype());
    Tensor out = Tensor::empty({g.kg, nc * pq}, Device::cpu(), x.dtype());
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      im2col(x.data<T>(), g, a, n0, nc, grp * g.cg, col.data<T>());
      gemm(w2.narrow(grp * g.kg, g.kg), Transpose::No, col, Transpose::No, out);
      // out (K/g, nc, P*Q) -> y (nc, K, P*Q), plus bias.
      const T* po = out.data<T>();
      for (int64_t i = 0; i < nc; ++i)
        for (int64_t k = 0; k < g.kg; ++k) {
          const int64_t kk = grp * g.kg + k;
          const T b = pb ? pb[kk] : T(0);
          const T* src = po + k * nc * pq + i * pq;
          T* dst = py + ((n0 + i) * g.k + kk) * pq;
          for (int64_t j = 0; j < pq; ++j) dst[j] = src[j] + b;
        }
    }
  });
}

// gy rows of one group and chunk, gathered as (K/g, nc * P*Q).
template <typename T>
void gather_output_grad(const T* gy, const Conv2dGeometry& g, int64_t n0, int64_t nc, int64_t grp,
                        T* dst) {
  const int64_t pq = g.p * g.q;
  for (int64_t k = 0; k < g.kg; ++k)
    for (int64_t i = 0; i < nc; ++i) {
      const T* src = gy + ((n0 + i) * g.k + grp * g.kg + k) * pq;
      std::copy(src, src + pq, dst + k * nc * pq + i * pq);
    }
}

template <typename T>
void backward_data_typed(const Tensor& gy, const Tensor& w, Tensor& gx, const Conv2dArgs& a,
                         const Conv2dGeometry& g) {
  const int64_t pq = g.p * g.q, crs = g.cg * g.r * g.s;
  const int64_t chunk = chunk_images(g, sizeof(T));
  const Tensor w2 = w.reshape({g.k, crs});
  gx.zero_();
  for_each_chunk(g, chunk, [&](int64_t, int64_t n0, int64_t nc) {
    Tensor col = Tensor::empty({crs, nc * pq}, Device::cpu(), gy.dtype());
    Tensor gy_g = Tensor::empty({g.kg, nc * pq}, Device::cpu(), gy.dtype());
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      gather_output_grad(gy.data<T>(), g, n0, nc, grp, gy_g.data<T>());
      gemm(w2.narrow(grp * g.kg, g.kg), Transpose::Yes, gy_g, Transpose::No, col);
      col2im_add(col.data<T>(), g, a, n0, nc, grp * g.cg, gx.data<T>());
    }
  });
}

// Each chunk's contribution lands in its own slice of a partials buffer; the
// slices are then added in chunk order, so the sum never depends on threads.
template <typename T>
void backward_weight_typed(const Tensor& x, const Tensor& gy, Tensor& gw, const Conv2dArgs& a,
                           const Conv2dGeometry& g) {
  const int64_t pq = g.p * g.q, crs = g.cg * g.r * g.s;
  const int64_t chunk = chunk_images(g, sizeof(T));
  const int64_t chunks = (g.n + chunk - 1) / chunk;
  Tensor partials = Tensor::empty({chunks * g.k, crs}, Device::cpu(), x.dtype());
  for_each_chunk(g, chunk, [&](int64_t index, int64_t n0, int64_t nc) {
    Tensor col = Tensor::empty({crs, nc * pq}, Device::cpu(), x.dtype());
    Tensor gy_g = Tensor::empty({g.kg, nc * pq}, Device::cpu(), x.dtype());
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      im2col(x.data<T>(), g, a, n0, nc, grp * g.cg, col.data<T>());
      gather_output_grad(gy.data<T>(), g, n0, nc, grp, gy_g.data<T>());
      Tensor part = partials.narrow(index * g.k + grp * g.kg, g.kg);
      gemm(gy_g, Transpose::No, col, Transpose::Yes, part);
    }
  });
  T* out = gw.data<T>();
  const T* pp = partials.data<T>();
  const int64_t size = g.k * crs;
  std::copy(pp, pp + size, out);
  for (int64_t k = 1; k < chunks; ++k)
    for (int64_t i = 0; i < size; ++i) out[i] += pp[k * size + i];
}

void cpu_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                 const Conv2dArgs& a, const Conv2dGeometry& g) {
  dispatch_floating(x.dtype(), "conv2d_forward",
                    [&](auto zero) { forward_typed<decltype(zero)>(x, w, bias, y, a, g); });
}

void cpu_backward_data(const Tensor& gy, const Tensor& w, Tensor& gx, const Conv2dArgs& a,
                       const Conv2dGeometry& g) {
  dispatch_floating(gy.dtype(), "conv2d_backward_data",
                    [&](auto zero) { backward_data_typed<decltype(zero)>(gy, w, gx, a, g); });
}

void cpu_backward_weight(const Tensor& x, const Tensor& gy, Tensor& gw, const Conv2dArgs& a,
                         const Conv2dGeometry& g) {
  dispatch_floating(x.dtype(), "conv2d_backward_weight",
                    [&](auto zero) { backward_weight_typed<decltype(zero)>(x, gy, gw, a, g); });
}

void cpu_backward_bias(const Tensor& gy, Tensor& gb) {
  dispatch_floating(gy.dtype(), "conv2d_backward_bias", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = gy.dim(0), k = gy.dim(1), pq = gy.dim(2) * gy.dim(3);
    const T* p = gy.data<T>();
    T* out = gb.data<T>();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < k; ++c) {
      double total = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < pq; ++j) total += p[(i * k + c) * pq + j];
      out[c] = static_cast<T>(total);
    }
  });
}

}  // namespace

CS_REGISTER_OP(conv2d_registry, DeviceType::CPU,
               (Conv2dImpl{&cpu_forward, &cpu_backward_data, &cpu_backward_weight,
                           &cpu_backward_bias}))

}  // namespace cs::kernels
