// Per-channel statistics building blocks shared by the batch-norm kernels,
// written once for host and device so the CPU tests can check them
// (tests/kernels/test_batchnorm.cpp, BatchNormStatsMath.*).
//
//  - FastDivmod: division by a runtime constant through a multiply-high and a
//    shift (Granlund & Montgomery, as in PyTorch's IntDivider); the
//    elementwise and reduction kernels use it to find the (sample, channel)
//    of a flat index without a hardware integer division.
//  - Welford: a running (count, mean, M2) with Chan et al.'s pairwise merge.
//    Every update and merge works on deviations, never on sum(x^2), so a
//    large mean costs no precision (no cancellation).
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define CS_STATS_HD __host__ __device__ __forceinline__
#else
#define CS_STATS_HD inline
#endif

namespace cs::kernels {

// q = n / d for 0 <= n < 2^31 and 1 <= d < 2^31:
//   s = ceil(log2 d), m = floor(2^32 * (2^s - d) / d) + 1,
//   n / d = (umulhi(n, m) + n) >> s.
// (umulhi(n, m) <= n < 2^31, so the sum fits in 32 bits.)
struct FastDivmod {
  uint32_t divisor = 1, multiplier = 1, shift = 0;

  FastDivmod() = default;
  explicit FastDivmod(uint32_t d) : divisor(d) {
    shift = 0;
    while ((uint64_t{1} << shift) < d) ++shift;
    multiplier = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1);
  }

  CS_STATS_HD uint32_t div(uint32_t n) const {
#if defined(__CUDA_ARCH__)
    const uint32_t t = __umulhi(n, multiplier);
#else
    const uint32_t t = static_cast<uint32_t>((static_cast<uint64_t>(n) * multiplier) >> 32);
#endif
    return (t + n) >> shift;
  }
  CS_STATS_HD uint32_t mod(uint32_t n) const { return n - div(n) * divisor; }
};

// Count, mean and sum of squared deviations (M2) of a set of values.
// Counts are floats: exact up to 2^24 per state, and past that a relative
// rounding of 6e-8 in a merge weight, which is harmless. A trivial type (so
// it can live in __shared__ arrays): create empty states as `Welford w{}`.
struct Welford {
  float n, mean, m2;

  // Chan et al. (1979): merge the set (nb, mb, m2b) into this one.
  //   n' = na + nb, delta = mb - ma,
  //   mean' = ma + delta * nb / n',  M2' = M2a + M2b + delta^2 * na * nb / n'.
  CS_STATS_HD void merge(float nb, float mb, float m2b) {
    if (nb == 0.0f) return;
    const float total = n + nb;
    const float delta = mb - mean;
    const float wb = nb / total;  // 1 when this set is empty: mean' = mb exactly
    mean += delta * wb;
    m2 += m2b + delta * delta * (n * wb);
    n = total;
  }
  CS_STATS_HD void merge(const Welford& o) { merge(o.n, o.mean, o.m2); }

  // One value (Welford 1962): one division per value.
  CS_STATS_HD void add(float v) {
    n += 1.0f;
    const float delta = v - mean;
    mean += delta / n;
    m2 += delta * (v - mean);
  }

  // Four values as one set merged in: one division per four values.
  CS_STATS_HD void add4(float a, float b, float c, float d) {
    const float m = ((a + b) + (c + d)) * 0.25f;
    const float da = a - m, db = b - m, dc = c - m, dd = d - m;
    merge(4.0f, m, (da * da + db * db) + (dc * dc + dd * dd));
  }
};

}  // namespace cs::kernels
