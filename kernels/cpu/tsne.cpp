// t-SNE building blocks: dispatchers and the CPU reference (accumulating in double).
#include "kernels/tsne.h"

#include <cmath>
#include <limits>

namespace cs::kernels {

OpRegistry<TsneImpl>& tsne_registry() {
  static OpRegistry<TsneImpl> registry("tsne");
  return registry;
}

OpRegistry<TsneFftImpl>& tsne_fft_registry() {
  static OpRegistry<TsneFftImpl> registry("tsne_repulsion_fft");
  return registry;
}

namespace {

const TsneImpl& impl_for(const Tensor& t) { return tsne_registry().get(t.device()); }

void check_y(const Tensor& y, const char* op) {
  check_compute_dtype(y, op);
  CS_CHECK(y.ndim() == 2 && (y.dim(1) == 2 || y.dim(1) == 3),
           op << ": the embedding must be (N, 2) or (N, 3), got " << shape_str(y.shape()));
}

void check_csr(const Tensor& y, const Tensor& rows, const Tensor& cols, const Tensor& vals,
               const char* op) {
  check_dtype(rows, DType::I32, op);
  check_dtype(cols, DType::I32, op);
  check_shape(rows, {y.dim(0) + 1}, op);
  CS_CHECK(cols.ndim() == 1 && vals.ndim() == 1 && cols.numel() == vals.numel(),
           op << ": CSR columns and values must be 1-D of the same length");
  check_same_device(y, rows, op);
  check_same_device(y, cols, op);
  check_compatible({&y, &vals}, op);
}

}  // namespace

void tsne_conditional_p(const Tensor& sq_dist, double perplexity, bool skip_self, Tensor& p,
                        Tensor& achieved) {
  check_compatible({&sq_dist, &p, &achieved}, "tsne_conditional_p");
  CS_CHECK(sq_dist.ndim() == 2 && sq_dist.dim(1) >= 2, "tsne_conditional_p: distances must be (R, M >= 2), got "
                                                           << shape_str(sq_dist.shape()));
  CS_CHECK(!skip_self || sq_dist.dim(0) <= sq_dist.dim(1), "tsne_conditional_p: skip_self needs R <= M");
  const int64_t neighbours = sq_dist.dim(1) - (skip_self ? 1 : 0);
  CS_CHECK(perplexity > 0 && perplexity < neighbours,
           "t-SNE perplexity " << perplexity << " must be positive and below the " << neighbours
                               << " neighbours of each point");
  check_shape(p, sq_dist.shape(), "tsne_conditional_p: p");
  check_shape(achieved, {sq_dist.dim(0)}, "tsne_conditional_p: achieved");
  impl_for(sq_dist).conditional_p(sq_dist, perplexity, skip_self, p, achieved);
}

void tsne_symmetrize_dense(Tensor& p) {
  check_compute_dtype(p, "tsne_symmetrize_dense");
  CS_CHECK(p.ndim() == 2 && p.dim(0) == p.dim(1), "tsne_symmetrize_dense: P must be square, got "
                                                      << shape_str(p.shape()));
  impl_for(p).symmetrize_dense(p);
}

void tsne_attraction_dense(const Tensor& y, const Tensor& p, Tensor& attr) {
  check_y(y, "tsne_attraction_dense");
  check_compatible({&y, &p, &attr}, "tsne_attraction_dense");
  check_shape(p, {y.dim(0), y.dim(0)}, "tsne_attraction_dense: P");
  check_shape(attr, y.shape(), "tsne_attraction_dense: output");
  impl_for(y).attraction_dense(y, p, attr);
}

void tsne_attraction_sparse(const Tensor& y, const Tensor& rows, const Tensor& cols,
                            const Tensor& vals, Tensor& attr) {
  check_y(y, "tsne_attraction_sparse");
  check_csr(y, rows, cols, vals, "tsne_attraction_sparse");
  check_compatible({&y, &attr}, "tsne_attraction_sparse");
  check_shape(attr, y.shape(), "tsne_attraction_sparse: output");
  impl_for(y).attraction_sparse(y, rows, cols, vals, attr);
}

void tsne_repulsion_exact(const Tensor& y, Tensor& rep, Tensor& z) {
  check_y(y, "tsne_repulsion_exact");
  check_compatible({&y, &rep, &z}, "tsne_repulsion_exact");
  check_shape(rep, y.shape(), "tsne_repulsion_exact: repulsion");
  check_shape(z, {y.dim(0)}, "tsne_repulsion_exact: z");
  impl_for(y).repulsion_exact(y, rep, z);
}

void tsne_repulsion_fft(const Tensor& y, Tensor& rep, Tensor& z, double max_box_width) {
  check_y(y, "tsne_repulsion_fft");
  check_compatible({&y, &rep, &z}, "tsne_repulsion_fft");
  check_shape(rep, y.shape(), "tsne_repulsion_fft: repulsion");
  check_shape(z, {y.dim(0)}, "tsne_repulsion_fft: z");
  CS_CHECK(max_box_width > 0, "tsne_repulsion_fft: the box width must be positive, got " << max_box_width);
  if (y.dim(0) == 0) return;
  tsne_fft_registry().get(y.device()).repulsion_fft(y, rep, z, max_box_width);
}

void tsne_update(Tensor& y, const Tensor& attr, const Tensor& rep, Tensor& update, Tensor& gains,
                 Tensor& grad, const TsneStep& step) {
  check_y(y, "tsne_update");
  check_compatible({&y, &attr, &rep, &update, &gains, &grad}, "tsne_update");
  for (const Tensor* t : {&attr, &rep, static_cast<const Tensor*>(&update), static_cast<const Tensor*>(&gains),
                          static_cast<const Tensor*>(&grad)})
    check_shape(*t, y.shape(), "tsne_update");
  impl_for(y).update(y, attr, rep, update, gains, grad, step);
}

void tsne_p_log_w_dense(const Tensor& y, const Tensor& p, Tensor& out) {
  check_y(y, "tsne_p_log_w_dense");
  check_compatible({&y, &p, &out}, "tsne_p_log_w_dense");
  check_shape(p, {y.dim(0), y.dim(0)}, "tsne_p_log_w_dense: P");
  check_shape(out, {1}, "tsne_p_log_w_dense: output");
  impl_for(y).p_log_w_dense(y, p, out);
}

void tsne_p_log_w_sparse(const Tensor& y, const Tensor& rows, const Tensor& cols,
                         const Tensor& vals, Tensor& out) {
  check_y(y, "tsne_p_log_w_sparse");
  check_csr(y, rows, cols, vals, "tsne_p_log_w_sparse");
  check_compatible({&y, &out}, "tsne_p_log_w_sparse");
  check_shape(out, {1}, "tsne_p_log_w_sparse: output");
  impl_for(y).p_log_w_sparse(y, rows, cols, vals, out);
}

// ---- CPU reference ------------------------------------------------------------------------

namespace {

template <typename F>
void floating(const Tensor& t, F f) {
  dispatch_floating(t.dtype(), "tsne", [&](auto zero) { f(zero); });
}

void cpu_conditional_p(const Tensor& sq_dist, double perplexity, bool skip_self, Tensor& p,
                       Tensor& achieved) {
  floating(sq_dist, [&](auto zero) {
    using T = decltype(zero);
    const int64_t r = sq_dist.dim(0), m = sq_dist.dim(1);
    const double target = std::log(perplexity);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < r; ++i) {
      const T* d = sq_dist.data<T>() + i * m;
      T* out = p.data<T>() + i * m;
      double d_min = std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < m; ++j)
        if (!(skip_self && j == i)) d_min = std::min(d_min, static_cast<double>(d[j]));
      double beta = 1.0, lo = -std::numeric_limits<double>::infinity(),
             hi = std::numeric_limits<double>::infinity(), entropy = 0;
      for (int iter = 0; iter < 200; ++iter) {
        double sum = 0, weighted = 0;
        for (int64_t j = 0; j < m; ++j) {
          if (skip_self && j == i) continue;
          const double shifted = d[j] - d_min;
          const double e = std::exp(-beta * shifted);
          sum += e;
          weighted += shifted * e;
        }
        entropy = std::log(sum) + beta * weighted / sum;
        const double diff = entropy - target;
        if (std::abs(diff) < 1e-6) break;
        if (diff > 0) {  // too flat: sharpen
          lo = beta;
          beta = std::isinf(hi) ? beta * 2 : (beta + hi) / 2;
        } else {
          hi = beta;
          beta = std::isinf(lo) ? beta / 2 : (beta + lo) / 2;
        }
      }
      double sum = 0;
      for (int64_t j = 0; j < m; ++j) sum += (skip_self && j == i) ? 0.0 : std::exp(-beta * (d[j] - d_min));
      for (int64_t j = 0; j < m; ++j)
        out[j] = (skip_self && j == i) ? T(0) : static_cast<T>(std::exp(-beta * (d[j] - d_min)) / sum);
      achieved.data<T>()[i] = static_cast<T>(std::exp(entropy));
    }
  });
}

void cpu_symmetrize_dense(Tensor& p) {
  floating(p, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = p.dim(0);
    T* a = p.data<T>();
    const double scale = 1.0 / (2.0 * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i; j < n; ++j) {
        const T v = static_cast<T>((static_cast<double>(a[i * n + j]) + a[j * n + i]) * scale);
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
  });
}

template <typename T>
double student(const T* y, int64_t i, int64_t j, int64_t d, double* diff) {
  double sq = 0;
  for (int64_t k = 0; k < d; ++k) {
    diff[k] = static_cast<double>(y[i * d + k]) - y[j * d + k];
    sq += diff[k] * diff[k];
  }
  return 1.0 / (1.0 + sq);
}

void cpu_attraction_dense(const Tensor& y, const Tensor& p, Tensor& attr) {
  floating(y, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = y.dim(0), d = y.dim(1);
    const T* py = y.data<T>();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      double acc[3] = {0, 0, 0}, diff[3];
      for (int64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        const double w = student(py, i, j, d, diff) * p.data<T>()[i * n + j];
        for (int64_t k = 0; k < d; ++k) acc[k] += w * diff[k];
      }
      for (int64_t k = 0; k < d; ++k) attr.data<T>()[i * d + k] = static_cast<T>(acc[k]);
    }
  });
}

void cpu_attraction_sparse(const Tensor& y, const Tensor& rows, const Tensor& cols, const Tensor& vals,
                           Tensor& attr) {
  floating(y, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = y.dim(0), d = y.dim(1);
    const T* py = y.data<T>();
    const int32_t* r = rows.data<int32_t>();
    const int32_t* c = cols.data<int32_t>();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      double acc[3] = {0, 0, 0}, diff[3];
      for (int32_t e = r[i]; e < r[i + 1]; ++e) {
        const double w = student(py, i, c[e], d, diff) * vals.data<T>()[e];
        for (int64_t k = 0; k < d; ++k) acc[k] += w * diff[k];
      }
      for (int64_t k = 0; k < d; ++k) attr.data<T>()[i * d + k] = static_cast<T>(acc[k]);
    }
  });
}

void cpu_repulsion_exact(const Tensor& y, Tensor& rep, Tensor& z) {
  floating(y, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = y.dim(0), d = y.dim(1);
    const T* py = y.data<T>();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      double acc[3] = {0, 0, 0}, diff[3], zi = 0;
      for (int64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        const double w = student(py, i, j, d, diff);
        zi += w;
        for (int64_t k = 0; k < d; ++k) acc[k] += w * w * diff[k];
      }
      for (int64_t k = 0; k < d; ++k) rep.data<T>()[i * d + k] = static_cast<T>(acc[k]);
      z.data<T>()[i] = static_cast<T>(zi);
    }
  });
}

void cpu_update(Tensor& y, const Tensor& attr, const Tensor& rep, Tensor& update, Tensor& gains,
                Tensor& grad, const TsneStep& s) {
  floating(y, [&](auto zero) {
    using T = decltype(zero);
    T *py = y.data<T>(), *pu = update.data<T>(), *pg = gains.data<T>(), *pd = grad.data<T>();
    const T *pa = attr.data<T>(), *pr = rep.data<T>();
    for (int64_t i = 0; i < y.numel(); ++i) {
      const double g = 4.0 * (s.exaggeration * pa[i] - pr[i] * s.inv_z);
      double gain = pg[i];
      gain = (g > 0) != (pu[i] > 0) ? gain + 0.2 : gain * 0.8;
      gain = std::max(gain, s.min_gain);
      const double u = s.momentum * pu[i] - s.learning_rate * gain * g;
      pg[i] = static_cast<T>(gain);
      pu[i] = static_cast<T>(u);
      pd[i] = static_cast<T>(g);
      py[i] = static_cast<T>(py[i] + u);
    }
  });
}

void cpu_p_log_w_dense(const Tensor& y, const Tensor& p, Tensor& out) {
  floating(y, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = y.dim(0), d = y.dim(1);
    double total = 0, diff[3];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const double pij = p.data<T>()[i * n + j];
        if (j != i && pij > 0) total += pij * std::log(student(y.data<T>(), i, j, d, diff));
      }
    out.data<T>()[0] = static_cast<T>(total);
  });
}

void cpu_p_log_w_sparse(const Tensor& y, const Tensor& rows, const Tensor& cols, const Tensor& vals,
                        Tensor& out) {
  floating(y, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = y.dim(0), d = y.dim(1);
    double total = 0, diff[3];
    for (int64_t i = 0; i < n; ++i)
      for (int32_t e = rows.data<int32_t>()[i]; e < rows.data<int32_t>()[i + 1]; ++e) {
        const double pij = vals.data<T>()[e];
        if (pij > 0) total += pij * std::log(student(y.data<T>(), i, cols.data<int32_t>()[e], d, diff));
      }
    out.data<T>()[0] = static_cast<T>(total);
  });
}

}  // namespace

CS_REGISTER_OP(tsne_registry, DeviceType::CPU,
               (TsneImpl{&cpu_conditional_p, &cpu_symmetrize_dense, &cpu_attraction_dense,
                         &cpu_attraction_sparse, &cpu_repulsion_exact, &cpu_update,
                         &cpu_p_log_w_dense, &cpu_p_log_w_sparse}))

}  // namespace cs::kernels
