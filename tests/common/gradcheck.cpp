#include "tests/common/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "runtime/philox.h"

namespace cs::testing {

namespace {

double weighted_sum(const Tensor& y, const Tensor& w) {
  const double* py = y.data<double>();
  const double* pw = w.data<double>();
  double total = 0;
  for (int64_t i = 0; i < y.numel(); ++i) total += py[i] * pw[i];
  return total;
}

}  // namespace

::testing::AssertionResult gradcheck(const ForwardFn& forward, const BackwardFn& backward,
                                     const std::vector<Tensor>& inputs_in,
                                     const GradcheckOptions& options) {
  std::vector<Tensor> inputs;
  for (const Tensor& t : inputs_in) {
    if (!t.defined()) {
      inputs.push_back(t);
      continue;
    }
    if (t.dtype() != DType::F64 || !t.device().is_cpu())
      return ::testing::AssertionFailure() << "gradcheck needs f64 CPU inputs";
    inputs.push_back(t.clone());
  }
  const Tensor y = forward(inputs);
  if (y.dtype() != DType::F64) return ::testing::AssertionFailure() << "forward must return f64";
  const Tensor w = Tensor::uniform(y.shape(), -1.0, 1.0, options.seed, Device::cpu(), DType::F64);
  const std::vector<Tensor> analytic = backward(inputs, w);
  if (analytic.size() != inputs.size())
    return ::testing::AssertionFailure() << "backward returned " << analytic.size()
                                         << " gradients for " << inputs.size() << " inputs";
  std::ostringstream report;
  int64_t failures = 0, checked = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].defined()) continue;
    if (!options.check.empty() && (k >= options.check.size() || !options.check[k])) continue;
    if (!analytic[k].defined())
      return ::testing::AssertionFailure() << "no analytic gradient for input " << k;
    if (analytic[k].shape() != inputs[k].shape())
      return ::testing::AssertionFailure()
             << "gradient of input " << k << " has shape " << shape_str(analytic[k].shape())
             << ", the input " << shape_str(inputs[k].shape());
    const std::vector<double> grad = analytic[k].to(DType::F64).to_vector<double>();
    double* x = inputs[k].data<double>();
    for (int64_t i = 0; i < inputs[k].numel(); ++i) {
      const double saved = x[i];
      x[i] = saved + options.eps;
      const double plus = weighted_sum(forward(inputs), w);
      x[i] = saved - options.eps;
      const double minus = weighted_sum(forward(inputs), w);
      x[i] = saved;
      const double numeric = (plus - minus) / (2 * options.eps);
      ++checked;
      if (!std::isfinite(grad[i]) ||
          std::abs(grad[i] - numeric) > options.atol + options.rtol * std::abs(numeric)) {
        if (failures < 5)
          report << "\n  input " << k << " element " << i << ": analytic " << grad[i]
                 << ", numeric " << numeric;
        ++failures;
      }
    }
  }
  if (checked == 0) return ::testing::AssertionFailure() << "gradcheck checked nothing";
  if (failures)
    return ::testing::AssertionFailure() << failures << " of " << checked
                                         << " derivatives differ:" << report.str();
  return ::testing::AssertionSuccess();
}

Tensor away_from_zero(const Shape& shape, uint64_t seed, double low, double high) {
  const int64_t n = shape_numel(shape);
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) {
    const double u = philox::uniform(seed, 0, 2 * i);
    const bool negative = philox::uniform(seed, 0, 2 * i + 1) < 0.5f;
    const double magnitude = low + (high - low) * u;
    v[i] = negative ? -magnitude : magnitude;
  }
  return Tensor::from_vector(v, shape);
}

Tensor distinct_values(const Shape& shape, uint64_t seed) {
  const int64_t n = shape_numel(shape);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Fisher-Yates with Philox draws: reproducible everywhere.
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = philox::word(seed, 0, i) % static_cast<uint64_t>(i + 1);
    std::swap(order[i], order[j]);
  }
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = n > 1 ? -1.0 + 2.0 * order[i] / (n - 1) : 0.5;
  return Tensor::from_vector(v, shape);
}

}  // namespace cs::testing
