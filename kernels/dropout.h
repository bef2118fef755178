// Inverted dropout: y = x * mask / (1 - p), mask[i] = 1 when the i-th uniform
// of the Philox stream (seed, offset) is >= p (kept with probability 1 - p).
// The same (seed, offset) gives the same mask on the CPU and the GPU.
// p = 0 keeps everything (y = x); p = 1 drops everything (y = 0).
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

// mask: same shape as x, uint8 (1 kept, 0 dropped).
void dropout_forward(const Tensor& x, double p, uint64_t seed, uint64_t offset, Tensor& y,
                     Tensor& mask);
// gx = gy * mask / (1 - p)
void dropout_backward(const Tensor& gy, const Tensor& mask, double p, Tensor& gx);

struct DropoutImpl {
  void (*forward)(const Tensor& x, double p, uint64_t seed, uint64_t offset, Tensor& y, Tensor& mask);
  void (*backward)(const Tensor& gy, const Tensor& mask, double p, Tensor& gx);
};
OpRegistry<DropoutImpl>& dropout_registry();

}  // namespace cs::kernels
