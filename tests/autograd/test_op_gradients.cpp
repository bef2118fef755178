// Every differentiable op on the tape against central differences in double,
// with respect to all of its differentiable inputs.
#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using ag::Variable;

Variable leaf(const Tensor& t, const char* name) { return Variable(t, true, name); }

void expect_gradcheck(const std::function<Variable()>& f, const std::vector<Variable>& wrt,
                      double rtol = 1e-5) {
  ag::GradcheckOptions options;
  options.rtol = rtol;
  options.atol = 1e-7;
  const ag::GradcheckResult r = ag::gradcheck(f, wrt, options);
  EXPECT_TRUE(r.ok) << r.failures << " of " << r.checked << " wrong:\n" << r.report;
}

TEST(OpGradients, Conv2dWithStridePaddingDilationGroups) {
  Variable x = leaf(testing::random_tensor({2, 4, 7, 6}, testing::seed_for("x"), -1, 1, Device::cpu(), DType::F64), "x");
  Variable w = leaf(testing::random_tensor({6, 2, 3, 3}, testing::seed_for("w"), -1, 1, Device::cpu(), DType::F64), "w");
  Variable b = leaf(testing::random_tensor({6}, testing::seed_for("b"), -1, 1, Device::cpu(), DType::F64), "b");
  kernels::Conv2dArgs args;
  args.stride_h = 2;
  args.pad_h = args.pad_w = 1;
  args.dilation_w = 2;
  args.groups = 2;
  expect_gradcheck([&] { return ag::conv2d(x, w, b, args); }, {x, w, b});
}

TEST(OpGradients, Linear) {
  Variable x = leaf(testing::random_tensor({3, 5}, testing::seed_for("x"), -1, 1, Device::cpu(), DType::F64), "x");
  Variable w = leaf(testing::random_tensor({4, 5}, testing::seed_for("w"), -1, 1, Device::cpu(), DType::F64), "w");
  Variable b = leaf(testing::random_tensor({4}, testing::seed_for("b"), -1, 1, Device::cpu(), DType::F64), "b");
  expect_gradcheck([&] { return ag::linear(x, w, b); }, {x, w, b});
}

TEST(OpGradients, ActivationsAwayFromTheKink) {
  Variable x = leaf(testing::away_from_zero({3, 7}, testing::seed_for("x")), "x");
  expect_gradcheck([&] { return ag::relu(x); }, {x});
  expect_gradcheck([&] { return ag::leaky_relu(x, 0.1); }, {x});
}

// The mask depends only on (seed, element), so the op is linear in x for a
// fixed seed and central differences see the same mask as the backward pass.
TEST(OpGradients, DropoutWithItsMask) {
  Variable x = leaf(testing::random_tensor({3, 4, 5, 2}, testing::seed_for("x"), -1, 1, Device::cpu(), DType::F64), "x");
  const uint64_t seed = testing::seed_for("mask");
  expect_gradcheck([&] { return ag::dropout(x, 0.4, seed, true); }, {x});
  expect_gradcheck([&] { return ag::dropout(x, 0.4, seed, false); }, {x});
  // The mask drops some elements and keeps the rest scaled by 1/(1-p).
  ag::NoGradGuard no_grad;
  const std::vector<double> in = x.value().to_double_vector();
  const std::vector<double> out = ag::dropout(x, 0.4, seed, true).value().to_double_vector();
  int dropped = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (out[i] == 0.0) ++dropped;
    else EXPECT_NEAR(out[i], in[i] / 0.6, 1e-7 * std::abs(in[i]));  // scale 1/(1-p) is a float
  }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, static_cast<int>(in.size()));
}

TEST(OpGradients, PoolingAndResize) {
  Variable x = leaf(testing::distinct_values({2, 3, 7, 8}, testing::seed_for("x")), "x");
  kernels::Pool2dArgs overlapping{3, 3, 2, 2, 1, 1, false, true};
  expect_gradcheck([&] { return ag::max_pool2d(x, overlapping); }, {x});
  expect_gradcheck([&] { return ag::avg_pool2d(x, overlapping); }, {x});
  expect_gradcheck([&] { return ag::adaptive_avg_pool2d(x, 3, 5); }, {x});
  expect_gradcheck([&] { return ag::resize_bilinear(x, 11, 5); }, {x});
}

TEST(OpGradients, BatchNormTrainAndEvalAndLrn) {
  Variable x = leaf(testing::random_tensor({4, 3, 3, 2}, testing::seed_for("x"), -1, 1, Device::cpu(), DType::F64), "x");
  Variable g = leaf(testing::random_tensor({3}, testing::seed_for("g"), 0.5, 1.5, Device::cpu(), DType::F64), "gamma");
  Variable b = leaf(testing::random_tensor({3}, testing::seed_for("b"), -1, 1, Device::cpu(), DType::F64), "beta");
  Tensor rm = Tensor::zeros({3}, Device::cpu(), DType::F64), rv = Tensor::full({3}, 1.0, Device::cpu(), DType::F64);
  expect_gradcheck([&] { return ag::batch_norm(x, g, b, rm, rv, true, 0.1, 1e-5); }, {x, g, b}, 1e-4);
  Tensor rm2 = Tensor::full({3}, 0.2, Device::cpu(), DType::F64), rv2 = Tensor::full({3}, 0.7, Device::cpu(), DType::F64);
  expect_gradcheck([&] { return ag::batch_norm(x, g, b, rm2, rv2, false, 0.1, 1e-5); }, {x, g, b});
  Variable flat = leaf(testing::random_tensor({5, 4}, testing::seed_for("flat"), -1, 1, Device::cpu(), DType::F64), "flat");
  Variable g4 = leaf(Tensor::full({4}, 1.0, Device::cpu(), DType::F64), "g4");
  Variable b4 = leaf(Tensor::zeros({4}, Device::cpu(), DType::F64), "b4");
  Tensor rm4 = Tensor::zeros({4}, Device::cpu(), DType::F64), rv4 = Tensor::full({4}, 1.0, Device::cpu(), DType::F64);
  expect_gradcheck([&] { return ag::batch_norm(flat, g4, b4, rm4, rv4, true, 0.1, 1e-5); }, {flat, g4, b4}, 1e-4);
  kernels::LrnArgs lrn{3, 0.5, 0.75, 2.0};
  expect_gradcheck([&] { return ag::lrn(x, lrn); }, {x});
}

TEST(OpGradients, LossesAndProbabilities) {
  Variable logits = leaf(testing::random_tensor({4, 5}, testing::seed_for("l"), -2, 2, Device::cpu(), DType::F64), "logits");
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 4, 2, 2}, {4});
  expect_gradcheck([&] { return ag::cross_entropy(logits, labels); }, {logits});
  expect_gradcheck([&] { return ag::cross_entropy(logits, labels, 0.1); }, {logits});
  expect_gradcheck([&] { return ag::softmax(logits); }, {logits});
  expect_gradcheck([&] { return ag::log_softmax(logits); }, {logits});
}

TEST(OpGradients, ArithmeticGramAndReductions) {
  Variable a = leaf(testing::random_tensor({2, 3, 4, 5}, testing::seed_for("a"), -1, 1, Device::cpu(), DType::F64), "a");
  Variable b = leaf(testing::random_tensor({2, 3, 4, 5}, testing::seed_for("b"), -1, 1, Device::cpu(), DType::F64), "b");
  expect_gradcheck([&] { return ag::sub(ag::mul(a, b), ag::scale(b, 0.5)); }, {a, b});
  expect_gradcheck([&] { return ag::gram(a); }, {a});
  expect_gradcheck([&] { return ag::sum_squares(a); }, {a});
  expect_gradcheck([&] { return ag::mean(ag::flatten(a)); }, {a});
  expect_gradcheck([&] { return ag::sum(ag::reshape(a, {6, 20})); }, {a});
}

}  // namespace
}  // namespace cs
