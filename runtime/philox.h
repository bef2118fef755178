// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11): a counter-based generator written once for host and device, so
// the CPU and the GPU draw bit-identical numbers for the same (seed, offset).
//
// The stream for (seed, offset): its i-th 32-bit word is word (offset+i) % 4
// of philox(counter = (offset+i) / 4, key = seed). Any element can be drawn
// independently, which is what lets each GPU thread draw its own numbers.
//
// Floating-point results (uniform, normal) use only correctly rounded
// operations in a fixed order (no FMA contraction, no library log/cos, whose
// accuracy differs between the host libm and CUDA), so they are bit-identical
// too.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define CS_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define CS_HOST_DEVICE inline
#endif

#if defined(__CUDA_ARCH__)
#define CS_RN_MUL(a, b) __fmul_rn((a), (b))
#define CS_RN_ADD(a, b) __fadd_rn((a), (b))
#define CS_RN_DIV(a, b) __fdiv_rn((a), (b))
#define CS_RN_SQRT(a) __fsqrt_rn(a)
#else
#include <cmath>
#define CS_RN_MUL(a, b) ((a) * (b))
#define CS_RN_ADD(a, b) ((a) + (b))
#define CS_RN_DIV(a, b) ((a) / (b))
#define CS_RN_SQRT(a) std::sqrt(a)
#endif

namespace cs::philox {

struct U32x4 {
  uint32_t v[4];
};

CS_HOST_DEVICE uint32_t mulhi32(uint32_t a, uint32_t b) {
  return static_cast<uint32_t>((static_cast<uint64_t>(a) * b) >> 32);
}

// The raw generator: 10 rounds of the Philox S-box and key schedule.
CS_HOST_DEVICE U32x4 philox4x32_10(U32x4 ctr, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint32_t hi0 = mulhi32(kM0, ctr.v[0]), lo0 = kM0 * ctr.v[0];
    const uint32_t hi1 = mulhi32(kM1, ctr.v[2]), lo1 = kM1 * ctr.v[2];
    ctr = U32x4{{hi1 ^ ctr.v[1] ^ key0, lo1, hi0 ^ ctr.v[3] ^ key1, lo0}};
    key0 += kW0;
    key1 += kW1;
  }
  return ctr;
}

// The i-th 32-bit word of the stream (seed, offset).
CS_HOST_DEVICE uint32_t word(uint64_t seed, uint64_t offset, uint64_t i) {
  const uint64_t position = offset + i;
  const uint64_t block = position >> 2;
  const U32x4 out = philox4x32_10(
      U32x4{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0u, 0u}},
      static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  return out.v[position & 3];
}

// Uniform in [0, 1) with 24 random bits (every value exactly representable).
CS_HOST_DEVICE float uniform_from_word(uint32_t w) {
  return static_cast<float>(w >> 8) * (1.0f / 16777216.0f);
}

// Uniform in (0, 1]: safe to take the logarithm of.
CS_HOST_DEVICE float uniform_open0_from_word(uint32_t w) {
  return static_cast<float>((w >> 8) + 1u) * (1.0f / 16777216.0f);
}

CS_HOST_DEVICE float uniform(uint64_t seed, uint64_t offset, uint64_t i) {
  return uniform_from_word(word(seed, offset, i));
}

// Natural logarithm for x in [2^-24, 1], reproducible on host and device.
// x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m-1)/(m+1),
// from its odd series to s^9 (relative error < 1e-8 here).
CS_HOST_DEVICE float reproducible_log(float x) {
  union {
    float f;
    uint32_t u;
  } bits{x};
  int e = static_cast<int>((bits.u >> 23) & 0xFFu) - 127;
  bits.u = (bits.u & 0x007FFFFFu) | 0x3F800000u;  // m in [1, 2)
  float m = bits.f;
  if (m > 1.41421356f) {
    m = CS_RN_MUL(m, 0.5f);
    e += 1;
  }
  const float s = CS_RN_DIV(CS_RN_ADD(m, -1.0f), CS_RN_ADD(m, 1.0f));
  const float s2 = CS_RN_MUL(s, s);
  float poly = CS_RN_ADD(1.0f / 7.0f, CS_RN_MUL(s2, 1.0f / 9.0f));
  poly = CS_RN_ADD(1.0f / 5.0f, CS_RN_MUL(s2, poly));
  poly = CS_RN_ADD(1.0f / 3.0f, CS_RN_MUL(s2, poly));
  const float two_s = CS_RN_MUL(2.0f, s);
  const float log_m = CS_RN_ADD(two_s, CS_RN_MUL(two_s, CS_RN_MUL(s2, poly)));
  const float fe = static_cast<float>(e);
  constexpr float kLn2Hi = 0.693145751953125f;      // few bits: fe * kLn2Hi is exact
  constexpr float kLn2Lo = 1.42860682030941723e-6f;  // ln 2 - kLn2Hi
  return CS_RN_ADD(CS_RN_MUL(fe, kLn2Hi), CS_RN_ADD(log_m, CS_RN_MUL(fe, kLn2Lo)));
}

// cos(2*pi*u) for u in [0, 1), reproducible on host and device: reduce to a
// quadrant and |a| <= pi/4, then Taylor polynomials of sin and cos.
CS_HOST_DEVICE float reproducible_cos_2pi(float u) {
  const float t = CS_RN_MUL(u, 4.0f);  // exact
  int quadrant = static_cast<int>(t);
  float f = CS_RN_ADD(t, -static_cast<float>(quadrant));  // exact, in [0, 1)
  if (f > 0.5f) {
    f = CS_RN_ADD(f, -1.0f);
    quadrant += 1;
  }
  const float a = CS_RN_MUL(f, 1.57079632679489662f);
  const float a2 = CS_RN_MUL(a, a);
  float c = CS_RN_ADD(1.0f / 40320.0f, CS_RN_MUL(a2, -1.0f / 3628800.0f));
  c = CS_RN_ADD(-1.0f / 720.0f, CS_RN_MUL(a2, c));
  c = CS_RN_ADD(1.0f / 24.0f, CS_RN_MUL(a2, c));
  c = CS_RN_ADD(-0.5f, CS_RN_MUL(a2, c));
  c = CS_RN_ADD(1.0f, CS_RN_MUL(a2, c));
  float s = CS_RN_ADD(-1.0f / 5040.0f, CS_RN_MUL(a2, 1.0f / 362880.0f));
  s = CS_RN_ADD(1.0f / 120.0f, CS_RN_MUL(a2, s));
  s = CS_RN_ADD(-1.0f / 6.0f, CS_RN_MUL(a2, s));
  s = CS_RN_ADD(a, CS_RN_MUL(CS_RN_MUL(a, a2), s));
  switch (quadrant & 3) {
    case 0: return c;
    case 1: return -s;
    case 2: return -c;
    default: return s;
  }
}

// Standard normal by Box-Muller; the i-th normal uses words 2i and 2i+1.
CS_HOST_DEVICE float normal(uint64_t seed, uint64_t offset, uint64_t i) {
  const float u1 = uniform_open0_from_word(word(seed, offset, 2 * i));
  const float u2 = uniform_from_word(word(seed, offset, 2 * i + 1));
  const float radius = CS_RN_SQRT(CS_RN_MUL(-2.0f, reproducible_log(u1)));
  return CS_RN_MUL(radius, reproducible_cos_2pi(u2));
}

// True with probability p: the i-th uniform is below p.
CS_HOST_DEVICE bool bernoulli(uint64_t seed, uint64_t offset, uint64_t i, float p) {
  return uniform(seed, offset, i) < p;
}

}  // namespace cs::philox
