#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/tape.h"

namespace cs::ag {

namespace {

double weighted_sum(const Tensor& y, const Tensor& w) {
  const Tensor host = y.to(Device::cpu());
  const double* py = host.data<double>();
  const double* pw = w.data<double>();
  double total = 0;
  for (int64_t i = 0; i < host.numel(); ++i) total += py[i] * pw[i];
  return total;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Variable()>& f, const std::vector<Variable>& wrt,
                          const GradcheckOptions& options) {
  for (const Variable& v : wrt) {
    CS_CHECK(v.defined() && v.is_leaf() && v.requires_grad(),
             "gradcheck: '" << v.name() << "' must be a leaf variable that requires a gradient");
    CS_CHECK(v.dtype() == DType::F64 && v.device().is_cpu(),
             "gradcheck: '" << v.name() << "' must be f64 on the CPU");
  }
  clear_tape();
  for (Variable v : wrt) v.zero_grad();
  const Variable y = f();
  CS_CHECK(y.dtype() == DType::F64, "gradcheck: the function must compute in f64");
  const Tensor w = Tensor::uniform(y.shape(), -1.0, 1.0, options.seed, Device::cpu(), DType::F64);
  backward(y, w.to(y.device()));

  GradcheckResult result;
  std::ostringstream report;
  for (const Variable& v_const : wrt) {
    Variable v = v_const;
    CS_CHECK(v.has_grad(), "gradcheck: no gradient reached '" << v.name() << "'");
    const std::vector<double> analytic = v.grad().to_vector<double>();
    double* x = v.value().data<double>();
    const int64_t n = v.value().numel();
    const int64_t step =
        options.max_elements_per_variable > 0 && n > options.max_elements_per_variable
            ? n / options.max_elements_per_variable
            : 1;
    NoGradGuard no_grad;
    for (int64_t i = 0; i < n; i += step) {
      const double saved = x[i];
      x[i] = saved + options.eps;
      const double plus = weighted_sum(f().value(), w);
      x[i] = saved - options.eps;
      const double minus = weighted_sum(f().value(), w);
      x[i] = saved;
      const double numeric = (plus - minus) / (2 * options.eps);
      const double err = std::abs(analytic[i] - numeric);
      ++result.checked;
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (!std::isfinite(analytic[i]) || err > options.atol + options.rtol * std::abs(numeric)) {
        if (result.failures < 8)
          report << "'" << v.name() << "'[" << i << "]: analytic " << analytic[i] << ", numeric "
                 << numeric << "\n";
        ++result.failures;
      }
    }
  }
  result.ok = result.failures == 0 && result.checked > 0;
  result.report = report.str();
  return result;
}

}  // namespace cs::ag
