// Reductions. Deterministic: the same input gives the same bits on every run
// (fixed reduction trees, no float atomics).
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

// out (1 element) = sum of all elements of x. CPU accumulates in double.
void sum_all(const Tensor& x, Tensor& out);

struct ReduceImpl {
  void (*sum_all)(const Tensor& x, Tensor& out);
};
OpRegistry<ReduceImpl>& reduce_registry();

}  // namespace cs::kernels
