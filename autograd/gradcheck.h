// Gradient checking of anything built on the tape: single ops or whole
// networks, with respect to inputs and parameters alike.
//
// The objective is L = sum(f() * w) for a fixed random w. backward() gives
// dL/dv for every variable v in `wrt`; central differences (perturbing v's
// value in place by +-eps and calling f again) give the numeric derivative.
// Run it in double on the CPU (Module::to(DType::F64)), with inputs kept away
// from the kinks of ReLU and max pooling, and with dropout off.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace cs::ag {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-4;
  uint64_t seed = 1;
  // Check at most this many elements per variable (evenly spaced); 0 = all.
  int64_t max_elements_per_variable = 0;
};

struct GradcheckResult {
  bool ok = false;
  int64_t checked = 0;
  int64_t failures = 0;
  double max_abs_error = 0;
  std::string report;  // the worst mismatches, one per line
};

// f: recomputes the output from the current values of `wrt` (leaf variables
// that require a gradient, f64, CPU).
GradcheckResult gradcheck(const std::function<Variable()>& f, const std::vector<Variable>& wrt,
                          const GradcheckOptions& options = {});

}  // namespace cs::ag
