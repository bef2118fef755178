// Local response normalization: the per-element formulations the CUDA
// kernels are built from, written once for host and device so the tests run
// them on the host against the CPU reference (there, pow is the host's, so
// they match bit for bit; on the GPU powf differs in the last bits).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/lrn.h"
#include "runtime/philox.h"  // CS_HOST_DEVICE, CS_RN_*

namespace cs::kernels::lrn {

// Per-call constants, rounded to T on the host as the CPU reference rounds them.
template <typename T>
struct Constants {
  int channels, size;
  T alpha_over_size, k, beta;
  T coef;  // 2 alpha beta / size
};

template <typename T>
Constants<T> constants(int channels, const LrnArgs& args) {
  return Constants<T>{channels, args.size, static_cast<T>(args.alpha / args.size),
                      static_cast<T>(args.k), static_cast<T>(args.beta),
                      static_cast<T>(2 * args.alpha * args.beta / args.size)};
}

template <typename T>
CS_HOST_DEVICE T power(T base, T exponent) {
#if defined(__CUDA_ARCH__)
  return powf(base, exponent);
#else
  return std::pow(base, exponent);
#endif
}

CS_HOST_DEVICE int imax(int a, int b) { return a > b ? a : b; }
CS_HOST_DEVICE int imin(int a, int b) { return a < b ? a : b; }

// Element (c, pixel) of one image; `pixel0` points at channel 0 of the same
// pixel, channels lie `plane` elements apart. Writes scale, returns y.
template <typename T>
CS_HOST_DEVICE T forward_at(const T* pixel0, int c, uint32_t plane, const Constants<T>& a,
                            T& scale) {
  const int lo = imax(0, c - a.size / 2), hi = imin(a.channels - 1, c + (a.size - 1) / 2);
  T sum = T(0);
  for (int cc = lo; cc <= hi; ++cc) {
    const T v = pixel0[static_cast<uint32_t>(cc) * plane];
    sum = CS_RN_ADD(sum, CS_RN_MUL(v, v));
  }
  scale = CS_RN_ADD(a.k, CS_RN_MUL(a.alpha_over_size, sum));
  return CS_RN_DIV(pixel0[static_cast<uint32_t>(c) * plane], power(scale, a.beta));
}

// gx at channel j of one pixel: `at0` is the offset of channel 0 of that pixel.
template <typename T>
CS_HOST_DEVICE T backward_at(const T* x, const T* y, const T* scale, const T* gy, uint32_t at0,
                             int j, uint32_t plane, const Constants<T>& a) {
  // The channels c whose window [c - size/2, c + (size-1)/2] holds j.
  const int lo = imax(0, j - (a.size - 1) / 2), hi = imin(a.channels - 1, j + a.size / 2);
  T acc = T(0);
  for (int c = lo; c <= hi; ++c) {
    const uint32_t at = at0 + static_cast<uint32_t>(c) * plane;
    acc = CS_RN_ADD(acc, CS_RN_DIV(CS_RN_MUL(gy[at], y[at]), scale[at]));
  }
  const uint32_t e = at0 + static_cast<uint32_t>(j) * plane;
  return CS_RN_ADD(CS_RN_MUL(gy[e], power(scale[e], -a.beta)),
                   -CS_RN_MUL(CS_RN_MUL(a.coef, x[e]), acc));
}

}  // namespace cs::kernels::lrn
