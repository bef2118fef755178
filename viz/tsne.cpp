#include "viz/tsne.h"

#include <chrono>
#include <cmath>
#include <algorithm>

#include "kernels/distance.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "kernels/tsne.h"
#include "viz/barnes_hut.h"
#include "viz/neighbors.h"
#include "viz/pca.h"

namespace cs::viz {

namespace {

constexpr int64_t kExactLimit = 10000;

struct Affinities {
  Tensor dense;              // (N, N), or undefined
  Tensor rows, cols, vals;   // CSR, for the sparse methods
  double sum_p_log_p = 0;
  std::vector<float> perplexities;
};

Affinities dense_affinities(const Tensor& x, double perplexity) {
  const int64_t n = x.dim(0);
  Affinities a;
  Tensor d = Tensor::empty({n, n}, x.device());
  kernels::pairwise_distances(x, x, kernels::Metric::L2, d);
  kernels::mul(d, d, d);  // squared distances
  a.dense = Tensor::empty({n, n}, x.device());
  Tensor achieved = Tensor::empty({n}, x.device());
  kernels::tsne_conditional_p(d, perplexity, true, a.dense, achieved);
  kernels::tsne_symmetrize_dense(a.dense);
  a.perplexities = achieved.to_vector<float>();
  for (float p : a.dense.to_vector<float>())
    if (p > 0) a.sum_p_log_p += static_cast<double>(p) * std::log(static_cast<double>(p));
  return a;
}

Affinities sparse_affinities(const Tensor& x, double perplexity) {
  const int64_t n = x.dim(0);
  const int k = static_cast<int>(std::min<int64_t>(n - 1, static_cast<int64_t>(3 * perplexity)));
  std::vector<int64_t> self(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) self[i] = i;
  const Neighbors nb = nearest_neighbors(x, x, k, kernels::Metric::L2, self);
  Tensor d = nb.distances.to(x.device());
  kernels::mul(d, d, d);
  Tensor p = Tensor::empty({n, k}, x.device()), achieved = Tensor::empty({n}, x.device());
  kernels::tsne_conditional_p(d, perplexity, false, p, achieved);
  Affinities a;
  a.perplexities = achieved.to_vector<float>();
  // Symmetrise on the host in O(nnz): P_ij = (P_{j|i} + P_{i|j}) / 2N, rows
  // sorted by column. Row i merges its own neighbours (sorted) with the
  // points that have i as a neighbour (the transpose, filled in row order, so
  // already sorted).
  const std::vector<float> cond = p.to_vector<float>();
  const std::vector<int32_t> idx = nb.indices.to_vector<int32_t>();
  std::vector<std::pair<int32_t, float>> forward(static_cast<size_t>(n * k));
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < k; ++j) forward[i * k + j] = {idx[i * k + j], cond[i * k + j]};
    std::sort(forward.begin() + i * k, forward.begin() + (i + 1) * k);
  }
  std::vector<int64_t> back_start(static_cast<size_t>(n + 1), 0);
  for (int32_t j : idx) ++back_start[j + 1];
  for (int64_t i = 0; i < n; ++i) back_start[i + 1] += back_start[i];
  std::vector<std::pair<int32_t, float>> backward(forward.size());
  {
    std::vector<int64_t> fill(back_start.begin(), back_start.end() - 1);
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < k; ++j) {
        const auto& [other, v] = forward[i * k + j];
        backward[fill[other]++] = {static_cast<int32_t>(i), v};
      }
  }
  std::vector<int32_t> offsets = {0}, columns;
  std::vector<float> values;
  columns.reserve(forward.size() * 2);
  values.reserve(forward.size() * 2);
  const double scale = 1.0 / (2.0 * n);
  auto emit = [&](int32_t col, double v) {
    columns.push_back(col);
    values.push_back(static_cast<float>(v));
    if (v > 0) a.sum_p_log_p += v * std::log(v);
  };
  for (int64_t i = 0; i < n; ++i) {
    auto f = forward.begin() + i * k, f_end = f + k;
    auto b = backward.begin() + back_start[i], b_end = backward.begin() + back_start[i + 1];
    while (f != f_end || b != b_end) {
      if (b == b_end || (f != f_end && f->first < b->first)) {
        emit(f->first, f->second * scale);
        ++f;
      } else if (f == f_end || b->first < f->first) {
        emit(b->first, b->second * scale);
        ++b;
      } else {
        emit(f->first, (static_cast<double>(f->second) + b->second) * scale);
        ++f, ++b;
      }
    }
    offsets.push_back(static_cast<int32_t>(columns.size()));
  }
  a.rows = Tensor::from_vector(offsets, {n + 1}, x.device());
  a.cols = Tensor::from_vector(columns, {static_cast<int64_t>(columns.size())}, x.device());
  a.vals = Tensor::from_vector(values, {static_cast<int64_t>(values.size())}, x.device());
  return a;
}

}  // namespace

const std::vector<std::string>& tsne_methods() {
  static const std::vector<std::string> methods = {"auto", "exact", "sparse", "barnes-hut", "fft"};
  return methods;
}

void check_tsne_method(const std::string& method, const char* what) {
  const std::vector<std::string>& known = tsne_methods();
  if (std::find(known.begin(), known.end(), method) != known.end()) return;
  std::string list;
  for (const std::string& m : known) list += (list.empty() ? "" : ", ") + m;
  CS_FAIL(what << " '" << method << "' is unknown (" << list << ")");
}

TsneResult tsne(const Tensor& input, const TsneOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  CS_CHECK(input.ndim() == 2 && input.dim(0) >= 4, "t-SNE needs (N >= 4, D) data, got " << shape_str(input.shape()));
  CS_CHECK(o.dims == 2 || o.dims == 3, "t-SNE embeds into 2 or 3 dimensions, not " << o.dims);
  CS_CHECK(o.iterations >= 1 && o.perplexity > 0 && o.early_exaggeration >= 1 && o.theta >= 0,
           "t-SNE: iterations >= 1, perplexity > 0, early exaggeration >= 1, theta >= 0 expected");
  const int64_t n = input.dim(0);
  CS_CHECK(o.perplexity < n - 1, "t-SNE perplexity " << o.perplexity << " needs more than "
                                                     << o.perplexity + 1 << " points, got " << n);
  check_tsne_method(o.method);
  std::string method = o.method;
  if (method == "auto") method = n <= kExactLimit ? "exact" : input.is_cuda() ? "fft" : "barnes-hut";
  const Device device = method == "barnes-hut" ? Device::cpu() : input.device();
  Tensor x = input.to(device).to(DType::F32);
  if (o.pca_dims > 0 && x.dim(1) > o.pca_dims) x = pca(x, o.pca_dims).projection;

  const Affinities p = method == "exact" ? dense_affinities(x, o.perplexity) : sparse_affinities(x, o.perplexity);

  // PCA initialisation, scaled so the first coordinate has std 1e-4.
  Tensor y = pca(x, o.dims).projection;
  {
    std::vector<float> v = y.to_vector<float>();
    double mean = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i) mean += v[i * o.dims];
    mean /= n;
    for (int64_t i = 0; i < n; ++i) sq += (v[i * o.dims] - mean) * (v[i * o.dims] - mean);
    const double scale = 1e-4 / std::max(std::sqrt(sq / n), 1e-12);
    for (float& f : v) f = static_cast<float>(f * scale);
    y = Tensor::from_vector(v, {n, o.dims}, device);
  }
  const double lr = o.learning_rate > 0 ? o.learning_rate : std::max(n / o.early_exaggeration / 4.0, 50.0);
  Tensor attr = Tensor::empty_like(y), rep = Tensor::empty_like(y), grad = Tensor::empty_like(y);
  Tensor update = Tensor::zeros_like(y), gains = Tensor::full(y.shape(), 1.0, device);
  Tensor z = Tensor::empty({n}, device), z_total = Tensor::empty({1}, device), plogw = Tensor::empty({1}, device);

  TsneResult result;
  result.method = method;
  result.perplexities = p.perplexities;
  auto kl_now = [&](double z_sum) {
    if (method == "exact")
      kernels::tsne_p_log_w_dense(y, p.dense, plogw);
    else
      kernels::tsne_p_log_w_sparse(y, p.rows, p.cols, p.vals, plogw);
    // KL(P || Q) = sum p log p - sum p log w + log Z   (sum p = 1)
    return p.sum_p_log_p - plogw.item() + std::log(z_sum);
  };
  auto repulsion = [&](const Tensor& at, Tensor& rep_out, Tensor& z_out) {
    if (method == "barnes-hut")
      barnes_hut_repulsion(at, o.theta, rep_out, z_out);
    else if (method == "fft")
      kernels::tsne_repulsion_fft(at, rep_out, z_out);
    else
      kernels::tsne_repulsion_exact(at, rep_out, z_out);
  };
  double z_sum = 1;
  for (int it = 0; it < o.iterations; ++it) {
    const bool early = it < o.exaggeration_iterations;
    if (method == "exact")
      kernels::tsne_attraction_dense(y, p.dense, attr);
    else
      kernels::tsne_attraction_sparse(y, p.rows, p.cols, p.vals, attr);
    repulsion(y, rep, z);
    kernels::sum_all(z, z_total);
    z_sum = std::max(z_total.item(), 1e-12);
    if (o.report_every > 0 && it % o.report_every == 0) result.kl_history.emplace_back(it, kl_now(z_sum));
    kernels::TsneStep step;
    step.exaggeration = early ? o.early_exaggeration : 1.0;
    step.inv_z = 1.0 / z_sum;
    step.momentum = early ? 0.5 : 0.8;
    step.learning_rate = lr;
    kernels::tsne_update(y, attr, rep, update, gains, grad, step);
  }
  // The final KL at the final positions.
  repulsion(y, rep, z);
  kernels::sum_all(z, z_total);
  result.kl_divergence = kl_now(std::max(z_total.item(), 1e-12));
  result.kl_history.emplace_back(o.iterations, result.kl_divergence);
  result.embedding = y.to(Device::cpu());
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace cs::viz
