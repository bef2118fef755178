// Softmax family and cross-entropy: dispatchers and the CPU reference.
#include "kernels/softmax.h"

#include "kernels/tensor_ops.h"

#include <algorithm>
#include <cmath>

namespace cs::kernels {

OpRegistry<SoftmaxImpl>& softmax_registry() {
  static OpRegistry<SoftmaxImpl> registry("softmax");
  return registry;
}

namespace {

void check_rows(const Tensor& x, const char* op) {
  CS_CHECK(x.ndim() == 2, op << ": expected (N, K) rows, got " << shape_str(x.shape()));
}

const SoftmaxImpl& impl_for(const Tensor& t) { return softmax_registry().get(t.device()); }

void check_labels(const Tensor& logits, const Tensor& labels, const char* op) {
  check_dtype(labels, DType::I32, op);
  check_same_device(logits, labels, op);
  check_shape(labels, {logits.dim(0)}, op);
  // Labels on the CPU are always checked here; GPU labels only with device
  // checks on (kernels/tensor_ops.h). Without them the GPU kernels turn a bad
  // label's row into NaN (loss and gradient), never reading out of bounds.
  if (labels.device().is_cpu() || device_checks()) {
    const Tensor host = labels.to(Device::cpu());
    const int32_t* p = host.data<int32_t>();
    for (int64_t i = 0; i < host.numel(); ++i)
      CS_CHECK(p[i] >= 0 && p[i] < logits.dim(1),
               op << ": label " << p[i] << " of row " << i << " is outside [0, " << logits.dim(1)
                  << ")");
  }
}

}  // namespace

void softmax_forward(const Tensor& x, Tensor& y) {
  check_compatible({&x, &y}, "softmax_forward");
  check_rows(x, "softmax_forward");
  check_shape(y, x.shape(), "softmax_forward: output");
  if (x.numel() == 0) return;
  impl_for(x).softmax(x, y);
}

void log_softmax_forward(const Tensor& x, Tensor& y) {
  check_compatible({&x, &y}, "log_softmax_forward");
  check_rows(x, "log_softmax_forward");
  check_shape(y, x.shape(), "log_softmax_forward: output");
  if (x.numel() == 0) return;
  impl_for(x).log_softmax(x, y);
}

void softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) {
  check_compatible({&y, &gy, &gx}, "softmax_backward");
  check_rows(y, "softmax_backward");
  check_shape(gy, y.shape(), "softmax_backward");
  check_shape(gx, y.shape(), "softmax_backward");
  if (y.numel() == 0) return;
  impl_for(y).softmax_backward(y, gy, gx);
}

void log_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) {
  check_compatible({&y, &gy, &gx}, "log_softmax_backward");
  check_rows(y, "log_softmax_backward");
  check_shape(gy, y.shape(), "log_softmax_backward");
  check_shape(gx, y.shape(), "log_softmax_backward");
  if (y.numel() == 0) return;
  impl_for(y).log_softmax_backward(y, gy, gx);
}

void softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                   double label_smoothing, Tensor& loss, Tensor& probs) {
  const char* op = "softmax_cross_entropy_forward";
  check_compatible({&logits, &loss, &probs}, op);
  check_rows(logits, op);
  CS_CHECK(logits.dim(0) > 0 && logits.dim(1) > 0, op << ": empty logits " << shape_str(logits.shape()));
  check_labels(logits, labels, op);
  check_shape(loss, {1}, op);
  check_shape(probs, logits.shape(), op);
  CS_CHECK(label_smoothing >= 0 && label_smoothing <= 1,
           op << ": label smoothing " << label_smoothing << " outside [0, 1]");
  impl_for(logits).ce_forward(logits, labels, label_smoothing, loss, probs);
}

void softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                    double label_smoothing, const Tensor& gloss, Tensor& glogits) {
  const char* op = "softmax_cross_entropy_backward";
  check_compatible({&probs, &gloss, &glogits}, op);
  check_rows(probs, op);
  check_labels(probs, labels, op);
  check_shape(gloss, {1}, op);
  check_shape(glogits, probs.shape(), op);
  impl_for(probs).ce_backward(probs, labels, label_smoothing, gloss, glogits);
}

// ---- CPU reference ------------------------------------------------------------------------

namespace {

// One row: max shift, then exp and sum in double.
template <typename T>
void softmax_row(const T* x, T* y, int64_t k, bool log_output) {
  const T m = *std::max_element(x, x + k);
  double sum = 0;
  for (int64_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(x[j] - m));
  const double log_sum = std::log(sum);
  for (int64_t j = 0; j < k; ++j) {
    const double shifted = static_cast<double>(x[j] - m);
    y[j] = static_cast<T>(log_output ? shifted - log_sum : std::exp(shifted - log_sum));
  }
}

template <typename F>
void per_row(const Tensor& x, F f) {
  dispatch_floating(x.dtype(), "softmax", [&](auto zero) { f(zero); });
}

void cpu_softmax(const Tensor& x, Tensor& y) {
  per_row(x, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = x.dim(0), k = x.dim(1);
    for (int64_t i = 0; i < n; ++i) softmax_row(x.data<T>() + i * k, y.data<T>() + i * k, k, false);
  });
}

void cpu_log_softmax(const Tensor& x, Tensor& y) {
  per_row(x, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = x.dim(0), k = x.dim(1);
    for (int64_t i = 0; i < n; ++i) softmax_row(x.data<T>() + i * k, y.data<T>() + i * k, k, true);
  });
}

void cpu_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) {
  per_row(y, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = y.dim(0), k = y.dim(1);
    for (int64_t i = 0; i < n; ++i) {
      const T* py = y.data<T>() + i * k;
      const T* pg = gy.data<T>() + i * k;
      double dot = 0;
      for (int64_t j = 0; j < k; ++j) dot += static_cast<double>(pg[j]) * py[j];
      for (int64_t j = 0; j < k; ++j) gx.data<T>()[i * k + j] = static_cast<T>(py[j] * (pg[j] - dot));
    }
  });
}

void cpu_log_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) {
  per_row(y, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = y.dim(0), k = y.dim(1);
    for (int64_t i = 0; i < n; ++i) {
      const T* py = y.data<T>() + i * k;
      const T* pg = gy.data<T>() + i * k;
      double total = 0;
      for (int64_t j = 0; j < k; ++j) total += pg[j];
      for (int64_t j = 0; j < k; ++j)
        gx.data<T>()[i * k + j] = static_cast<T>(pg[j] - std::exp(static_cast<double>(py[j])) * total);
    }
  });
}

void cpu_ce_forward(const Tensor& logits, const Tensor& labels, double eps, Tensor& loss,
                    Tensor& probs) {
  per_row(logits, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = logits.dim(0), k = logits.dim(1);
    const int32_t* lab = labels.data<int32_t>();
    std::vector<T> log_p(static_cast<size_t>(k));
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      softmax_row(logits.data<T>() + i * k, log_p.data(), k, true);
      // -sum_j q_j log p_j with q = (1 - eps) onehot + eps / K
      double row = -(1 - eps) * log_p[lab[i]];
      if (eps > 0) {
        double sum_log = 0;
        for (int64_t j = 0; j < k; ++j) sum_log += log_p[j];
        row -= eps / static_cast<double>(k) * sum_log;
      }
      total += row;
      for (int64_t j = 0; j < k; ++j)
        probs.data<T>()[i * k + j] = static_cast<T>(std::exp(static_cast<double>(log_p[j])));
    }
    loss.data<T>()[0] = static_cast<T>(total / static_cast<double>(n));
  });
}

void cpu_ce_backward(const Tensor& probs, const Tensor& labels, double eps, const Tensor& gloss,
                     Tensor& glogits) {
  per_row(probs, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = probs.dim(0), k = probs.dim(1);
    const int32_t* lab = labels.data<int32_t>();
    const double scale = static_cast<double>(gloss.data<T>()[0]) / static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j) {
        const double q = (j == lab[i] ? 1 - eps : 0.0) + eps / static_cast<double>(k);
        glogits.data<T>()[i * k + j] = static_cast<T>(scale * (probs.data<T>()[i * k + j] - q));
      }
  });
}

}  // namespace

CS_REGISTER_OP(softmax_registry, DeviceType::CPU,
               (SoftmaxImpl{&cpu_softmax, &cpu_log_softmax, &cpu_softmax_backward,
                            &cpu_log_softmax_backward, &cpu_ce_forward, &cpu_ce_backward}))

}  // namespace cs::kernels
