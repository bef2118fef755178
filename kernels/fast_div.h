// Division by a divisor fixed at launch time, for index arithmetic in kernels.
//
// A GPU has no integer divide instruction: `i / d` with a run-time d costs
// some 20 instructions, and a memory-bound kernel that splits a flat index
// into (plane, row, column) pays that several times per element. FastDiv
// replaces it with a multiply-high, an add and a shift (Granlund and
// Montgomery, "Division by invariant integers using multiplication", 1994;
// the same scheme as PyTorch's IntDivider). Exact for every numerator
// n < 2^31 and divisor 1 <= d < 2^31; the tests check it against `/`.
// Host and device code share it, so kernels' index maths can be tested on
// the host.
#pragma once

#include <cstdint>

#include "runtime/philox.h"  // CS_HOST_DEVICE

namespace cs::kernels {

struct FastDiv {
  uint32_t divisor = 1;
  uint32_t magic = 1;
  uint32_t shift = 0;

  FastDiv() = default;
  // Host only; d in [1, 2^31).
  explicit FastDiv(uint32_t d) : divisor(d) {
    while (shift < 32 && (uint64_t{1} << shift) < d) ++shift;
    // magic = floor(2^32 * (2^shift - d) / d) + 1, which fits in 32 bits for d < 2^31.
    magic = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1);
  }

  // n / d for n < 2^31.
  CS_HOST_DEVICE uint32_t div(uint32_t n) const {
#if defined(__CUDA_ARCH__)
    const uint32_t t = __umulhi(n, magic);
#else
    const uint32_t t = static_cast<uint32_t>((static_cast<uint64_t>(n) * magic) >> 32);
#endif
    return (t + n) >> shift;  // t <= n < 2^31: no overflow
  }
  // n % d for n < 2^31.
  CS_HOST_DEVICE uint32_t mod(uint32_t n) const { return n - div(n) * divisor; }
};

}  // namespace cs::kernels
