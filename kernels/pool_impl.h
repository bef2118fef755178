// Pooling internals shared by the dispatcher, the CPU reference and the CUDA
// kernels: the checked geometry of one call, the implementation table, and
// the per-element formulations the GPU kernels are built from.
//
// The formulations (namespace pooling) are written once for host and device,
// so the tests run exactly the GPU's index maths on the host and compare it
// with the CPU reference, which stays plain loops (the specification).
#pragma once

#include <cstdint>
#include <limits>

#include "kernels/fast_div.h"
#include "kernels/pool.h"
#include "runtime/philox.h"  // CS_HOST_DEVICE, CS_RN_ADD, CS_RN_DIV

#if defined(__CUDA_ARCH__)
#define CS_POOL_UNROLL _Pragma("unroll")
#else
#define CS_POOL_UNROLL
#endif

namespace cs::kernels {

// One pooling call, validated by the dispatcher: x (N, C, H, W) -> y (N, C, P, Q).
// Planes hold fewer than 2^31 elements and every window bound fits in an int.
struct PoolGeometry {
  int64_t planes = 0;        // N * C
  int in_h = 0, in_w = 0;    // H, W
  int out_h = 0, out_w = 0;  // P, Q
  // Window pooling only (adaptive pooling derives its bins from the sizes).
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  bool count_include_pad = true;
};

struct PoolImpl {
  void (*max_forward)(const Tensor& x, Tensor& y, Tensor& switches, const PoolGeometry& g);
  void (*max_backward)(const Tensor& gy, const Tensor& switches, Tensor& gx, const PoolGeometry& g);
  void (*avg_forward)(const Tensor& x, Tensor& y, const PoolGeometry& g);
  void (*avg_backward)(const Tensor& gy, Tensor& gx, const PoolGeometry& g);
  void (*adaptive_forward)(const Tensor& x, Tensor& y, const PoolGeometry& g);
  void (*adaptive_backward)(const Tensor& gy, Tensor& gx, const PoolGeometry& g);
};
OpRegistry<PoolImpl>& pool_registry();

// PyTorch's pooled size along one axis (pooling_output_shape): floor (or, in
// ceil mode, ceil) of (in + 2*pad - kernel) / stride, plus one; in ceil mode
// the last window must start inside the input or the left padding.
int64_t pooled_size(int64_t in, int kernel, int stride, int pad, bool ceil_mode);

namespace pooling {

CS_HOST_DEVICE int imin(int a, int b) { return a < b ? a : b; }
CS_HOST_DEVICE int imax(int a, int b) { return a > b ? a : b; }

// Division by a stride known at compile time (a shift for powers of two);
// interchangeable with FastDiv.
template <uint32_t S>
struct StaticDiv {
  CS_HOST_DEVICE uint32_t div(uint32_t n) const { return n / S; }
};

// The windows o along one axis whose span [o*stride - pad, o*stride - pad + kernel)
// holds input index i: [first, last], clipped to the `out` windows (empty when
// first > last).
template <typename Div>
CS_HOST_DEVICE void windows_holding(int i, int kernel, const Div& stride, int pad, int out,
                                    int& first, int& last) {
  const int ip = i + pad;  // position in the padded input
  first = ip < kernel ? 0 : static_cast<int>(stride.div(static_cast<uint32_t>(ip - kernel))) + 1;
  last = imin(static_cast<int>(stride.div(static_cast<uint32_t>(ip))), out - 1);
}

// Max over the window of output (oh, ow), clipped to the input (padding never
// wins); `arg` gets the switch. First maximum in row-major order wins ties; a
// NaN takes over whenever it is met. KH, KW: the kernel size when known at
// compile time (the loops unroll), 0 to read it from g.
template <int KH, int KW, typename T>
CS_HOST_DEVICE T max_pool_window(const T* plane, int oh, int ow, const PoolGeometry& g,
                                 int32_t& arg) {
  const int kh = KH > 0 ? KH : g.kernel_h, kw = KW > 0 ? KW : g.kernel_w;
  const int h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
  T best = -std::numeric_limits<T>::infinity();
  arg = imax(h0, 0) * g.in_w + imax(w0, 0);  // the first cell inside the input
  CS_POOL_UNROLL
  for (int dy = 0; dy < kh; ++dy) {
    const int ih = h0 + dy;
    if (ih < 0 || ih >= g.in_h) continue;
    CS_POOL_UNROLL
    for (int dx = 0; dx < kw; ++dx) {
      const int iw = w0 + dx;
      if (iw < 0 || iw >= g.in_w) continue;
      const T v = plane[ih * g.in_w + iw];
      if (v > best || v != v) {  // v != v: NaN
        best = v;
        arg = ih * g.in_w + iw;
      }
    }
  }
  return best;
}

// The window of output (oh, ow) clipped to the input, and its divisor.
struct AvgWindow {
  int h0, h1, w0, w1;  // rows [h0, h1), columns [w0, w1)
  int divisor;
};

// As PyTorch: the window is first cut at the end of the right/bottom padding
// (ceil mode can reach past it); count_include_pad divides by that size,
// otherwise by the number of input cells.
CS_HOST_DEVICE AvgWindow avg_pool_window_bounds(int oh, int ow, const PoolGeometry& g) {
  int h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
  int h1 = imin(h0 + g.kernel_h, g.in_h + g.pad_h), w1 = imin(w0 + g.kernel_w, g.in_w + g.pad_w);
  const int padded_cells = (h1 - h0) * (w1 - w0);
  h0 = imax(h0, 0);
  w0 = imax(w0, 0);
  h1 = imin(h1, g.in_h);
  w1 = imin(w1, g.in_w);
  return AvgWindow{h0, h1, w0, w1, g.count_include_pad ? padded_cells : (h1 - h0) * (w1 - w0)};
}

template <typename T>
CS_HOST_DEVICE T avg_pool_window(const T* plane, int oh, int ow, const PoolGeometry& g) {
  const AvgWindow win = avg_pool_window_bounds(oh, ow, g);
  T sum = T(0);
  for (int ih = win.h0; ih < win.h1; ++ih)
    for (int iw = win.w0; iw < win.w1; ++iw) sum = CS_RN_ADD(sum, plane[ih * g.in_w + iw]);
  return CS_RN_DIV(sum, static_cast<T>(win.divisor));
}

// Adaptive bins (PyTorch's start_index / end_index): output o of `out` covers
// [floor(o*in/out), ceil((o+1)*in/out)) of `in`. div_out divides by out.
// Exact while (in + 1) * (out + 1) < 2^31, which the dispatcher checks.
CS_HOST_DEVICE int adaptive_start(int o, int in, const FastDiv& div_out) {
  return static_cast<int>(div_out.div(static_cast<uint32_t>(o) * static_cast<uint32_t>(in)));
}
CS_HOST_DEVICE int adaptive_end(int o, int in, const FastDiv& div_out) {
  return static_cast<int>(div_out.div(static_cast<uint32_t>(o + 1) * static_cast<uint32_t>(in) +
                                      div_out.divisor - 1));
}
// The bins holding input index i: [first, last] with
// first = floor(i*out/in) and last = floor(((i+1)*out - 1)/in). div_in divides by in.
CS_HOST_DEVICE void adaptive_bins_holding(int i, int out, const FastDiv& div_in, int& first,
                                          int& last) {
  first = static_cast<int>(div_in.div(static_cast<uint32_t>(i) * static_cast<uint32_t>(out)));
  last = imin(static_cast<int>(div_in.div(static_cast<uint32_t>(i + 1) * static_cast<uint32_t>(out) - 1)),
              out - 1);
}

// Divisions an adaptive pooling call needs, by in_h, in_w, out_h and out_w.
struct AdaptiveDivs {
  FastDiv in_h, in_w, out_h, out_w;
};

template <typename T>
CS_HOST_DEVICE T adaptive_avg_window(const T* plane, int oh, int ow, const PoolGeometry& g,
                                     const AdaptiveDivs& d) {
  const int h0 = adaptive_start(oh, g.in_h, d.out_h), h1 = adaptive_end(oh, g.in_h, d.out_h);
  const int w0 = adaptive_start(ow, g.in_w, d.out_w), w1 = adaptive_end(ow, g.in_w, d.out_w);
  T sum = T(0);
  for (int ih = h0; ih < h1; ++ih)
    for (int iw = w0; iw < w1; ++iw) sum = CS_RN_ADD(sum, plane[ih * g.in_w + iw]);
  return CS_RN_DIV(sum, static_cast<T>((h1 - h0) * (w1 - w0)));
}

// ---- backward as gathers: gx at input (h, w) of one plane ------------------------
// Each visits the windows holding (h, w) in row-major output order, the order
// in which the CPU reference's scatter adds into that input, with the same
// rounded terms: the results are bitwise equal to the reference.

template <typename T, typename Div>
CS_HOST_DEVICE T max_pool_backward_at(const T* gy, const int32_t* switches, int h, int w,
                                      const PoolGeometry& g, const Div& stride_h,
                                      const Div& stride_w) {
  int p0, p1, q0, q1;
  windows_holding(h, g.kernel_h, stride_h, g.pad_h, g.out_h, p0, p1);
  windows_holding(w, g.kernel_w, stride_w, g.pad_w, g.out_w, q0, q1);
  const int32_t self = h * g.in_w + w;
  T acc = T(0);
  for (int p = p0; p <= p1; ++p)
    for (int q = q0; q <= q1; ++q) {
      const int o = p * g.out_w + q;
      if (switches[o] == self) acc = CS_RN_ADD(acc, gy[o]);
    }
  return acc;
}

template <typename T, typename Div>
CS_HOST_DEVICE T avg_pool_backward_at(const T* gy, int h, int w, const PoolGeometry& g,
                                      const Div& stride_h, const Div& stride_w) {
  int p0, p1, q0, q1;
  windows_holding(h, g.kernel_h, stride_h, g.pad_h, g.out_h, p0, p1);
  windows_holding(w, g.kernel_w, stride_w, g.pad_w, g.out_w, q0, q1);
  T acc = T(0);
  for (int p = p0; p <= p1; ++p)
    for (int q = q0; q <= q1; ++q) {
      const int divisor = avg_pool_window_bounds(p, q, g).divisor;
      acc = CS_RN_ADD(acc, CS_RN_DIV(gy[p * g.out_w + q], static_cast<T>(divisor)));
    }
  return acc;
}

template <typename T>
CS_HOST_DEVICE T adaptive_avg_backward_at(const T* gy, int h, int w, const PoolGeometry& g,
                                          const AdaptiveDivs& d) {
  int p0, p1, q0, q1;
  adaptive_bins_holding(h, g.out_h, d.in_h, p0, p1);
  adaptive_bins_holding(w, g.out_w, d.in_w, q0, q1);
  T acc = T(0);
  for (int p = p0; p <= p1; ++p) {
    const int rows = adaptive_end(p, g.in_h, d.out_h) - adaptive_start(p, g.in_h, d.out_h);
    for (int q = q0; q <= q1; ++q) {
      const int cols = adaptive_end(q, g.in_w, d.out_w) - adaptive_start(q, g.in_w, d.out_w);
      acc = CS_RN_ADD(acc, CS_RN_DIV(gy[p * g.out_w + q], static_cast<T>(rows * cols)));
    }
  }
  return acc;
}

}  // namespace pooling
}  // namespace cs::kernels
