// Gradient checks of kernels in double precision on the CPU.
//
// The scalar checked is L = sum(forward(inputs) * w) for a fixed random w, so
// one backward call (seeded with gy = w) gives dL/d(input) for every input.
// Each element of every checked input is perturbed by +-eps (central
// differences) and the numeric derivative compared with the analytic one.
// Inputs must keep away from kinks (ReLU at 0, max-pool ties): build them
// with away_from_zero() or distinct_values().
#pragma once

#include <functional>
#include <vector>

#include "tests/common/test_util.h"

namespace cs::testing {

using ForwardFn = std::function<Tensor(const std::vector<Tensor>& inputs)>;
// Returns one gradient per input (undefined for inputs not checked).
using BackwardFn =
    std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs, const Tensor& grad_output)>;

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-7;
  double rtol = 1e-5;
  std::vector<bool> check;  // which inputs to check (default: all)
  uint64_t seed = 1;        // for the output weights w
};

// Inputs must be f64 CPU tensors.
::testing::AssertionResult gradcheck(const ForwardFn& forward, const BackwardFn& backward,
                                     const std::vector<Tensor>& inputs,
                                     const GradcheckOptions& options = {});

// f64 uniform values in [-high, -low] U [low, high]: keeps ReLU-like kinks
// (at 0) at least `low` away from every sample point.
Tensor away_from_zero(const Shape& shape, uint64_t seed, double low = 0.1, double high = 1.0);
// f64 values that are a random permutation of evenly spaced numbers in
// [-1, 1] with gaps >= 2/numel: no ties, so max-pool switches are stable under
// perturbations smaller than the gap.
Tensor distinct_values(const Shape& shape, uint64_t seed);

}  // namespace cs::testing
