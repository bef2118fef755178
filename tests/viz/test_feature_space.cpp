// Feature space: neighbours, PCA and t-SNE.
#include <cmath>

#include "kernels/distance.h"
#include "kernels/elementwise.h"
#include "kernels/tsne.h"
#include "runtime/philox.h"
#include "tests/common/test_util.h"
#include "viz/neighbors.h"
#include "viz/pca.h"
#include "viz/tsne.h"

namespace cs {
namespace {

double brute(const std::vector<float>& a, const std::vector<float>& b, int64_t i, int64_t j,
             int64_t d, kernels::Metric m) {
  double s = 0, na = 0, nb = 0;
  for (int64_t k = 0; k < d; ++k) {
    const double x = a[i * d + k], y = b[j * d + k];
    if (m == kernels::Metric::L2) s += (x - y) * (x - y);
    if (m == kernels::Metric::L1) s += std::abs(x - y);
    if (m == kernels::Metric::Cosine) {
      s += x * y;
      na += x * x;
      nb += y * y;
    }
  }
  if (m == kernels::Metric::L2) return std::sqrt(s);
  if (m == kernels::Metric::Cosine) return 1 - s / std::sqrt(na * nb);
  return s;
}

TEST(Neighbors, MatchBruteForceInDouble) {
  const int64_t q = 13, n = 57, d = 9;
  const Tensor queries = testing::random_tensor({q, d}, testing::seed_for("q"));
  const Tensor points = testing::random_tensor({n, d}, testing::seed_for("p"));
  const std::vector<float> qa = queries.to_vector<float>(), pa = points.to_vector<float>();
  for (kernels::Metric m : {kernels::Metric::L2, kernels::Metric::L1, kernels::Metric::Cosine}) {
    SCOPED_TRACE(kernels::metric_name(m));
    const viz::Neighbors nb = viz::nearest_neighbors(queries, points, 5, m, {}, 4);
    const std::vector<int32_t> idx = nb.indices.to_vector<int32_t>();
    const std::vector<float> dist = nb.distances.to_vector<float>();
    for (int64_t i = 0; i < q; ++i) {
      std::vector<std::pair<double, int>> all;
      for (int64_t j = 0; j < n; ++j) all.emplace_back(brute(qa, pa, i, j, d, m), static_cast<int>(j));
      std::sort(all.begin(), all.end());
      for (int r = 0; r < 5; ++r) {
        EXPECT_EQ(idx[i * 5 + r], all[r].second) << i << " rank " << r;
        EXPECT_NEAR(dist[i * 5 + r], all[r].first, 1e-5);
      }
    }
  }
}

TEST(Neighbors, MetricPropertiesTiesAndSelfExclusion) {
  const Tensor x = testing::random_tensor({20, 4}, testing::seed_for());
  for (kernels::Metric m : {kernels::Metric::L2, kernels::Metric::L1, kernels::Metric::Cosine}) {
    Tensor d = Tensor::empty({20, 20});
    kernels::pairwise_distances(x, x, m, d);
    const std::vector<float> v = d.to_vector<float>();
    for (int i = 0; i < 20; ++i) {
      // L2 through |q|^2 + |p|^2 - 2 q.p cancels to ~1e-7 before the square
      // root, which makes it ~3e-4: the price of computing distances by GEMM.
      EXPECT_NEAR(v[i * 20 + i], 0.0, 1e-3);
      for (int j = 0; j < 20; ++j) {
        EXPECT_GE(v[i * 20 + j], 0.0f);
        EXPECT_NEAR(v[i * 20 + j], v[j * 20 + i], 1e-5);
      }
    }
  }
  // Duplicated points tie: the lower index comes first.
  const Tensor dup = Tensor::from_vector(std::vector<float>{0, 0, 1, 1, 1, 1, 5, 5}, {4, 2});
  const viz::Neighbors nb = viz::nearest_neighbors(dup, dup, 2, kernels::Metric::L2, {0, 1, 2, 3});
  EXPECT_EQ(nb.indices.to_vector<int32_t>()[0], 1);  // from point 0: 1 and 2 tie, 1 first
  EXPECT_EQ(nb.indices.to_vector<int32_t>()[1], 2);
  EXPECT_EQ(nb.indices.to_vector<int32_t>()[2], 2);  // from point 1: its twin, not itself
  const viz::LabelAgreement a = viz::label_agreement(nb, {0, 1, 1, 0}, {0, 1, 1, 0});
  EXPECT_GT(a.neighbour_agreement, 0.0);
  EXPECT_THROW(viz::nearest_neighbors(dup, dup, 4, kernels::Metric::L2, {0, 1, 2, 3}), Error);
}

TEST(Pca, RecoversAKnownSpectrum) {
  // Data = Gaussian coordinates with standard deviations 5, 3, 1, 0.5 along a
  // random orthonormal basis (Gram-Schmidt of random vectors).
  const int64_t n = 4000, d = 4;
  const double stds[d] = {5, 3, 1, 0.5};
  std::vector<double> basis = testing::random_tensor({d, d}, testing::seed_for("basis"), -1, 1,
                                                     Device::cpu(), DType::F64).to_vector<double>();
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = 0; j < i; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < d; ++k) dot += basis[i * d + k] * basis[j * d + k];
      for (int64_t k = 0; k < d; ++k) basis[i * d + k] -= dot * basis[j * d + k];
    }
    double norm = 0;
    for (int64_t k = 0; k < d; ++k) norm += basis[i * d + k] * basis[i * d + k];
    for (int64_t k = 0; k < d; ++k) basis[i * d + k] /= std::sqrt(norm);
  }
  const std::vector<float> z = Tensor::normal({n, d}, 0, 1, testing::seed_for("z")).to_vector<float>();
  std::vector<float> x(static_cast<size_t>(n * d), 0.0f);
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < d; ++i)
      for (int64_t k = 0; k < d; ++k) x[s * d + k] += static_cast<float>(stds[i] * z[s * d + i] * basis[i * d + k]);
  const viz::Pca p = viz::pca(Tensor::from_vector(x, {n, d}), 2);
  EXPECT_NEAR(p.variances[0], 25.0, 25.0 * 0.08);
  EXPECT_NEAR(p.variances[1], 9.0, 9.0 * 0.08);
  EXPECT_NEAR(p.explained_ratio[0], 25.0 / (25 + 9 + 1 + 0.25), 0.03);
  const std::vector<float> c = p.components.to_vector<float>();
  for (int i = 0; i < 2; ++i) {
    double dot = 0;
    for (int64_t k = 0; k < d; ++k) dot += c[i * d + k] * basis[i * d + k];
    EXPECT_NEAR(std::abs(dot), 1.0, 0.01) << "component " << i;
  }
  EXPECT_EQ(p.projection.shape(), (Shape{n, 2}));
}

// Ten well-separated clusters in 20-D, each a 2-D Gaussian sheet in its own
// random plane (plus faint noise): neighbourhoods with a 2-D structure that
// a 2-D embedding can keep.
Tensor clusters(int64_t per, uint64_t seed, std::vector<int>& labels) {
  const int k = 10, d = 20;
  const std::vector<float> centres = testing::random_tensor({k, d}, seed, -20, 20).to_vector<float>();
  const std::vector<float> planes = testing::random_tensor({k, 2, d}, seed + 2, -1, 1).to_vector<float>();
  const std::vector<float> coords = Tensor::normal({k * per, 2}, 0, 1, seed + 1).to_vector<float>();
  const std::vector<float> noise = Tensor::normal({k * per, d}, 0, 0.01, seed + 3).to_vector<float>();
  std::vector<float> x;
  for (int c = 0; c < k; ++c)
    for (int64_t i = 0; i < per; ++i) {
      labels.push_back(c);
      for (int j = 0; j < d; ++j)
        x.push_back(centres[c * d + j] + coords[(c * per + i) * 2] * planes[(c * 2) * d + j] +
                    coords[(c * per + i) * 2 + 1] * planes[(c * 2 + 1) * d + j] + noise[(c * per + i) * d + j]);
    }
  return Tensor::from_vector(x, {k * per, d});
}

TEST(Tsne, AffinitiesHitThePerplexityAndAreSymmetric) {
  std::vector<int> labels;
  const Tensor x = clusters(20, testing::seed_for(), labels);
  const int64_t n = x.dim(0);
  Tensor d = Tensor::empty({n, n});
  kernels::pairwise_distances(x, x, kernels::Metric::L2, d);
  kernels::mul(d, d, d);
  Tensor p = Tensor::empty({n, n}), achieved = Tensor::empty({n});
  kernels::tsne_conditional_p(d, 15.0, true, p, achieved);
  for (float v : achieved.to_vector<float>()) EXPECT_NEAR(v, 15.0, 1e-3);
  kernels::tsne_symmetrize_dense(p);
  const std::vector<float> pv = p.to_vector<float>();
  double total = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      EXPECT_EQ(pv[i * n + j], pv[j * n + i]);
      total += pv[i * n + j];
    }
  EXPECT_NEAR(total, 1.0, 1e-5);
  EXPECT_THROW(kernels::tsne_conditional_p(d, 500.0, true, p, achieved), Error);
}

double neighbourhood_preservation(const Tensor& high, const Tensor& low, int k) {
  const int64_t n = high.dim(0);
  std::vector<int64_t> self(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) self[i] = i;
  const std::vector<int32_t> a = viz::nearest_neighbors(high, high, k, kernels::Metric::L2, self).indices.to_vector<int32_t>();
  const std::vector<int32_t> b = viz::nearest_neighbors(low, low, k, kernels::Metric::L2, self).indices.to_vector<int32_t>();
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int r = 0; r < k; ++r)
      kept += std::count(b.begin() + i * k, b.begin() + (i + 1) * k, a[i * k + r]);
  return static_cast<double>(kept) / static_cast<double>(n * k);
}

TEST(Tsne, SeparatesAGaussianMixtureAndIsDeterministic) {
  std::vector<int> labels;
  const Tensor x = clusters(30, testing::seed_for(), labels);
  viz::TsneOptions o;
  o.perplexity = 20;
  o.iterations = 500;
  const viz::TsneResult r = viz::tsne(x, o);
  EXPECT_EQ(r.method, "exact");
  EXPECT_EQ(r.embedding.shape(), (Shape{300, 2}));
  EXPECT_GE(neighbourhood_preservation(x, r.embedding, 10), 0.9);
  // Every point's nearest embedded neighbour is in its own cluster.
  const std::vector<int32_t> nn = viz::nearest_neighbors(r.embedding, r.embedding, 1, kernels::Metric::L2,
                                                          [] { std::vector<int64_t> s(300); for (int i = 0; i < 300; ++i) s[i] = i; return s; }())
                                      .indices.to_vector<int32_t>();
  int same = 0;
  for (int i = 0; i < 300; ++i) same += labels[nn[i]] == labels[i];
  EXPECT_EQ(same, 300);
  EXPECT_GT(r.kl_divergence, 0.0);
  EXPECT_LT(r.kl_divergence, r.kl_history.front().second) << "the KL divergence falls";
  const viz::TsneResult again = viz::tsne(x, o);
  EXPECT_BITWISE_EQ(again.embedding, r.embedding);
  // Barnes-Hut agrees on the picture: the same clusters.
  o.method = "barnes-hut";
  const viz::TsneResult bh = viz::tsne(x, o);
  EXPECT_EQ(bh.method, "barnes-hut");
  EXPECT_GE(neighbourhood_preservation(x, bh.embedding, 10), 0.9);
  EXPECT_NEAR(bh.kl_divergence, r.kl_divergence, 0.25 * r.kl_divergence);
  // So does the FFT-accelerated interpolation, and it is deterministic too.
  o.method = "fft";
  const viz::TsneResult fft = viz::tsne(x, o);
  EXPECT_EQ(fft.method, "fft");
  EXPECT_GE(neighbourhood_preservation(x, fft.embedding, 10), 0.9);
  EXPECT_NEAR(fft.kl_divergence, r.kl_divergence, 0.25 * r.kl_divergence);
  EXPECT_NEAR(fft.kl_divergence, bh.kl_divergence, 0.1 * bh.kl_divergence) << "same sparse P as Barnes-Hut";
  EXPECT_BITWISE_EQ(viz::tsne(x, o).embedding, fft.embedding);
  o.dims = 3;
  o.method = "exact";
  o.iterations = 300;
  EXPECT_EQ(viz::tsne(x, o).embedding.shape(), (Shape{300, 3}));
}

// With 3 * perplexity >= N - 1 every point is every point's neighbour, so
// the sparse P (built by merging rows with their transpose) is the dense P
// and both methods make the same embedding up to float rounding.
TEST(Tsne, SparseAffinitiesEqualTheDenseOnesWhenEveryPointIsANeighbour) {
  std::vector<int> labels;
  const Tensor x = clusters(6, testing::seed_for(), labels);  // 60 points
  viz::TsneOptions o;
  o.perplexity = 25;
  o.iterations = 200;
  o.method = "exact";
  const viz::TsneResult dense = viz::tsne(x, o);
  o.method = "sparse";
  const viz::TsneResult sparse = viz::tsne(x, o);
  EXPECT_NEAR(sparse.kl_divergence, dense.kl_divergence, 1e-3 * dense.kl_divergence);
  EXPECT_CLOSE(sparse.embedding, dense.embedding, 1e-2, 1e-2);
  o.method = "quadtree";
  EXPECT_THROW(viz::tsne(x, o), Error);
}

TEST(TsneCuda, SmallProblemsAgreeWithTheCpu) {
  CS_REQUIRE_CUDA();
  std::vector<int> labels;
  const Tensor x = clusters(15, testing::seed_for(), labels);
  viz::TsneOptions o;
  o.perplexity = 10;
  // The step N / EE / 4 (3.1), not the default rule's floor of 50: at N = 150
  // that floor makes the optimisation chaotic (a 1e-7 change of one input moves
  // the CPU's own KL from 0.66 to 0.43-0.78).
  o.learning_rate = 150 / o.early_exaggeration / 4;
  // Step for step, the devices agree to float rounding. Rounding differences
  // then grow about 2.5x per iteration (the CPU against itself with one input
  // changed by 1e-7 ends 2.7% apart in KL), so where the maps end is compared
  // by quality: KL within 5%, the same neighbourhoods.
  o.iterations = 10;
  EXPECT_CLOSE(viz::tsne(x.to(Device::cuda()), o).embedding.to(Device::cpu()), viz::tsne(x, o).embedding, 1e-7,
               1e-4);
  o.iterations = 300;
  const viz::TsneResult cpu = viz::tsne(x, o);
  const viz::TsneResult gpu = viz::tsne(x.to(Device::cuda()), o);
  EXPECT_NEAR(gpu.kl_divergence, cpu.kl_divergence, 0.05 * cpu.kl_divergence);
  EXPECT_GE(neighbourhood_preservation(cpu.embedding, gpu.embedding, 10), 0.9);
  EXPECT_GE(neighbourhood_preservation(x, gpu.embedding, 10), 0.9);
  const viz::TsneResult gpu_again = viz::tsne(x.to(Device::cuda()), o);
  EXPECT_BITWISE_EQ(gpu_again.embedding, gpu.embedding);
  o.method = "sparse";
  const viz::TsneResult sparse = viz::tsne(x.to(Device::cuda()), o);
  EXPECT_GE(neighbourhood_preservation(x, sparse.embedding, 10), 0.85);
  // The FFT-accelerated method: the GPU against the CPU reference.
  o.method = "fft";
  o.iterations = 10;
  EXPECT_CLOSE(viz::tsne(x.to(Device::cuda()), o).embedding.to(Device::cpu()), viz::tsne(x, o).embedding, 1e-6,
               1e-3);
  o.iterations = 300;
  const viz::TsneResult fft_cpu = viz::tsne(x, o);
  const viz::TsneResult fft_gpu = viz::tsne(x.to(Device::cuda()), o);
  EXPECT_EQ(fft_gpu.method, "fft");
  EXPECT_NEAR(fft_gpu.kl_divergence, fft_cpu.kl_divergence, 0.05 * fft_cpu.kl_divergence);
  EXPECT_GE(neighbourhood_preservation(fft_cpu.embedding, fft_gpu.embedding, 10), 0.9);
  EXPECT_BITWISE_EQ(viz::tsne(x.to(Device::cuda()), o).embedding, fft_gpu.embedding);
  // 3-D (a 3-D grid of up to 256^3 per charge: too slow for the CPU suite).
  o.dims = 3;
  if (testing::full_gpu_shapes()) {
    const viz::TsneResult fft3 = viz::tsne(x.to(Device::cuda()), o);
    EXPECT_EQ(fft3.embedding.shape(), (Shape{150, 3}));
    EXPECT_GE(neighbourhood_preservation(x, fft3.embedding, 10), 0.85);
  } else {
    // The simulator takes ~0.6 s per 3-D iteration on the smallest grid
    // (128^3) and ~8 s on the 256^3 one a converged map spans, and the map
    // needs ~300 iterations to keep the input's neighbourhoods: here 5
    // iterations, the simulated device's 3-D embedding against the CPU's.
    o.iterations = 5;
    const viz::TsneResult fft3_cpu = viz::tsne(x, o);
    const viz::TsneResult fft3 = viz::tsne(x.to(Device::cuda()), o);
    EXPECT_EQ(fft3.embedding.shape(), (Shape{150, 3}));
    EXPECT_EQ(fft3.method, "fft");
    EXPECT_NEAR(fft3.kl_divergence, fft3_cpu.kl_divergence, 0.02 * fft3_cpu.kl_divergence);
    EXPECT_GE(neighbourhood_preservation(fft3_cpu.embedding, fft3.embedding, 10), 0.9);
  }
}

TEST(NeighborsCuda, MatchTheCpu) {
  CS_REQUIRE_CUDA();
  const Tensor queries = testing::random_tensor({129, 33}, testing::seed_for("q"));
  const Tensor points = testing::random_tensor({1000, 33}, testing::seed_for("p"));
  for (kernels::Metric m : {kernels::Metric::L2, kernels::Metric::L1, kernels::Metric::Cosine}) {
    Tensor cpu = Tensor::empty({129, 1000}), gpu = Tensor::empty({129, 1000}, Device::cuda());
    kernels::pairwise_distances(queries, points, m, cpu);
    kernels::pairwise_distances(queries.to(Device::cuda()), points.to(Device::cuda()), m, gpu);
    EXPECT_CLOSE(gpu, cpu, 2e-4, 1e-4);
  }
}

}  // namespace
}  // namespace cs
