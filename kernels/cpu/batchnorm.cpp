// Batch norm: dispatchers, argument checks and the CPU reference (statistics
// in double, two passes: mean first, then squared deviations, so a large
// mean costs no precision).
#include "kernels/batchnorm.h"

#include <cmath>

namespace cs::kernels {

OpRegistry<BatchNormImpl>& batchnorm_registry() {
  static OpRegistry<BatchNormImpl> registry("batch_norm");
  return registry;
}

namespace {

BatchNormDims dims_of(const Tensor& x, const char* op) {
  CS_CHECK(x.ndim() == 4 || x.ndim() == 2,
           op << ": input must be (N, C, H, W) or (N, C), got " << shape_str(x.shape()));
  BatchNormDims d;
  d.outer = x.dim(0);
  d.channels = x.dim(1);
  d.inner = x.ndim() == 4 ? x.dim(2) * x.dim(3) : 1;
  return d;
}

void check_channel_vectors(std::initializer_list<const Tensor*> ts, int64_t c, const char* op) {
  for (const Tensor* t : ts) check_shape(*t, {c}, op);
}

}  // namespace

void batch_norm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                              Tensor& running_mean, Tensor& running_var, double momentum,
                              double eps, Tensor& y, Tensor& save_mean, Tensor& save_invstd) {
  const char* op = "batch_norm_forward_train";
  check_compatible({&x, &gamma, &beta, &running_mean, &running_var, &y, &save_mean, &save_invstd}, op);
  const BatchNormDims d = dims_of(x, op);
  check_channel_vectors({&gamma, &beta, &running_mean, &running_var, &save_mean, &save_invstd},
                        d.channels, op);
  check_shape(y, x.shape(), op);
  CS_CHECK(eps > 0, op << ": eps must be positive, got " << eps);
  CS_CHECK(momentum >= 0 && momentum <= 1, op << ": momentum " << momentum << " outside [0, 1]");
  CS_CHECK(d.count() > 1, op << ": expected more than 1 value per channel when training, got input "
                             << shape_str(x.shape()));
  batchnorm_registry().get(x.device()).forward_train(x, gamma, beta, running_mean, running_var,
                                                     momentum, eps, y, save_mean, save_invstd, d);
}

void batch_norm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                             const Tensor& running_mean, const Tensor& running_var, double eps,
                             Tensor& y) {
  const char* op = "batch_norm_forward_eval";
  check_compatible({&x, &gamma, &beta, &running_mean, &running_var, &y}, op);
  const BatchNormDims d = dims_of(x, op);
  check_channel_vectors({&gamma, &beta, &running_mean, &running_var}, d.channels, op);
  check_shape(y, x.shape(), op);
  CS_CHECK(eps > 0, op << ": eps must be positive, got " << eps);
  if (x.numel() == 0) return;
  batchnorm_registry().get(x.device()).forward_eval(x, gamma, beta, running_mean, running_var, eps,
                                                    y, d);
}

void batch_norm_backward_train(const Tensor& gy, const Tensor& x, const Tensor& gamma,
                               const Tensor& save_mean, const Tensor& save_invstd, Tensor& gx,
                               Tensor& ggamma, Tensor& gbeta) {
  const char* op = "batch_norm_backward_train";
  check_compatible({&gy, &x, &gamma, &save_mean, &save_invstd, &gx, &ggamma, &gbeta}, op);
  const BatchNormDims d = dims_of(x, op);
  check_channel_vectors({&gamma, &save_mean, &save_invstd, &ggamma, &gbeta}, d.channels, op);
  check_shape(gy, x.shape(), op);
  check_shape(gx, x.shape(), op);
  batchnorm_registry().get(x.device()).backward_train(gy, x, gamma, save_mean, save_invstd, gx,
                                                      ggamma, gbeta, d);
}

void batch_norm_backward_eval(const Tensor& gy, const Tensor& x, const Tensor& gamma,
                              const Tensor& running_mean, const Tensor& running_var, double eps,
                              Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  const char* op = "batch_norm_backward_eval";
  check_compatible({&gy, &x, &gamma, &running_mean, &running_var, &gx, &ggamma, &gbeta}, op);
  const BatchNormDims d = dims_of(x, op);
  check_channel_vectors({&gamma, &running_mean, &running_var, &ggamma, &gbeta}, d.channels, op);
  check_shape(gy, x.shape(), op);
  check_shape(gx, x.shape(), op);
  CS_CHECK(eps > 0, op << ": eps must be positive, got " << eps);
  batchnorm_registry().get(x.device()).backward_eval(gy, x, gamma, running_mean, running_var, eps,
                                                     gx, ggamma, gbeta, d);
}

// ---- CPU reference -----------------------------------------------------------------------

namespace {

// Visits every value of channel c: f(index).
template <typename F>
void for_channel(const BatchNormDims& d, int64_t c, F f) {
  for (int64_t n = 0; n < d.outer; ++n) {
    const int64_t base = (n * d.channels + c) * d.inner;
    for (int64_t i = 0; i < d.inner; ++i) f(base + i);
  }
}

template <typename T>
void forward_train_typed(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& rm,
                         Tensor& rv, double momentum, double eps, Tensor& y, Tensor& save_mean,
                         Tensor& save_invstd, const BatchNormDims& d) {
  const T* px = x.data<T>();
  T* py = y.data<T>();
  const double count = static_cast<double>(d.count());
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.channels; ++c) {
    double sum = 0;
    for_channel(d, c, [&](int64_t i) { sum += px[i]; });
    const double mean = sum / count;
    double squares = 0;
    for_channel(d, c, [&](int64_t i) { squares += (px[i] - mean) * (px[i] - mean); });
    const double var = squares / count;  // biased: used to normalise
    const double invstd = 1.0 / std::sqrt(var + eps);
    const double g = gamma.data<T>()[c], b = beta.data<T>()[c];
    for_channel(d, c, [&](int64_t i) { py[i] = static_cast<T>((px[i] - mean) * invstd * g + b); });
    save_mean.data<T>()[c] = static_cast<T>(mean);
    save_invstd.data<T>()[c] = static_cast<T>(invstd);
    // Running estimates: the unbiased variance, as PyTorch.
    T& m = rm.data<T>()[c];
    T& v = rv.data<T>()[c];
    m = static_cast<T>((1 - momentum) * m + momentum * mean);
    v = static_cast<T>((1 - momentum) * v + momentum * var * count / (count - 1));
  }
}

template <typename T>
void forward_eval_typed(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm,
                        const Tensor& rv, double eps, Tensor& y, const BatchNormDims& d) {
  const T* px = x.data<T>();
  T* py = y.data<T>();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.channels; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(rv.data<T>()[c]) + eps);
    const double mean = rm.data<T>()[c], g = gamma.data<T>()[c], b = beta.data<T>()[c];
    for_channel(d, c, [&](int64_t i) { py[i] = static_cast<T>((px[i] - mean) * invstd * g + b); });
  }
}

// With xhat = (x - mean) * invstd:
//   gbeta = sum gy, ggamma = sum gy * xhat,
//   gx = gamma * invstd * (gy - gbeta/m - xhat * ggamma/m)   (m values per channel)
template <typename T>
void backward_train_typed(const Tensor& gy, const Tensor& x, const Tensor& gamma,
                          const Tensor& save_mean, const Tensor& save_invstd, Tensor& gx,
                          Tensor& ggamma, Tensor& gbeta, const BatchNormDims& d) {
  const T* pg = gy.data<T>();
  const T* px = x.data<T>();
  T* out = gx.data<T>();
  const double count = static_cast<double>(d.count());
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.channels; ++c) {
    const double mean = save_mean.data<T>()[c], invstd = save_invstd.data<T>()[c];
    double sum_g = 0, sum_gx = 0;
    for_channel(d, c, [&](int64_t i) {
      sum_g += pg[i];
      sum_gx += pg[i] * (px[i] - mean) * invstd;
    });
    const double scale = gamma.data<T>()[c] * invstd;
    for_channel(d, c, [&](int64_t i) {
      const double xhat = (px[i] - mean) * invstd;
      out[i] = static_cast<T>(scale * (pg[i] - sum_g / count - xhat * sum_gx / count));
    });
    ggamma.data<T>()[c] = static_cast<T>(sum_gx);
    gbeta.data<T>()[c] = static_cast<T>(sum_g);
  }
}

template <typename T>
void backward_eval_typed(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& rm,
                         const Tensor& rv, double eps, Tensor& gx, Tensor& ggamma, Tensor& gbeta,
                         const BatchNormDims& d) {
  const T* pg = gy.data<T>();
  const T* px = x.data<T>();
  T* out = gx.data<T>();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.channels; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(rv.data<T>()[c]) + eps);
    const double mean = rm.data<T>()[c], scale = gamma.data<T>()[c] * invstd;
    double sum_g = 0, sum_gx = 0;
    for_channel(d, c, [&](int64_t i) {
      sum_g += pg[i];
      sum_gx += pg[i] * (px[i] - mean) * invstd;
      out[i] = static_cast<T>(pg[i] * scale);
    });
    ggamma.data<T>()[c] = static_cast<T>(sum_gx);
    gbeta.data<T>()[c] = static_cast<T>(sum_g);
  }
}

void cpu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& rm,
                       Tensor& rv, double momentum, double eps, Tensor& y, Tensor& sm, Tensor& si,
                       const BatchNormDims& d) {
  dispatch_floating(x.dtype(), "batch_norm", [&](auto z) {
    forward_train_typed<decltype(z)>(x, gamma, beta, rm, rv, momentum, eps, y, sm, si, d);
  });
}
void cpu_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm,
                      const Tensor& rv, double eps, Tensor& y, const BatchNormDims& d) {
  dispatch_floating(x.dtype(), "batch_norm", [&](auto z) {
    forward_eval_typed<decltype(z)>(x, gamma, beta, rm, rv, eps, y, d);
  });
}
void cpu_backward_train(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& sm,
                        const Tensor& si, Tensor& gx, Tensor& gg, Tensor& gb, const BatchNormDims& d) {
  dispatch_floating(x.dtype(), "batch_norm", [&](auto z) {
    backward_train_typed<decltype(z)>(gy, x, gamma, sm, si, gx, gg, gb, d);
  });
}
void cpu_backward_eval(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& rm,
                       const Tensor& rv, double eps, Tensor& gx, Tensor& gg, Tensor& gb,
                       const BatchNormDims& d) {
  dispatch_floating(x.dtype(), "batch_norm", [&](auto z) {
    backward_eval_typed<decltype(z)>(gy, x, gamma, rm, rv, eps, gx, gg, gb, d);
  });
}

}  // namespace

CS_REGISTER_OP(batchnorm_registry, DeviceType::CPU,
               (BatchNormImpl{&cpu_forward_train, &cpu_forward_eval, &cpu_backward_train,
                              &cpu_backward_eval}))

}  // namespace cs::kernels
