#include "viz/lbfgs.h"

#include <cmath>
#include <deque>

#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace cs::viz {

namespace {

double dot(const Tensor& a, const Tensor& b) {
  Tensor product = Tensor::empty_like(a);
  kernels::mul(a, b, product);
  Tensor total = Tensor::empty({1}, a.device(), a.dtype());
  kernels::sum_all(product, total);
  return total.item();
}

double max_abs(const Tensor& a) {
  Tensor m = Tensor::empty_like(a);
  kernels::abs(a, m);
  double best = 0;
  for (double v : m.to_double_vector()) best = std::max(best, v);
  return best;
}

}  // namespace

LbfgsResult lbfgs_minimize(const Objective& f, Tensor& x, const LbfgsOptions& o,
                           const std::function<void(int, double)>& on_iteration) {
  CS_CHECK(o.history >= 1 && o.max_iterations >= 1 && o.initial_step > 0,
           "L-BFGS: history, iterations and initial step must be positive");
  LbfgsResult result;
  Tensor g = Tensor::empty_like(x);
  double loss = f(x, g);
  ++result.evaluations;
  CS_CHECK(std::isfinite(loss), "L-BFGS: the objective is " << loss << " at the start");
  struct Pair {
    Tensor s, y;
    double rho;
  };
  std::deque<Pair> memory;
  Tensor direction = Tensor::empty_like(x), x_new = Tensor::empty_like(x), g_new = Tensor::empty_like(x);
  for (int it = 0; it < o.max_iterations; ++it) {
    if (max_abs(g) < o.tolerance_grad) break;
    // Two-loop recursion: direction = -H g.
    direction.copy_from(g);
    std::vector<double> alpha(memory.size());
    for (int i = static_cast<int>(memory.size()) - 1; i >= 0; --i) {
      alpha[i] = memory[i].rho * dot(memory[i].s, direction);
      kernels::axpy(-alpha[i], memory[i].y, direction);
    }
    if (!memory.empty()) {  // initial Hessian: gamma I, gamma = s.y / y.y
      const Pair& last = memory.back();
      kernels::scale(direction, dot(last.s, last.y) / dot(last.y, last.y), direction);
    }
    for (size_t i = 0; i < memory.size(); ++i) {
      const double beta = memory[i].rho * dot(memory[i].y, direction);
      kernels::axpy(alpha[i] - beta, memory[i].s, direction);
    }
    kernels::scale(direction, -1.0, direction);
    double slope = dot(g, direction);
    if (slope >= 0) {  // not a descent direction: restart from steepest descent
      memory.clear();
      kernels::scale(g, -1.0, direction);
      slope = dot(g, direction);
    }
    // Backtracking line search (Armijo): the first iteration scales the step
    // so it moves at most initial_step in the largest coordinate.
    double step = memory.empty() ? std::min(1.0, o.initial_step / std::max(max_abs(direction), 1e-20))
                                 : o.initial_step;
    double new_loss = 0;
    bool accepted = false;
    for (int ls = 0; ls < o.max_line_search; ++ls) {
      x_new.copy_from(x);
      kernels::axpy(step, direction, x_new);
      new_loss = f(x_new, g_new);
      ++result.evaluations;
      if (std::isfinite(new_loss) && new_loss <= loss + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    Pair pair{Tensor::empty_like(x), Tensor::empty_like(x), 0};
    kernels::sub(x_new, x, pair.s);
    kernels::sub(g_new, g, pair.y);
    const double sy = dot(pair.s, pair.y);
    if (sy > 1e-10) {  // keep only pairs that preserve positive curvature
      pair.rho = 1.0 / sy;
      memory.push_back(pair);
      if (static_cast<int>(memory.size()) > o.history) memory.pop_front();
    }
    x.copy_from(x_new);
    g.copy_from(g_new);
    const double change = std::abs(loss - new_loss);
    loss = new_loss;
    result.iterations = it + 1;
    result.history.push_back(loss);
    if (on_iteration) on_iteration(it, loss);
    if (change < o.tolerance_change) break;
  }
  result.loss = loss;
  return result;
}

}  // namespace cs::viz
