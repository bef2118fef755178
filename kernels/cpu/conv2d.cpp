// 2-D convolution: the dispatchers (every argument check) and the CPU
// reference, im2col + GEMM (OpenBLAS through kernels::gemm).
//
//   x: (N, C, H, W)   w: (K, Cg, R, S)   bias: (K)   y: (N, K, P, Q)
//   y[n, k, p, q] = bias[k] + sum_{c, r, s} w[k, c, r, s] *
//                   x[n, g*Cg + c, p*stride_h - pad_h + r*dilation_h, q*stride_w - pad_w + s*dilation_w]
//   where g = k / Kg is the group of output channel k, and x is 0 outside the image.
//
// The column matrix of a group for a chunk of `nc` images is
//   col: (Cg*R*S, nc*P*Q),  col[(c, r, s), (i, p, q)] = x[n0 + i, g*Cg + c, h(p, r), w(q, s)]
// so that, per group, with wg = w[g*Kg : (g+1)*Kg] viewed as (Kg, Cg*R*S):
//   forward:          out (Kg, nc*P*Q) = wg * col,            then out -> y[n0:n0+nc, g*Kg:...]
//   backward-data:    col = wg^T * gyb,  gyb (Kg, nc*P*Q) gathered from gy, then col2im -> gx
//   backward-weight:  gw_g (Kg, Cg*R*S) += gyb * col^T, over the chunks in order
// Small images are batched, several per column matrix (about 1024 columns),
// so each GEMM is large enough for OpenBLAS to run at speed; an image with
// 1024 or more output pixels is a chunk of its own, and then the GEMMs read
// gy and write y in place, with no gather or scatter.
//
// The loops around the GEMMs are serial on purpose: they are memory-bound and
// cheap next to the GEMMs, and on a busy 2-core machine every OpenMP region
// waits milliseconds for a core (measured: a 28x28 layer, dozens of regions,
// took 500 ms with OpenMP and 2-12 ms without). OpenBLAS threads the GEMMs.
#include "kernels/conv2d.h"

#include <algorithm>

#include "kernels/conv2d_impl.h"
#include "kernels/gemm.h"

namespace cs::kernels {

OpRegistry<Conv2dImpl>& conv2d_registry() {
  static OpRegistry<Conv2dImpl> registry("conv2d");
  return registry;
}

// ---- argument checks ----------------------------------------------------------

Conv2dGeometry conv2d_geometry(const Shape& x, const Shape& w, const Conv2dArgs& a,
                               const char* op) {
  const std::string shapes = "(x " + shape_str(x) + ", w " + shape_str(w) + ")";
  CS_CHECK(x.size() == 4, op << ": x must be 4-D (N, C, H, W), got " << shape_str(x));
  CS_CHECK(w.size() == 4, op << ": w must be 4-D (K, C/groups, R, S), got " << shape_str(w));
  CS_CHECK(a.groups >= 1, op << ": groups must be positive, got " << a.groups);
  CS_CHECK(a.stride_h >= 1 && a.stride_w >= 1,
           op << ": stride must be positive, got (" << a.stride_h << ", " << a.stride_w << ")");
  CS_CHECK(a.dilation_h >= 1 && a.dilation_w >= 1, op << ": dilation must be positive, got ("
                                                       << a.dilation_h << ", " << a.dilation_w
                                                       << ")");
  CS_CHECK(a.pad_h >= 0 && a.pad_w >= 0,
           op << ": padding must be non-negative, got (" << a.pad_h << ", " << a.pad_w << ")");
  Conv2dGeometry g;
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.K = w[0], g.R = w[2], g.S = w[3];
  g.groups = a.groups;
  g.args = a;
  CS_CHECK(g.C % g.groups == 0, op << ": x has " << g.C << " channels, not divisible by groups="
                                   << g.groups << " " << shapes);
  CS_CHECK(g.K % g.groups == 0, op << ": w has " << g.K
                                   << " output channels, not divisible by groups=" << g.groups
                                   << " " << shapes);
  g.Cg = g.C / g.groups;
  g.Kg = g.K / g.groups;
  CS_CHECK(w[1] == g.Cg, op << ": w's second dimension must be C/groups = " << g.C << "/"
                            << g.groups << " = " << g.Cg << ", got " << w[1] << " " << shapes);
  CS_CHECK(g.R >= 1 && g.S >= 1, op << ": kernel size must be positive, got (" << g.R << ", "
                                    << g.S << ") " << shapes);
  // Extent of the dilated kernel and of the padded input.
  const int64_t kh = static_cast<int64_t>(a.dilation_h) * (g.R - 1) + 1;
  const int64_t kw = static_cast<int64_t>(a.dilation_w) * (g.S - 1) + 1;
  const int64_t hp = g.H + 2 * static_cast<int64_t>(a.pad_h);
  const int64_t wp = g.W + 2 * static_cast<int64_t>(a.pad_w);
  CS_CHECK(hp >= kh && wp >= kw, op << ": empty output: the padded input is " << hp << "x" << wp
                                    << " but the dilated kernel is " << kh << "x" << kw << " "
                                    << shapes);
  g.P = (hp - kh) / a.stride_h + 1;
  g.Q = (wp - kw) / a.stride_w + 1;
  return g;
}

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dArgs& args) {
  const Conv2dGeometry g = conv2d_geometry(x, w, args, "conv2d_output_shape");
  return {g.N, g.K, g.P, g.Q};
}

namespace {

Shape output_shape(const Conv2dGeometry& g) { return {g.N, g.K, g.P, g.Q}; }

void check_bias(const Tensor& bias, const Conv2dGeometry& g, const char* op) {
  CS_CHECK(bias.ndim() == 1 && bias.dim(0) == g.K,
           op << ": bias must be (" << g.K << ") for w with " << g.K << " output channels, got "
              << shape_str(bias.shape()));
}

void check_output(const Tensor& t, const Shape& expected, const char* op, const char* name) {
  CS_CHECK(t.shape() == expected, op << ": " << name << " must be " << shape_str(expected)
                                     << ", got " << shape_str(t.shape()));
}

const Conv2dImpl& impl_for(const Tensor& t) { return conv2d_registry().get(t.device()); }

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    const Conv2dArgs& args) {
  if (bias.defined())
    check_compatible({&x, &w, &bias, &y}, "conv2d_forward");
  else
    check_compatible({&x, &w, &y}, "conv2d_forward");
  const Conv2dGeometry g = conv2d_geometry(x.shape(), w.shape(), args, "conv2d_forward");
  if (bias.defined()) check_bias(bias, g, "conv2d_forward");
  check_output(y, output_shape(g), "conv2d_forward", "y");
  check_no_alias(y, {&x, &w, &bias}, "conv2d_forward");
  if (y.numel() == 0) return;
  impl_for(x).forward(x, w, bias, y, g);
}

void conv2d_backward_data(const Tensor& gy, const Tensor& w, Tensor& gx, const Conv2dArgs& args) {
  check_compatible({&gy, &w, &gx}, "conv2d_backward_data");
  const Conv2dGeometry g = conv2d_geometry(gx.shape(), w.shape(), args, "conv2d_backward_data");
  check_output(gy, output_shape(g), "conv2d_backward_data", "gy");
  check_no_alias(gx, {&gy, &w}, "conv2d_backward_data");
  if (gx.numel() == 0) return;
  impl_for(gx).backward_data(gy, w, gx, g);
}

void conv2d_backward_weight(const Tensor& x, const Tensor& gy, Tensor& gw, const Conv2dArgs& args) {
  check_compatible({&x, &gy, &gw}, "conv2d_backward_weight");
  const Conv2dGeometry g = conv2d_geometry(x.shape(), gw.shape(), args, "conv2d_backward_weight");
  check_output(gy, output_shape(g), "conv2d_backward_weight", "gy");
  check_no_alias(gw, {&x, &gy}, "conv2d_backward_weight");
  if (gw.numel() == 0) return;
  impl_for(gw).backward_weight(x, gy, gw, g);
}

void conv2d_backward_bias(const Tensor& gy, Tensor& gb) {
  check_compatible({&gy, &gb}, "conv2d_backward_bias");
  CS_CHECK(gy.ndim() == 4, "conv2d_backward_bias: gy must be 4-D (N, K, P, Q), got "
                               << shape_str(gy.shape()));
  CS_CHECK(gb.ndim() == 1 && gb.dim(0) == gy.dim(1),
           "conv2d_backward_bias: gb must be (" << gy.dim(1) << ") for gy "
                                                << shape_str(gy.shape()) << ", got "
                                                << shape_str(gb.shape()));
  check_no_alias(gb, {&gy}, "conv2d_backward_bias");
  if (gb.numel() == 0) return;
  impl_for(gb).backward_bias(gy, gb);
}

std::vector<std::string> conv2d_cuda_variants() {
  if (!conv2d_registry().has(DeviceType::CUDA)) return {};
  return conv2d_registry().get(Device::cuda()).variant_names();
}

void conv2d_forward_cuda_variant(const std::string& variant, const Tensor& x, const Tensor& w,
                                 const Tensor& bias, Tensor& y, const Conv2dArgs& args) {
  if (bias.defined())
    check_compatible({&x, &w, &bias, &y}, "conv2d_forward_cuda_variant");
  else
    check_compatible({&x, &w, &y}, "conv2d_forward_cuda_variant");
  CS_CHECK(x.is_cuda(), "conv2d_forward_cuda_variant: tensors must be on a CUDA device, got "
                            << x.device());
  const Conv2dGeometry g =
      conv2d_geometry(x.shape(), w.shape(), args, "conv2d_forward_cuda_variant");
  if (bias.defined()) check_bias(bias, g, "conv2d_forward_cuda_variant");
  check_output(y, output_shape(g), "conv2d_forward_cuda_variant", "y");
  check_no_alias(y, {&x, &w, &bias}, "conv2d_forward_cuda_variant");
  const Conv2dImpl& impl = impl_for(x);
  const std::vector<std::string> names = impl.variant_names();
  if (std::find(names.begin(), names.end(), variant) == names.end()) {
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    CS_FAIL("conv2d_forward_cuda_variant: unknown variant '" << variant << "' (known: " << known
                                                             << ")");
  }
  if (y.numel() == 0) return;
  impl.forward_variant(variant, x, w, bias, y, g);
}

// ---- CPU reference ----------------------------------------------------------------

namespace {

// Images per chunk: enough for about kTargetColumns GEMM columns (small
// images are batched into one larger GEMM), within a column-matrix budget of
// kColumnBudget elements (16 MiB in f32); at least one image.
constexpr int64_t kTargetColumns = 1024;
constexpr int64_t kColumnBudget = int64_t{1} << 22;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The indices i in [0, count) with 0 <= i*stride + offset < size: [lo, hi).
void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t count, int64_t& lo,
                 int64_t& hi) {
  lo = offset >= 0 ? 0 : ceil_div(-offset, stride);
  hi = size - offset <= 0 ? 0 : ceil_div(size - offset, stride);
  lo = std::min(lo, count);
  hi = std::clamp(hi, lo, count);
}

int64_t images_per_chunk(const Conv2dGeometry& g) {
  const int64_t pq = std::max<int64_t>(1, g.P * g.Q);
  const int64_t col_rows = std::max<int64_t>(1, g.Cg * g.R * g.S);
  const int64_t by_budget = std::max<int64_t>(1, kColumnBudget / (col_rows * pq));
  return std::clamp<int64_t>(std::min(ceil_div(kTargetColumns, pq), by_budget), 1,
                             std::max<int64_t>(g.N, 1));
}

// Channels [row0, row0 + rows) of image n of an (N, C, H, W) tensor, as a
// (rows, H*W) matrix view.
Tensor image_rows(const Tensor& t, int64_t n, int64_t row0, int64_t rows) {
  return t.narrow(n, 1).reshape({t.dim(1), t.dim(2) * t.dim(3)}).narrow(row0, rows);
}

// A (rows, cols) matrix over the first rows*cols elements of `buffer`.
Tensor matrix_view(const Tensor& buffer, int64_t rows, int64_t cols) {
  return buffer.reshape({-1}).narrow(0, rows * cols).reshape({rows, cols});
}

// col[(c, r, s), (i, p, q)] = x[n0 + i, group*Cg + c, p*sh - ph + r*dh, q*sw - pw + s*dw] (0 outside)
//   x: (N, C, H, W)   col: (Cg*R*S, nc*P*Q)
template <typename T>
void im2col(const T* x, const Conv2dGeometry& g, int64_t n0, int64_t nc, int64_t group, T* col) {
  const Conv2dArgs& a = g.args;
  const int64_t rows = g.Cg * g.R * g.S, cols = nc * g.P * g.Q;
  // Rows are independent: threads split them (disjoint writes, same values).
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 16))
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t c = row / (g.R * g.S), r = row / g.S % g.R, s = row % g.S;
    // Output columns q whose input column q*sw - pw + s*dw lies inside the image.
    const int64_t w_off = s * a.dilation_w - a.pad_w;
    int64_t q_lo, q_hi;
    valid_range(w_off, a.stride_w, g.W, g.Q, q_lo, q_hi);
    T* out = col + row * cols;
    for (int64_t i = 0; i < nc; ++i) {
      const T* plane = x + ((n0 + i) * g.C + group * g.Cg + c) * g.H * g.W;
      for (int64_t p = 0; p < g.P; ++p) {
        T* o = out + (i * g.P + p) * g.Q;
        const int64_t h = p * a.stride_h - a.pad_h + r * a.dilation_h;
        if (h < 0 || h >= g.H) {
          std::fill(o, o + g.Q, T(0));
          continue;
        }
        const T* in = plane + h * g.W;
        std::fill(o, o + q_lo, T(0));
        if (a.stride_w == 1)
          std::copy(in + q_lo + w_off, in + q_hi + w_off, o + q_lo);
        else
          for (int64_t q = q_lo; q < q_hi; ++q) o[q] = in[q * a.stride_w + w_off];
        std::fill(o + q_hi, o + g.Q, T(0));
      }
    }
  }
}

// The adjoint of im2col for the planes of this chunk and group: each plane
// gx[n0 + i, group*Cg + c] is overwritten with the sum of its column entries,
// in a fixed order (r, s, p, q).
template <typename T>
void col2im(const T* col, const Conv2dGeometry& g, int64_t n0, int64_t nc, int64_t group, T* gx) {
  const Conv2dArgs& a = g.args;
  const int64_t cols = nc * g.P * g.Q, planes = nc * g.Cg;
  // Each plane has one owner thread, summing in the same order: deterministic.
#pragma omp parallel for schedule(static) if (planes * g.H * g.W > (1 << 16))
  for (int64_t plane_index = 0; plane_index < planes; ++plane_index) {
    const int64_t i = plane_index / g.Cg, c = plane_index % g.Cg;
    T* plane = gx + ((n0 + i) * g.C + group * g.Cg + c) * g.H * g.W;
    std::fill(plane, plane + g.H * g.W, T(0));
    for (int64_t r = 0; r < g.R; ++r)
      for (int64_t s = 0; s < g.S; ++s) {
        const T* src = col + ((c * g.R + r) * g.S + s) * cols + i * g.P * g.Q;
        const int64_t w_off = s * a.dilation_w - a.pad_w;
        int64_t q_lo, q_hi;
        valid_range(w_off, a.stride_w, g.W, g.Q, q_lo, q_hi);
        for (int64_t p = 0; p < g.P; ++p) {
          const int64_t h = p * a.stride_h - a.pad_h + r * a.dilation_h;
          if (h < 0 || h >= g.H) continue;
          T* dst = plane + h * g.W;
          const T* s_row = src + p * g.Q;
          if (a.stride_w == 1)
            for (int64_t q = q_lo; q < q_hi; ++q) dst[q + w_off] += s_row[q];
          else
            for (int64_t q = q_lo; q < q_hi; ++q) dst[q * a.stride_w + w_off] += s_row[q];
        }
      }
  }
}

// gyb[k, (i, pq)] = gy[n0 + i, group*Kg + k, pq]     gyb: (Kg, nc*P*Q)
template <typename T>
void gather_output(const T* gy, const Conv2dGeometry& g, int64_t n0, int64_t nc, int64_t group,
                   T* gyb) {
  const int64_t pq = g.P * g.Q, rows = g.Kg * nc;
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t k = row / nc, i = row % nc;
    const T* src = gy + ((n0 + i) * g.K + group * g.Kg + k) * pq;
    std::copy(src, src + pq, gyb + (k * nc + i) * pq);
  }
}

// y[n0 + i, group*Kg + k, pq] = out[k, (i, pq)] + bias[group*Kg + k]
template <typename T>
void scatter_output(const T* out, const T* bias, const Conv2dGeometry& g, int64_t n0, int64_t nc,
                    int64_t group, T* y) {
  const int64_t pq = g.P * g.Q, rows = g.Kg * nc;
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t k = row / nc, i = row % nc;
    const T* src = out + (k * nc + i) * pq;
    T* dst = y + ((n0 + i) * g.K + group * g.Kg + k) * pq;
    const T b = bias ? bias[group * g.Kg + k] : T(0);
    for (int64_t j = 0; j < pq; ++j) dst[j] = src[j] + b;
  }
}

// With one image per chunk the GEMMs read and write x, gy and y in place
// (image_rows views); with several, through the gather/scatter buffers.

void cpu_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                 const Conv2dGeometry& g) {
  dispatch_floating(x.dtype(), "conv2d_forward", [&](auto zero) {
    using T = decltype(zero);
    const int64_t crs = g.Cg * g.R * g.S, pq = g.P * g.Q, chunk = images_per_chunk(g);
    const Device cpu = Device::cpu();
    Tensor col = Tensor::empty({crs * chunk * pq}, cpu, x.dtype());
    Tensor out = chunk > 1 ? Tensor::empty({g.Kg * chunk * pq}, cpu, x.dtype()) : Tensor();
    const Tensor wmat = w.reshape({g.K, crs});  // rows (k), columns (c, r, s)
    const T* bias_ptr = bias.defined() ? bias.data<T>() : nullptr;
    for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
      const int64_t nc = std::min(chunk, g.N - n0);
      for (int64_t group = 0; group < g.groups; ++group) {
        Tensor colv = matrix_view(col, crs, nc * pq);
        im2col(x.data<T>(), g, n0, nc, group, colv.data<T>());
        // out (Kg, nc*P*Q) = wg (Kg, Cg*R*S) * col (Cg*R*S, nc*P*Q)
        const Tensor wg = wmat.narrow(group * g.Kg, g.Kg);
        if (nc == 1) {
          Tensor yv = image_rows(y, n0, group * g.Kg, g.Kg);
          gemm(wg, Transpose::No, colv, Transpose::No, yv);
          if (bias_ptr) {
            T* dst = yv.data<T>();
            for (int64_t k = 0; k < g.Kg; ++k)
              for (int64_t j = 0; j < pq; ++j) dst[k * pq + j] += bias_ptr[group * g.Kg + k];
          }
        } else {
          Tensor outv = matrix_view(out, g.Kg, nc * pq);
          gemm(wg, Transpose::No, colv, Transpose::No, outv);
          scatter_output(outv.data<T>(), bias_ptr, g, n0, nc, group, y.data<T>());
        }
      }
    }
  });
}

void cpu_backward_data(const Tensor& gy, const Tensor& w, Tensor& gx, const Conv2dGeometry& g) {
  dispatch_floating(gx.dtype(), "conv2d_backward_data", [&](auto zero) {
    using T = decltype(zero);
    const int64_t crs = g.Cg * g.R * g.S, pq = g.P * g.Q, chunk = images_per_chunk(g);
    const Device cpu = Device::cpu();
    Tensor col = Tensor::empty({crs * chunk * pq}, cpu, gx.dtype());
    Tensor gyb = chunk > 1 ? Tensor::empty({g.Kg * chunk * pq}, cpu, gx.dtype()) : Tensor();
    const Tensor wmat = w.reshape({g.K, crs});
    for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
      const int64_t nc = std::min(chunk, g.N - n0);
      for (int64_t group = 0; group < g.groups; ++group) {
        Tensor colv = matrix_view(col, crs, nc * pq);
        Tensor gybv;  // (Kg, nc*P*Q)
        if (nc == 1) {
          gybv = image_rows(gy, n0, group * g.Kg, g.Kg);
        } else {
          gybv = matrix_view(gyb, g.Kg, nc * pq);
          gather_output(gy.data<T>(), g, n0, nc, group, gybv.data<T>());
        }
        // col (Cg*R*S, nc*P*Q) = wg^T (Cg*R*S, Kg) * gyb (Kg, nc*P*Q)
        gemm(wmat.narrow(group * g.Kg, g.Kg), Transpose::Yes, gybv, Transpose::No, colv);
        col2im(colv.data<T>(), g, n0, nc, group, gx.data<T>());
      }
    }
  });
}

void cpu_backward_weight(const Tensor& x, const Tensor& gy, Tensor& gw, const Conv2dGeometry& g) {
  dispatch_floating(gw.dtype(), "conv2d_backward_weight", [&](auto zero) {
    using T = decltype(zero);
    const int64_t crs = g.Cg * g.R * g.S, pq = g.P * g.Q, chunk = images_per_chunk(g);
    const Device cpu = Device::cpu();
    if (g.N == 0 || pq == 0) {
      gw.zero_();
      return;
    }
    Tensor col = Tensor::empty({crs * chunk * pq}, cpu, gw.dtype());
    Tensor gyb = chunk > 1 ? Tensor::empty({g.Kg * chunk * pq}, cpu, gw.dtype()) : Tensor();
    const Tensor gwmat = gw.reshape({g.K, crs});
    // The chunks are added in batch order: the result does not depend on threads.
    for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
      const int64_t nc = std::min(chunk, g.N - n0);
      for (int64_t group = 0; group < g.groups; ++group) {
        Tensor colv = matrix_view(col, crs, nc * pq);
        im2col(x.data<T>(), g, n0, nc, group, colv.data<T>());
        Tensor gybv;  // (Kg, nc*P*Q)
        if (nc == 1) {
          gybv = image_rows(gy, n0, group * g.Kg, g.Kg);
        } else {
          gybv = matrix_view(gyb, g.Kg, nc * pq);
          gather_output(gy.data<T>(), g, n0, nc, group, gybv.data<T>());
        }
        // gw_g (Kg, Cg*R*S) (+)= gyb (Kg, nc*P*Q) * col^T (nc*P*Q, Cg*R*S)
        Tensor gwg = gwmat.narrow(group * g.Kg, g.Kg);
        gemm(gybv, Transpose::No, colv, Transpose::Yes, gwg, 1.0, n0 == 0 ? 0.0 : 1.0);
      }
    }
  });
}

// gb[k] = sum over n, p, q of gy[n, k, p, q], accumulated in double.
void cpu_backward_bias(const Tensor& gy, Tensor& gb) {
  dispatch_floating(gb.dtype(), "conv2d_backward_bias", [&](auto zero) {
    using T = decltype(zero);
    const int64_t N = gy.dim(0), K = gy.dim(1), pq = gy.dim(2) * gy.dim(3);
    const T* src = gy.data<T>();
    T* dst = gb.data<T>();
    for (int64_t k = 0; k < K; ++k) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* plane = src + (n * K + k) * pq;
        for (int64_t j = 0; j < pq; ++j) acc += plane[j];
      }
      dst[k] = static_cast<T>(acc);
    }
  });
}

}  // namespace

CS_REGISTER_OP(conv2d_registry, DeviceType::CPU,
               (Conv2dImpl{&cpu_forward, &cpu_backward_data, &cpu_backward_weight,
                           &cpu_backward_bias, nullptr, nullptr}))

}  // namespace cs::kernels
