// Bilinear resize internals shared by the dispatcher, the CPU reference and
// the CUDA kernels: the implementation table and the per-element
// formulations the GPU kernels are built from, written once for host and
// device so the tests run them on the host against the CPU reference.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/fast_div.h"
#include "kernels/resize.h"
#include "runtime/philox.h"  // CS_HOST_DEVICE, CS_RN_*

namespace cs::kernels {

// x (N, C, H, W) <-> y (N, C, H2, W2), validated by the dispatcher; every
// plane holds fewer than 2^31 elements.
struct ResizeGeometry {
  int64_t planes = 0;  // N * C
  int in_h = 0, in_w = 0;
  int out_h = 0, out_w = 0;
};

struct ResizeImpl {
  void (*forward)(const Tensor& x, Tensor& y, const ResizeGeometry& g);
  void (*backward)(const Tensor& gy, Tensor& gx, const ResizeGeometry& g);
};
OpRegistry<ResizeImpl>& resize_registry();

namespace bilinear {

// Output index `dst` along one axis reads input i0 with weight l0 and i1 with
// weight l1 (i1 = i0 at the last input). As PyTorch (align_corners = false):
// src = scale * (dst + 0.5) - 0.5 with scale = in / out, clamped at 0; i0 =
// floor(src); l1 = src - i0. Each operation rounded as written (no FMA).
template <typename T>
struct Tap {
  int i0, i1;
  T l0, l1;
};

template <typename T>
CS_HOST_DEVICE Tap<T> tap(int dst, int in, T scale) {
  T src = CS_RN_ADD(CS_RN_MUL(scale, CS_RN_ADD(static_cast<T>(dst), T(0.5))), T(-0.5));
  if (src < T(0)) src = T(0);
  int i0 = static_cast<int>(src);  // floor: src >= 0
  if (i0 > in - 1) i0 = in - 1;
  const T l1 = CS_RN_ADD(src, -static_cast<T>(i0));
  return Tap<T>{i0, i0 < in - 1 ? i0 + 1 : i0, CS_RN_ADD(T(1), -l1), l1};
}

// The forward at output (oh, ow) of one plane:
//   l0h * (l0w * x[h0,w0] + l1w * x[h0,w1]) + l1h * (l0w * x[h1,w0] + l1w * x[h1,w1]).
template <typename T>
CS_HOST_DEVICE T forward_at(const T* x, int oh, int ow, const ResizeGeometry& g, T scale_h,
                            T scale_w) {
  const Tap<T> th = tap(oh, g.in_h, scale_h), tw = tap(ow, g.in_w, scale_w);
  const T* r0 = x + static_cast<int64_t>(th.i0) * g.in_w;
  const T* r1 = x + static_cast<int64_t>(th.i1) * g.in_w;
  const T top = CS_RN_ADD(CS_RN_MUL(tw.l0, r0[tw.i0]), CS_RN_MUL(tw.l1, r0[tw.i1]));
  const T bottom = CS_RN_ADD(CS_RN_MUL(tw.l0, r1[tw.i0]), CS_RN_MUL(tw.l1, r1[tw.i1]));
  return CS_RN_ADD(CS_RN_MUL(th.l0, top), CS_RN_MUL(th.l1, bottom));
}

// The outputs o (along one axis) whose taps touch input i, as [first, last].
// The taps of o touch i exactly when i0(o) is i - 1 or i (i1 = i0 + 1, or
// i1 = i0 at the last input), and i0(o) never decreases with o (every step of
// tap() is monotone), so they form one run. A guess from the exact-arithmetic
// mapping is corrected against the rounded i0 itself, so the run is exact.
template <typename T>
CS_HOST_DEVICE void outputs_touching(int i, int in, int out, T scale, int& first, int& last) {
  if (i <= 1) {
    first = 0;  // every i0 >= 0 >= i - 1 (clamped sources included)
  } else {
    // src(o) >= i - 1  <=>  o >= (i - 0.5) * out / in - 0.5 in exact arithmetic.
    first = static_cast<int>(ceil((i - 0.5) * out / in - 0.5));
    first = first < 0 ? 0 : (first > out ? out : first);
    while (first > 0 && tap(first - 1, in, scale).i0 >= i - 1) --first;
    while (first < out && tap(first, in, scale).i0 < i - 1) ++first;
  }
  if (i >= in - 1) {
    last = out - 1;  // every i0 <= in - 1 <= i
  } else {
    // src(o) < i + 1  <=>  o < (i + 1.5) * out / in - 0.5.
    last = static_cast<int>(ceil((i + 1.5) * out / in - 0.5)) - 1;
    last = last < -1 ? -1 : (last > out - 1 ? out - 1 : last);
    while (last < out - 1 && tap(last + 1, in, scale).i0 <= i) ++last;
    while (last >= 0 && tap(last, in, scale).i0 > i) --last;
  }
}

// gx at input (ih, iw) of one plane, gathered: every output whose taps touch
// it, in row-major output order, adding its terms in the order the CPU
// reference's scatter does ((h0,w0), (h0,w1), (h1,w0), (h1,w1)), each
// (lh * lw) * gy rounded as there. Bitwise equal to the reference.
template <typename T>
CS_HOST_DEVICE T backward_at(const T* gy, int ih, int iw, const ResizeGeometry& g, T scale_h,
                             T scale_w) {
  int oh0, oh1, ow0, ow1;
  outputs_touching(ih, g.in_h, g.out_h, scale_h, oh0, oh1);
  outputs_touching(iw, g.in_w, g.out_w, scale_w, ow0, ow1);
  T acc = T(0);
  for (int oh = oh0; oh <= oh1; ++oh) {
    const Tap<T> th = tap(oh, g.in_h, scale_h);
    const bool r0 = th.i0 == ih, r1 = th.i1 == ih;
    const T* gy_row = gy + static_cast<int64_t>(oh) * g.out_w;
    for (int ow = ow0; ow <= ow1; ++ow) {
      const Tap<T> tw = tap(ow, g.in_w, scale_w);
      const bool c0 = tw.i0 == iw, c1 = tw.i1 == iw;
      const T v = gy_row[ow];
      if (r0 && c0) acc = CS_RN_ADD(acc, CS_RN_MUL(CS_RN_MUL(th.l0, tw.l0), v));
      if (r0 && c1) acc = CS_RN_ADD(acc, CS_RN_MUL(CS_RN_MUL(th.l0, tw.l1), v));
      if (r1 && c0) acc = CS_RN_ADD(acc, CS_RN_MUL(CS_RN_MUL(th.l1, tw.l0), v));
      if (r1 && c1) acc = CS_RN_ADD(acc, CS_RN_MUL(CS_RN_MUL(th.l1, tw.l1), v));
    }
  }
  return acc;
}

}  // namespace bilinear
}  // namespace cs::kernels
