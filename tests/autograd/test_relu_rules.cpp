// The three ReLU backward rules through a real two-ReLU network, against an
// expectation computed by hand-written loops. Signs and rectification are
// where popular tools have had bugs, so every rule must differ here.
#include <algorithm>
#include <map>

#include "autograd/ops.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using ag::ReluRule;
using ag::Variable;
using Matrix = std::vector<std::vector<double>>;

std::vector<double> matvec(const Matrix& w, const std::vector<double>& x) {  // w x
  std::vector<double> y(w.size(), 0.0);
  for (size_t i = 0; i < w.size(); ++i)
    for (size_t j = 0; j < x.size(); ++j) y[i] += w[i][j] * x[j];
  return y;
}

std::vector<double> matvec_t(const Matrix& w, const std::vector<double>& g) {  // w^T g
  std::vector<double> y(w[0].size(), 0.0);
  for (size_t i = 0; i < w.size(); ++i)
    for (size_t j = 0; j < y.size(); ++j) y[j] += w[i][j] * g[i];
  return y;
}

std::vector<double> relu_back(const std::vector<double>& pre, const std::vector<double>& g,
                              ReluRule rule) {
  std::vector<double> out(g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    switch (rule) {
      case ReluRule::Standard: out[i] = pre[i] > 0 ? g[i] : 0.0; break;
      case ReluRule::Guided: out[i] = pre[i] > 0 && g[i] > 0 ? g[i] : 0.0; break;
      case ReluRule::Deconvnet: out[i] = g[i] > 0 ? g[i] : 0.0; break;
    }
  }
  return out;
}

Tensor matrix_tensor(const Matrix& m) {
  std::vector<double> flat;
  for (const auto& row : m) flat.insert(flat.end(), row.begin(), row.end());
  return Tensor::from_vector(flat, {static_cast<int64_t>(m.size()), static_cast<int64_t>(m[0].size())});
}

TEST(ReluRules, ThroughATwoReluNetworkMatchHandComputation) {
  const std::vector<double> x = {0.5, -1.0, 2.0, 1.5};
  const Matrix w1 = {{1.0, 0.5, -0.5, 0.2}, {-1.0, 1.0, 0.5, -0.3}, {0.3, -0.2, 1.0, -1.0},
                     {0.7, 0.4, -0.6, 0.5}, {-0.4, -0.9, 0.2, 0.8}};
  const Matrix w2 = {{1.0, -1.0, 0.5, 0.25, -0.75}, {-0.5, 1.5, -1.0, 0.5, 1.0},
                     {0.3, 0.3, 0.9, -1.2, 0.4}};
  const Matrix w3 = {{1.0, -2.0, 0.5}, {-1.0, 1.0, 1.0}};
  const std::vector<double> seed = {1.0, -1.0};

  // Forward by hand: pre-activations of both ReLUs.
  const std::vector<double> h1 = matvec(w1, x);
  std::vector<double> r1(h1.size());
  for (size_t i = 0; i < h1.size(); ++i) r1[i] = std::max(h1[i], 0.0);
  const std::vector<double> h2 = matvec(w2, r1);

  std::map<ReluRule, std::vector<double>> expected;
  for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet}) {
    const std::vector<double> g_r2 = matvec_t(w3, seed);
    const std::vector<double> g_h2 = relu_back(h2, g_r2, rule);
    const std::vector<double> g_r1 = matvec_t(w2, g_h2);
    const std::vector<double> g_h1 = relu_back(h1, g_r1, rule);
    expected[rule] = matvec_t(w1, g_h1);
  }
  // The example must separate the rules, or the test would prove nothing.
  ASSERT_NE(expected[ReluRule::Standard], expected[ReluRule::Guided]);
  ASSERT_NE(expected[ReluRule::Standard], expected[ReluRule::Deconvnet]);
  ASSERT_NE(expected[ReluRule::Guided], expected[ReluRule::Deconvnet]);

  for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet}) {
    SCOPED_TRACE(kernels::relu_rule_name(rule));
    Variable input(Tensor::from_vector(x, {1, 4}), true, "x");
    Variable v1(matrix_tensor(w1), false), v2(matrix_tensor(w2), false), v3(matrix_tensor(w3), false);
    Variable y = ag::linear(ag::relu(ag::linear(ag::relu(ag::linear(input, v1, Variable())), v2,
                                                Variable())),
                            v3, Variable());
    {
      ag::ReluRuleGuard guard(rule);
      ag::backward(y, Tensor::from_vector(seed, {1, 2}));
    }
    const std::vector<double> got = input.grad().to_vector<double>();
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[rule][i], 1e-12) << i;
  }
}

// The same three rules through conv -> ReLU -> 2x2 max pool -> linear -> ReLU ->
// linear, the shape of a real CNN: the backward routes through the pool's
// switches and the transposed filters, all written out as loops here.
TEST(ReluRules, ThroughAConvPoolNetworkMatchHandComputation) {
  constexpr int H = 6, W = 6, F = 2, K = 3, O = 4;  // 1x6x6 image, 2 filters 3x3 (padding 0) -> 2x4x4 -> pool -> 2x2x2
  const Tensor image = testing::random_tensor({1, 1, H, W}, testing::seed_for("x"), -1, 1, Device::cpu(), DType::F64);
  const Tensor filters = testing::random_tensor({F, 1, K, K}, testing::seed_for("w"), -1, 1, Device::cpu(), DType::F64);
  const Tensor fc1 = testing::random_tensor({5, F * 2 * 2}, testing::seed_for("fc1"), -1, 1, Device::cpu(), DType::F64);
  const Tensor fc2 = testing::random_tensor({3, 5}, testing::seed_for("fc2"), -1, 1, Device::cpu(), DType::F64);
  const std::vector<double> x = image.to_double_vector(), w = filters.to_double_vector();
  const std::vector<double> seed = {1.0, -2.0, 0.5};
  auto rows = [](const Tensor& t) {
    const std::vector<double> flat = t.to_double_vector();
    Matrix m(static_cast<size_t>(t.dim(0)), std::vector<double>(static_cast<size_t>(t.dim(1))));
    for (size_t i = 0; i < m.size(); ++i)
      for (size_t j = 0; j < m[i].size(); ++j) m[i][j] = flat[i * m[i].size() + j];
    return m;
  };
  const Matrix m1 = rows(fc1), m2 = rows(fc2);

  // Forward by hand. conv[f][i][j] = sum_{a,b} w[f][a][b] x[i+a][j+b]
  std::vector<double> conv(F * O * O, 0.0);
  for (int f = 0; f < F; ++f)
    for (int i = 0; i < O; ++i)
      for (int j = 0; j < O; ++j)
        for (int a = 0; a < K; ++a)
          for (int b = 0; b < K; ++b) conv[(f * O + i) * O + j] += w[(f * K + a) * K + b] * x[(i + a) * W + j + b];
  std::vector<double> pooled(F * 4);
  std::vector<int> argmax(F * 4);  // index into conv of each window's first maximum
  for (int f = 0; f < F; ++f)
    for (int pi = 0; pi < 2; ++pi)
      for (int pj = 0; pj < 2; ++pj) {
        int best = -1;
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) {
            const int idx = (f * O + 2 * pi + a) * O + 2 * pj + b;
            if (best < 0 || std::max(conv[idx], 0.0) > std::max(conv[best], 0.0)) best = idx;
          }
        pooled[(f * 2 + pi) * 2 + pj] = std::max(conv[best], 0.0);
        argmax[(f * 2 + pi) * 2 + pj] = best;
      }
  const std::vector<double> h1 = matvec(m1, pooled);
  std::vector<double> r1(h1.size());
  for (size_t i = 0; i < h1.size(); ++i) r1[i] = std::max(h1[i], 0.0);

  std::map<ReluRule, std::vector<double>> expected;
  for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet}) {
    const std::vector<double> g_h1 = relu_back(h1, matvec_t(m2, seed), rule);
    const std::vector<double> g_pooled = matvec_t(m1, g_h1);
    std::vector<double> g_relu(F * O * O, 0.0);  // unpooling through the switches
    for (size_t p = 0; p < g_pooled.size(); ++p) g_relu[static_cast<size_t>(argmax[p])] += g_pooled[p];
    const std::vector<double> g_conv = relu_back(conv, g_relu, rule);
    std::vector<double> g_x(H * W, 0.0);  // transposed filters
    for (int f = 0; f < F; ++f)
      for (int i = 0; i < O; ++i)
        for (int j = 0; j < O; ++j)
          for (int a = 0; a < K; ++a)
            for (int b = 0; b < K; ++b)
              g_x[(i + a) * W + j + b] += w[(f * K + a) * K + b] * g_conv[(f * O + i) * O + j];
    expected[rule] = g_x;
  }
  ASSERT_NE(expected[ReluRule::Standard], expected[ReluRule::Guided]);
  ASSERT_NE(expected[ReluRule::Standard], expected[ReluRule::Deconvnet]);
  ASSERT_NE(expected[ReluRule::Guided], expected[ReluRule::Deconvnet]);

  for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet}) {
    SCOPED_TRACE(kernels::relu_rule_name(rule));
    Variable input(image, true, "x");
    Variable vw(filters, false), v1(fc1, false), v2(fc2, false);
    kernels::Pool2dArgs pool{2, 2, 2, 2, 0, 0, false, true};
    Variable features = ag::max_pool2d(ag::relu(ag::conv2d(input, vw, Variable(), kernels::Conv2dArgs{})), pool);
    Variable y = ag::linear(ag::relu(ag::linear(ag::reshape(features, {1, F * 4}), v1, Variable())), v2, Variable());
    {
      ag::ReluRuleGuard guard(rule);
      ag::backward(y, Tensor::from_vector(seed, {1, 3}));
    }
    const std::vector<double> got = input.grad().to_double_vector();
    ASSERT_EQ(got.size(), expected[rule].size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[rule][i], 1e-12) << i;
  }
}

TEST(ReluRules, TheRuleIsReadWhenBackwardRuns) {
  // Recorded under Standard, differentiated under Guided: guided wins.
  Variable x(Tensor::from_vector(std::vector<double>{-1.0, 2.0, 3.0}, {3}), true);
  Variable y = ag::relu(x);
  {
    ag::ReluRuleGuard guard(ReluRule::Guided);
    ag::backward(y, Tensor::from_vector(std::vector<double>{5.0, -4.0, 1.0}, {3}));
  }
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0, 1.0}));
  EXPECT_EQ(ag::current_relu_rule(), ReluRule::Standard) << "the guard restores the rule";
}

}  // namespace
}  // namespace cs
