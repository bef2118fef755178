// L-BFGS (Nocedal 1980; Liu & Nocedal 1989) for one tensor of variables on
// any device: the two-loop recursion over the last `history` steps, and a
// backtracking line search with the Armijo condition.
#pragma once

#include <functional>

#include "runtime/tensor.h"

namespace cs::viz {

struct LbfgsOptions {
  int history = 10;
  int max_iterations = 100;
  double initial_step = 1.0;
  double tolerance_grad = 1e-7;    // stop when max |g| falls below
  double tolerance_change = 1e-12; // stop when the loss changes less than this
  int max_line_search = 20;
};

// f(x, grad): returns the objective at x and writes its gradient into grad.
using Objective = std::function<double(const Tensor& x, Tensor& grad)>;

struct LbfgsResult {
  int iterations = 0;
  int evaluations = 0;
  double loss = 0;
  std::vector<double> history;  // the objective after each iteration
};

// Minimises f from x (updated in place).
LbfgsResult lbfgs_minimize(const Objective& f, Tensor& x, const LbfgsOptions& options = {},
                           const std::function<void(int, double)>& on_iteration = nullptr);

}  // namespace cs::viz
