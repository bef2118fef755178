#include "viz/pca.h"

#include <algorithm>

#include "kernels/eigen.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/tensor_ops.h"

namespace cs::viz {

Pca pca(const Tensor& x, int k) {
  CS_CHECK(x.ndim() == 2 && x.dim(0) >= 2, "pca: expected (N >= 2, D) data, got " << shape_str(x.shape()));
  const int64_t n = x.dim(0), d = x.dim(1);
  CS_CHECK(k >= 1 && k <= d, "pca: " << k << " components of " << d << "-dimensional data");
  const Device device = x.device();
  Pca out;
  out.mean = Tensor::empty({d}, device);
  kernels::mean_axis(x, 0, out.mean);
  // Centred data: x - mean, by subtracting the mean as a per-column bias.
  Tensor centred = x.clone();
  Tensor negative_mean = Tensor::empty({d}, device);
  kernels::scale(out.mean, -1.0, negative_mean);
  kernels::add_channel_bias(centred, negative_mean);
  // Covariance (D, D) = centred^T centred / (N - 1).
  Tensor cov = Tensor::empty({d, d}, device);
  kernels::gemm(centred, kernels::Transpose::Yes, centred, kernels::Transpose::No, cov,
                1.0 / static_cast<double>(n - 1));
  Tensor values = Tensor::empty({d}, device), vectors = Tensor::empty({d, d}, device);
  kernels::symmetric_eigen(cov, values, vectors);
  // Ascending from the solver: take the last k rows, largest first.
  const std::vector<double> all = values.to_double_vector();
  double total = 0;
  for (double v : all) total += std::max(v, 0.0);
  const std::vector<float> vec = vectors.to_vector<float>();
  std::vector<float> top;
  for (int i = 0; i < k; ++i) {
    const int64_t row = d - 1 - i;
    // A sign convention, so results do not flip between solvers: the largest
    // component of each direction is positive.
    int64_t arg = 0;
    for (int64_t j = 1; j < d; ++j)
      if (std::abs(vec[row * d + j]) > std::abs(vec[row * d + arg])) arg = j;
    const float sign = vec[row * d + arg] < 0 ? -1.0f : 1.0f;
    for (int64_t j = 0; j < d; ++j) top.push_back(sign * vec[row * d + j]);
    out.variances.push_back(std::max(all[row], 0.0));
    out.explained_ratio.push_back(total > 0 ? std::max(all[row], 0.0) / total : 0.0);
  }
  out.components = Tensor::from_vector(top, {k, d}, device);
  out.projection = Tensor::empty({n, k}, device);
  kernels::gemm(centred, kernels::Transpose::No, out.components, kernels::Transpose::Yes, out.projection);
  return out;
}

}  // namespace cs::viz
