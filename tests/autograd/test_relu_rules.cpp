// The three ReLU backward rules through a real two-ReLU network, against an
// expectation computed by hand-written loops. Signs and rectification are
// where popular tools have had bugs, so every rule must differ here.
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
