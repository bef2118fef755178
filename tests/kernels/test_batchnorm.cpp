// Batch normalization: PyTorch's formulas worked by hand on tiny inputs,
// stability with a large mean, gradchecks of both backwards, argument
// checks, the host/device statistics helpers, and the GPU against the CPU.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/batchnorm.h"
#include "kernels/cuda/channel_stats.h"
#include "runtime/philox.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using testing::random_tensor;
using testing::seed_for;

struct TrainResult {
  Tensor y, save_mean, save_invstd, running_mean, running_var;
};

// Runs the training forward; outputs start as a sentinel (99) so a missed
// write shows, the running statistics start as copies of rm0 and rv0.
TrainResult forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                          const Tensor& rm0, const Tensor& rv0, double momentum, double eps) {
  const int64_t c = x.dim(1);
  TrainResult r{Tensor::full(x.shape(), 99.0, x.device(), x.dtype()),
                Tensor::full({c}, 99.0, x.device(), x.dtype()),
                Tensor::full({c}, 99.0, x.device(), x.dtype()), rm0.clone(), rv0.clone()};
  kernels::batch_norm_forward_train(x, gamma, beta, r.running_mean, r.running_var, momentum, eps,
                                    r.y, r.save_mean, r.save_invstd);
  return r;
}

struct Grads {
  Tensor gx, ggamma, gbeta;
};

Grads sentinel_grads(const Tensor& x) {
  const int64_t c = x.dim(1);
  return Grads{Tensor::full(x.shape(), 99.0, x.device(), x.dtype()),
               Tensor::full({c}, 99.0, x.device(), x.dtype()),
               Tensor::full({c}, 99.0, x.device(), x.dtype())};
}

Grads backward_train(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                     const Tensor& invstd) {
  Grads g = sentinel_grads(x);
  kernels::batch_norm_backward_train(gy, x, gamma, mean, invstd, g.gx, g.ggamma, g.gbeta);
  return g;
}

Grads backward_eval(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& rm,
                    const Tensor& rv, double eps) {
  Grads g = sentinel_grads(x);
  kernels::batch_norm_backward_eval(gy, x, gamma, rm, rv, eps, g.gx, g.ggamma, g.gbeta);
  return g;
}

void expect_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
  const std::vector<double> got = t.to_double_vector();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

Tensor vec(const std::vector<float>& v) {
  return Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
}

// ---- by hand ------------------------------------------------------------------------------
//
// Two channels of four values each, eps = 0.5 (so that var + eps is a square):
//   channel 0: 1, 2, 3, 6    mean 3,  deviations -2 -1 0 3, sum of squares 14,
//              biased var 14/4 = 3.5 -> invstd = 1/sqrt(3.5 + 0.5) = 0.5,
//              unbiased var 14/3.
//   channel 1: 9, 10, 10, 11 mean 10, deviations -1 0 0 1, sum of squares 2,
//              biased var 0.5 -> invstd = 1/sqrt(0.5 + 0.5) = 1, unbiased 2/3.
// gamma = (2, -1), beta = (0.5, 3):
//   y0 = (x - 3) * 0.5 * 2 + 0.5   = -1.5, -0.5, 0.5, 3.5
//   y1 = (x - 10) * 1 * -1 + 3     =  4,    3,   3,   2
// Running statistics from rm = (0, 1), rv = (1, 2), momentum 0.1:
//   rm = 0.9 * (0, 1) + 0.1 * (3, 10)         = (0.3, 1.9)
//   rv = 0.9 * (1, 2) + 0.1 * (14/3, 2/3)     = (1.3666667, 1.8666667)
const double kHandEps = 0.5, kHandMomentum = 0.1;
const std::vector<double> kHandY0{-1.5, -0.5, 0.5, 3.5}, kHandY1{4, 3, 3, 2};

void expect_hand_statistics(const TrainResult& r) {
  expect_values(r.save_mean, {3, 10});
  expect_values(r.save_invstd, {0.5, 1});
  expect_values(r.running_mean, {0.3, 1.9});
  expect_values(r.running_var, {0.9 + 0.1 * 14.0 / 3.0, 1.8 + 0.1 * 2.0 / 3.0});
}

TEST(BatchNorm, TrainingForward1dByHand) {
  // x: (N = 4, C = 2), rows are samples.
  Tensor x = Tensor::from_vector(std::vector<float>{1, 9, 2, 10, 3, 10, 6, 11}, {4, 2});
  TrainResult r = forward_train(x, vec({2, -1}), vec({0.5f, 3}), vec({0, 1}), vec({1, 2}),
                                kHandMomentum, kHandEps);
  expect_values(r.y, {kHandY0[0], kHandY1[0], kHandY0[1], kHandY1[1], kHandY0[2], kHandY1[2],
                      kHandY0[3], kHandY1[3]});
  expect_hand_statistics(r);
}

TEST(BatchNorm, TrainingForward2dByHand) {
  // x: (N = 2, C = 2, H = 1, W = 2): the same values per channel, spread over
  // two samples and two pixels each.
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 9, 10, 3, 6, 10, 11}, {2, 2, 1, 2});
  TrainResult r = forward_train(x, vec({2, -1}), vec({0.5f, 3}), vec({0, 1}), vec({1, 2}),
                                kHandMomentum, kHandEps);
  expect_values(r.y, {kHandY0[0], kHandY0[1], kHandY1[0], kHandY1[1], kHandY0[2], kHandY0[3],
                      kHandY1[2], kHandY1[3]});
  expect_hand_statistics(r);
}

// Backward on the same input, m = 4 values per channel:
//   gx = gamma * invstd * (gy - sum(gy)/m - xhat * sum(gy * xhat)/m)
// channel 0: xhat = (x - 3) * 0.5 = -1, -0.5, 0, 1.5; gy = 1, 0, 0, 0
//   gbeta = 1, ggamma = sum(gy * xhat) = -1, gamma * invstd = 1
//   gx = gy - 0.25 + 0.25 * xhat = 0.5, -0.375, -0.25, 0.125
// channel 1: xhat = x - 10 = -1, 0, 0, 1; gy = 0, 0, 1, 2
//   gbeta = 3, ggamma = 2, gamma * invstd = -1
//   gx = -(gy - 0.75 - 0.5 * xhat) = 0.25, 0.75, -0.25, -0.75
TEST(BatchNorm, TrainingBackwardByHand) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 9, 2, 10, 3, 10, 6, 11}, {4, 2});
  Tensor gamma = vec({2, -1});
  TrainResult r = forward_train(x, gamma, vec({0.5f, 3}), vec({0, 1}), vec({1, 2}),
                                kHandMomentum, kHandEps);
  Tensor gy = Tensor::from_vector(std::vector<float>{1, 0, 0, 0, 0, 1, 0, 2}, {4, 2});
  Grads g = backward_train(gy, x, gamma, r.save_mean, r.save_invstd);
  expect_values(g.gx, {0.5, 0.25, -0.375, 0.75, -0.25, -0.25, 0.125, -0.75});
  expect_values(g.ggamma, {-1, 2});
  expect_values(g.gbeta, {1, 3});
}

// Eval with rm = (2, 10), rv = (3.5, 0.5), eps = 0.5: invstd = (0.5, 1).
//   y0 = (x - 2) * 0.5 * 2 + 0.5 = -0.5, 0.5, 1.5, 4.5;  y1 = (x - 10) * -1 + 3 = 4, 3, 3, 2
//   gx = gy * gamma * invstd: channel 0 gy = 1, 0, 0, 0 -> 1, 0, 0, 0;
//                             channel 1 gy = 0, 0, 1, 2 -> 0, 0, -1, -2
//   ggamma = sum(gy * (x - rm) * invstd) = (1 * -1 * 0.5, 1 * 0 + 2 * 1) = (-0.5, 2)
//   gbeta = sum(gy) = (1, 3)
TEST(BatchNorm, EvalForwardAndBackwardByHand) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 9, 2, 10, 3, 10, 6, 11}, {4, 2});
  Tensor gamma = vec({2, -1}), beta = vec({0.5f, 3}), rm = vec({2, 10}), rv = vec({3.5f, 0.5f});
  Tensor y = Tensor::full({4, 2}, 99.0);
  kernels::batch_norm_forward_eval(x, gamma, beta, rm, rv, kHandEps, y);
  expect_values(y, {-0.5, 4, 0.5, 3, 1.5, 3, 4.5, 2});
  Tensor gy = Tensor::from_vector(std::vector<float>{1, 0, 0, 0, 0, 1, 0, 2}, {4, 2});
  Grads g = backward_eval(gy, x, gamma, rm, rv, kHandEps);
  expect_values(g.gx, {1, 0, 0, 0, 0, -1, 0, -2});
  expect_values(g.ggamma, {-0.5, 2});
  expect_values(g.gbeta, {1, 3});
  // The running statistics are inputs here: unchanged.
  expect_values(rm, {2, 10});
  expect_values(rv, {3.5, 0.5});
}

TEST(BatchNorm, MomentumZeroKeepsAndOneReplacesTheRunningStatistics) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 9, 2, 10, 3, 10, 6, 11}, {4, 2});
  Tensor gamma = vec({1, 1}), beta = vec({0, 0});
  TrainResult keep = forward_train(x, gamma, beta, vec({5, 6}), vec({7, 8}), 0.0, 1e-5);
  expect_values(keep.running_mean, {5, 6});
  expect_values(keep.running_var, {7, 8});
  TrainResult take = forward_train(x, gamma, beta, vec({5, 6}), vec({7, 8}), 1.0, 1e-5);
  expect_values(take.running_mean, {3, 10});
  expect_values(take.running_var, {14.0 / 3.0, 2.0 / 3.0});  // unbiased
}

// Per-channel mean and biased variance of y: (N, C, ...), in double.
void channel_moments(const Tensor& y, int64_t c, double& mean, double& var) {
  const std::vector<double> v = y.to_double_vector();
  const int64_t n = y.dim(0), channels = y.dim(1), inner = y.numel() / (n * channels);
  double sum = 0;
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < inner; ++i) sum += v[(s * channels + c) * inner + i];
  mean = sum / static_cast<double>(n * inner);
  double sq = 0;
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < inner; ++i) {
      const double d = v[(s * channels + c) * inner + i] - mean;
      sq += d * d;
    }
  var = sq / static_cast<double>(n * inner);
}

// Data = 1e4 + N(0, 0.1^2): a one-pass E[x^2] - E[x]^2 in float loses every
// digit (x^2 ~ 1e8, float spacing 8 there). The normalized output must still
// have mean 0 and variance 1 (eps = 1e-6 << var = 0.01).
TEST(BatchNorm, LargeMeanIsStableInFloat) {
  for (const Shape& shape : {Shape{16, 3, 8, 8}, Shape{2000, 3}}) {
    SCOPED_TRACE(shape_str(shape));
    Tensor x = Tensor::normal(shape, 1e4, 0.1, seed_for(shape_str(shape)));
    const int64_t c = shape[1];
    TrainResult r = forward_train(x, Tensor::full({c}, 1.0), Tensor::zeros({c}), Tensor::zeros({c}),
                                  Tensor::full({c}, 1.0), 0.1, 1e-6);
    for (int64_t k = 0; k < c; ++k) {
      double mean, var, xmean, xvar;
      channel_moments(r.y, k, mean, var);
      EXPECT_NEAR(mean, 0.0, 1e-3) << "channel " << k;
      EXPECT_NEAR(var, 1.0, 1e-3) << "channel " << k;
      channel_moments(x, k, xmean, xvar);
      EXPECT_NEAR(r.save_mean.to_double_vector()[k], xmean, 2e-3);  // float spacing at 1e4: 1e-3
      EXPECT_NEAR(xvar, 0.01, 2e-3);
      EXPECT_NEAR(r.save_invstd.to_double_vector()[k], 1 / std::sqrt(xvar + 1e-6), 1e-3);
    }
  }
}

// In double the same holds at 1e8, where a one-pass formula in double fails
// (x^2 ~ 1e16, double spacing 2 there, against a variance of 0.01).
TEST(BatchNorm, LargeMeanIsStableInDouble) {
  Tensor x = Tensor::normal({8, 2, 10, 10}, 1e8, 0.1, seed_for("x"), Device::cpu(), DType::F64);
  auto f64 = [](const Shape& s, double v) { return Tensor::full(s, v, Device::cpu(), DType::F64); };
  TrainResult r = forward_train(x, f64({2}, 1), f64({2}, 0), f64({2}, 0), f64({2}, 1), 0.1, 1e-12);
  for (int64_t k = 0; k < 2; ++k) {
    double mean, var;
    channel_moments(r.y, k, mean, var);
    EXPECT_NEAR(mean, 0.0, 1e-6);
    EXPECT_NEAR(var, 1.0, 1e-6);
  }
}

// ---- gradchecks (double) -----------------------------------------------------------------

Tensor f64_uniform(const Shape& shape, const std::string& tag, double lo, double hi) {
  return random_tensor(shape, seed_for(tag), lo, hi, Device::cpu(), DType::F64);
}

void gradcheck_train(const Shape& shape) {
  const int64_t c = shape[1];
  auto run_forward = [c](const std::vector<Tensor>& in) {
    Tensor rm = Tensor::zeros({c}, Device::cpu(), DType::F64);
    Tensor rv = Tensor::full({c}, 1.0, Device::cpu(), DType::F64);
    return forward_train(in[0], in[1], in[2], rm, rv, 0.1, 1e-5);
  };
  auto forward = [=](const std::vector<Tensor>& in) { return run_forward(in).y; };
  auto backward = [=](const std::vector<Tensor>& in, const Tensor& gy) {
    TrainResult r = run_forward(in);
    Grads g = backward_train(gy, in[0], in[1], r.save_mean, r.save_invstd);
    return std::vector<Tensor>{g.gx, g.ggamma, g.gbeta};
  };
  const std::string tag = shape_str(shape);
  EXPECT_TRUE(testing::gradcheck(forward, backward,
                                 {f64_uniform(shape, "x" + tag, -1, 1),
                                  f64_uniform({c}, "gamma" + tag, 0.5, 1.5),
                                  f64_uniform({c}, "beta" + tag, -1, 1)}));
}

TEST(BatchNorm, TrainingGradcheck2d) { gradcheck_train({3, 2, 2, 3}); }
TEST(BatchNorm, TrainingGradcheck1d) { gradcheck_train({5, 3}); }
TEST(BatchNorm, TrainingGradcheckTwoValuesPerChannel) { gradcheck_train({1, 2, 1, 2}); }

void gradcheck_eval(const Shape& shape) {
  const int64_t c = shape[1];
  const std::string tag = shape_str(shape);
  Tensor rm = f64_uniform({c}, "rm" + tag, -0.5, 0.5);
  Tensor rv = f64_uniform({c}, "rv" + tag, 0.5, 2.0);
  auto forward = [=](const std::vector<Tensor>& in) {
    Tensor y = Tensor::empty_like(in[0]);
    kernels::batch_norm_forward_eval(in[0], in[1], in[2], rm, rv, 1e-5, y);
    return y;
  };
  auto backward = [=](const std::vector<Tensor>& in, const Tensor& gy) {
    Grads g = backward_eval(gy, in[0], in[1], rm, rv, 1e-5);
    return std::vector<Tensor>{g.gx, g.ggamma, g.gbeta};
  };
  EXPECT_TRUE(testing::gradcheck(forward, backward,
                                 {f64_uniform(shape, "x" + tag, -1, 1),
                                  f64_uniform({c}, "gamma" + tag, 0.5, 1.5),
                                  f64_uniform({c}, "beta" + tag, -1, 1)}));
}

TEST(BatchNorm, EvalGradcheck2d) { gradcheck_eval({2, 3, 2, 2}); }
TEST(BatchNorm, EvalGradcheck1d) { gradcheck_eval({4, 3}); }
TEST(BatchNorm, EvalGradcheckBatchOne) { gradcheck_eval({1, 2, 1, 1}); }

// ---- arguments ----------------------------------------------------------------------------

TEST(BatchNorm, RejectsBadArguments) {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  Tensor y = Tensor::zeros({2, 3, 4, 4});
  Tensor c3 = Tensor::full({3}, 1.0), c4 = Tensor::full({4}, 1.0);
  Tensor m = Tensor::zeros({3}), v = Tensor::full({3}, 1.0), sm = Tensor::zeros({3}),
         si = Tensor::zeros({3});
  auto train = [&](const Tensor& xx, Tensor& yy, const Tensor& gamma, double momentum, double eps) {
    kernels::batch_norm_forward_train(xx, gamma, c3, m, v, momentum, eps, yy, sm, si);
  };
  EXPECT_NO_THROW(train(x, y, c3, 0.1, 1e-5));
  Tensor x3 = Tensor::zeros({2, 3, 4}), y3 = Tensor::zeros({2, 3, 4});
  EXPECT_THROW(train(x3, y3, c3, 0.1, 1e-5), Error);  // 3-D input
  EXPECT_THROW(train(x, y, c4, 0.1, 1e-5), Error);    // gamma not (C)
  Tensor y_wrong = Tensor::zeros({2, 3, 4, 5});
  EXPECT_THROW(train(x, y_wrong, c3, 0.1, 1e-5), Error);
  EXPECT_THROW(train(x, y, c3, 0.1, 0.0), Error);   // eps must be positive
  EXPECT_THROW(train(x, y, c3, 0.1, -1e-5), Error);
  EXPECT_THROW(train(x, y, c3, -0.1, 1e-5), Error);  // momentum outside [0, 1]
  EXPECT_THROW(train(x, y, c3, 1.5, 1e-5), Error);
  // One value per channel: PyTorch's "Expected more than 1 value per channel when training".
  Tensor x1 = Tensor::zeros({1, 3}), y1 = Tensor::zeros({1, 3});
  EXPECT_THROW(train(x1, y1, c3, 0.1, 1e-5), Error);
  Tensor x11 = Tensor::zeros({1, 3, 1, 1}), y11 = Tensor::zeros({1, 3, 1, 1});
  EXPECT_THROW(train(x11, y11, c3, 0.1, 1e-5), Error);
  Tensor x12 = Tensor::zeros({1, 3, 1, 2}), y12 = Tensor::zeros({1, 3, 1, 2});
  EXPECT_NO_THROW(train(x12, y12, c3, 0.1, 1e-5));  // two values: fine
  // Eval accepts batch 1 but checks its vectors and eps.
  EXPECT_NO_THROW(kernels::batch_norm_forward_eval(x1, c3, c3, m, v, 1e-5, y1));
  EXPECT_THROW(kernels::batch_norm_forward_eval(x1, c3, c3, c4, v, 1e-5, y1), Error);
  EXPECT_THROW(kernels::batch_norm_forward_eval(x1, c3, c3, m, v, 0.0, y1), Error);
  // Mixed dtypes.
  Tensor xd = Tensor::zeros({2, 3}, Device::cpu(), DType::F64), yd = Tensor::zeros({2, 3});
  EXPECT_THROW(kernels::batch_norm_forward_eval(xd, c3, c3, m, v, 1e-5, yd), Error);
  // Backward: shapes of gy, gx and the per-channel vectors.
  Tensor gx = Tensor::zeros({2, 3, 4, 4}), gg = Tensor::zeros({3}), gb = Tensor::zeros({3});
  EXPECT_THROW(kernels::batch_norm_backward_train(y_wrong, x, c3, sm, si, gx, gg, gb), Error);
  EXPECT_THROW(kernels::batch_norm_backward_train(y, x, c3, sm, si, y_wrong, gg, gb), Error);
  EXPECT_THROW(kernels::batch_norm_backward_train(y, x, c3, c4, si, gx, gg, gb), Error);
  EXPECT_THROW(kernels::batch_norm_backward_train(y, x, c3, sm, si, gx, c4, gb), Error);
  EXPECT_THROW(kernels::batch_norm_backward_eval(y, x, c3, m, v, 0.0, gx, gg, gb), Error);
  EXPECT_THROW(kernels::batch_norm_backward_eval(y, x, c3, m, c4, 1e-5, gx, gg, gb), Error);
}

TEST(BatchNorm, EmptyBatchBackwardGivesZeroParameterGradients) {
  Tensor x = Tensor::zeros({0, 3, 2, 2});
  Tensor c3 = Tensor::full({3}, 1.0);
  Grads g = backward_train(x, x, c3, Tensor::zeros({3}), c3);
  EXPECT_EQ(g.ggamma.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(g.gbeta.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  Grads e = backward_eval(x, x, c3, Tensor::zeros({3}), c3, 1e-5);
  EXPECT_EQ(e.ggamma.to_vector<float>(), (std::vector<float>{0, 0, 0}));
}

// ---- the GPU's statistics helpers, checked on the host ----------------------------------

TEST(BatchNormStatsMath, FastDivmodMatchesDivision) {
  const uint32_t kMax = 0x7fffffffu;  // dividends and divisors below 2^31
  const uint32_t divisors[] = {1,   2,    3,    4,    5,     7,      13,         31,        32,
                               33,  49,   129,  169,  729,   3025,   50176,      65535,     65537,
                               (1u << 20) + 1, 1u << 30, (1u << 30) + 3, kMax - 1, kMax};
  for (uint32_t d : divisors) {
    const kernels::FastDivmod f(d);
    auto check = [&](uint32_t n) {
      ASSERT_EQ(f.div(n), n / d) << n << " / " << d;
      ASSERT_EQ(f.mod(n), n % d) << n << " % " << d;
    };
    for (uint32_t n : {0u, 1u, d - 1, d, d + 1, 2 * d - 1 > kMax ? kMax : 2 * d - 1, kMax - 1, kMax})
      if (n <= kMax) check(n);
    for (uint32_t k = 0; k < 20000; ++k) {
      check(static_cast<uint32_t>(philox::word(d, 0, k)) & kMax);
      check(static_cast<uint32_t>(philox::word(d, 1, k)) % 100000u);
    }
  }
}

// The GPU scheme on the host: values shifted by the first one, Welford
// states over uneven chunks (groups of four plus single values), merged in
// order. Mean and variance agree with a double two-pass on 1e4 + noise.
TEST(BatchNormStatsMath, ShiftedWelfordMergesMatchTwoPass) {
  const int64_t n = 100003;
  Tensor x = Tensor::normal({n}, 1e4, 0.1, seed_for("x"));
  const std::vector<float> v = x.to_vector<float>();
  double mean = 0;
  for (float a : v) mean += a;
  mean /= n;
  double m2 = 0;
  for (float a : v) m2 += (a - mean) * (a - mean);
  const float shift = v[0];
  kernels::Welford total{};
  const int64_t chunks[] = {1, 2, 3, 4, 5, 4095, 4096, 33333};
  int64_t at = 0;
  for (int64_t k = 0; at < n; k = (k + 1) % 8) {
    const int64_t end = std::min(n, at + chunks[k]);
    kernels::Welford w{};
    for (; at + 4 <= end; at += 4)
      w.add4(v[at] - shift, v[at + 1] - shift, v[at + 2] - shift, v[at + 3] - shift);
    for (; at < end; ++at) w.add(v[at] - shift);
    total.merge(w);
  }
  EXPECT_EQ(total.n, static_cast<float>(n));
  // Far below the float spacing at 1e4 (1e-3): the shift keeps the mean's digits.
  EXPECT_NEAR(shift + static_cast<double>(total.mean), mean, 1e-6);
  EXPECT_NEAR(total.m2 / m2, 1.0, 2e-5);
  // Merging an empty state changes nothing; merging into one copies.
  kernels::Welford copy{};
  copy.merge(total);
  copy.merge(kernels::Welford{});
  EXPECT_EQ(copy.n, total.n);
  EXPECT_EQ(copy.mean, total.mean);
  EXPECT_EQ(copy.m2, total.m2);
}

// ---- GPU ----------------------------------------------------------------------------------

// A GPU copy of `t` starting `shift` elements into its allocation (shift 1:
// not 16-byte aligned, the scalar paths).
Tensor gpu_view(const Tensor& t, int64_t shift) {
  Tensor buffer = Tensor::zeros({t.numel() + shift}, Device::cuda(), t.dtype());
  Tensor view = buffer.narrow(shift, t.numel()).reshape(t.shape());
  view.copy_from(t);
  return view;
}

// 4-D shapes exercise the planar kernel (H*W >= 32) and the column kernel
// (H*W < 32); 2-D shapes are BatchNorm1d (always the column kernel).
std::vector<Shape> gpu_shapes() {
  return {
      {1, 3, 7, 7},     {2, 13, 13, 13}, {7, 1, 31, 33}, {1, 33, 1, 129}, {2, 3, 1, 1},
      {129, 7, 2, 2},   {3, 129, 5, 7},  {16, 3, 32, 32}, {5, 2, 129, 129}, {1, 1, 1, 1},
      {2, 1},           {7, 13},         {129, 33},      {1000, 3},       {4096, 7},
      {33, 129},        {1, 5},
  };
}

// The largest |gamma| * invstd: gradients and outputs scale with it.
double max_gain(const Tensor& gamma, const Tensor& invstd) {
  const auto g = gamma.to_double_vector(), s = invstd.to_double_vector();
  double m = 1;
  for (size_t i = 0; i < g.size(); ++i) m = std::max(m, std::abs(g[i]) * s[i]);
  return m;
}

void compare_training(const Shape& shape, int64_t shift, double mean_offset) {
  const std::string tag = shape_str(shape);
  SCOPED_TRACE(tag + ", shift " + std::to_string(shift) + ", mean " + std::to_string(mean_offset));
  const int64_t c = shape[1];
  const int64_t count = shape_numel(shape) / c;
  Tensor x = random_tensor(shape, seed_for("x" + tag), -1, 1);
  if (mean_offset != 0) {
    Tensor noise = Tensor::normal(shape, mean_offset, 0.1, seed_for("n" + tag));
    x = noise;
  }
  Tensor gamma = random_tensor({c}, seed_for("g" + tag), 0.5, 1.5);
  Tensor beta = random_tensor({c}, seed_for("b" + tag), -1, 1);
  Tensor rm = random_tensor({c}, seed_for("rm" + tag), -1, 1);
  Tensor rv = random_tensor({c}, seed_for("rv" + tag), 0.5, 2);
  Tensor gy = random_tensor(shape, seed_for("gy" + tag), -1, 1);
  const double momentum = 0.1, eps = 1e-5;

  TrainResult cpu = forward_train(x, gamma, beta, rm, rv, momentum, eps);
  Tensor gx_in = gpu_view(x, shift);
  Tensor ggamma = gamma.to(Device::cuda()), gbeta = beta.to(Device::cuda());
  TrainResult gpu{gpu_view(Tensor::full(shape, 99.0), shift), Tensor::full({c}, 99.0, Device::cuda()),
                  Tensor::full({c}, 99.0, Device::cuda()), rm.to(Device::cuda()),
                  rv.to(Device::cuda())};
  kernels::batch_norm_forward_train(gx_in, ggamma, gbeta, gpu.running_mean, gpu.running_var,
                                    momentum, eps, gpu.y, gpu.save_mean, gpu.save_invstd);
  const double gain = max_gain(gamma, cpu.save_invstd);
  const double mean_atol = 1e-6 + 1e-7 * std::abs(mean_offset);
  EXPECT_CLOSE(gpu.y, cpu.y, 1e-5 * gain, 1e-5);
  EXPECT_CLOSE(gpu.save_mean, cpu.save_mean, mean_atol, 1e-6);
  EXPECT_CLOSE(gpu.save_invstd, cpu.save_invstd, 0, 2e-5);
  EXPECT_CLOSE(gpu.running_mean, cpu.running_mean, mean_atol, 1e-6);
  EXPECT_CLOSE(gpu.running_var, cpu.running_var, 1e-6, 2e-5);

  // Backward from the CPU's saved statistics on both devices.
  Grads want = backward_train(gy, x, gamma, cpu.save_mean, cpu.save_invstd);
  Grads got{gpu_view(Tensor::full(shape, 99.0), shift), Tensor::full({c}, 99.0, Device::cuda()),
            Tensor::full({c}, 99.0, Device::cuda())};
  kernels::batch_norm_backward_train(gpu_view(gy, shift), gx_in, ggamma,
                                     cpu.save_mean.to(Device::cuda()),
                                     cpu.save_invstd.to(Device::cuda()), got.gx, got.ggamma,
                                     got.gbeta);
  const double sum_atol = 2e-6 * static_cast<double>(count);
  EXPECT_CLOSE(got.gx, want.gx, 1e-5 * gain, 1e-4);
  EXPECT_CLOSE(got.ggamma, want.ggamma, sum_atol * gain, 1e-5);
  EXPECT_CLOSE(got.gbeta, want.gbeta, sum_atol, 1e-5);
}

TEST(BatchNormCuda, TrainingMatchesCpuOverShapes) {
  CS_REQUIRE_CUDA();
  for (const Shape& shape : gpu_shapes()) {
    if (shape_numel(shape) / shape[1] < 2) continue;  // training needs two values per channel
    for (int64_t shift : {0, 1}) compare_training(shape, shift, 0.0);
  }
}

TEST(BatchNormCuda, LargeMeanMatchesCpuAndIsNormalized) {
  CS_REQUIRE_CUDA();
  for (const Shape& shape : {Shape{4, 3, 33, 31}, Shape{2000, 3}, Shape{64, 2, 3, 3}}) {
    compare_training(shape, 0, 1e4);
    const int64_t c = shape[1];
    Tensor x = Tensor::normal(shape, 1e4, 0.1, seed_for("large" + shape_str(shape)), Device::cuda());
    TrainResult r = forward_train(x, Tensor::full({c}, 1.0, Device::cuda()),
                                  Tensor::zeros({c}, Device::cuda()),
                                  Tensor::zeros({c}, Device::cuda()),
                                  Tensor::full({c}, 1.0, Device::cuda()), 0.1, 1e-6);
    for (int64_t k = 0; k < c; ++k) {
      double mean, var;
      channel_moments(r.y, k, mean, var);
      EXPECT_NEAR(mean, 0.0, 1e-3) << shape_str(shape) << " channel " << k;
      EXPECT_NEAR(var, 1.0, 1e-3) << shape_str(shape) << " channel " << k;
    }
  }
}

// Large per-channel counts (many blocks per channel) and many channels.
TEST(BatchNormCuda, LargeShapesMatchCpu) {
  CS_REQUIRE_CUDA();
  for (const Shape& shape : {Shape{32, 64, 55, 55}, Shape{256, 4096}, Shape{2, 2048, 7, 7}})
    compare_training(shape, 0, 0.0);
}

TEST(BatchNormCuda, EvalMatchesCpuOverShapes) {
  CS_REQUIRE_CUDA();
  for (const Shape& shape : gpu_shapes()) {
    for (int64_t shift : {0, 1}) {
      const std::string tag = shape_str(shape);
      SCOPED_TRACE(tag + ", shift " + std::to_string(shift));
      const int64_t c = shape[1];
      const int64_t count = shape_numel(shape) / c;
      Tensor x = random_tensor(shape, seed_for("x" + tag), -1, 1);
      Tensor gy = random_tensor(shape, seed_for("gy" + tag), -1, 1);
      Tensor gamma = random_tensor({c}, seed_for("g" + tag), 0.5, 1.5);
      Tensor beta = random_tensor({c}, seed_for("b" + tag), -1, 1);
      Tensor rm = random_tensor({c}, seed_for("rm" + tag), -0.5, 0.5);
      Tensor rv = random_tensor({c}, seed_for("rv" + tag), 0.5, 2);
      const double eps = 1e-5;
      auto cuda = [](const Tensor& t) { return t.to(Device::cuda()); };

      Tensor y = Tensor::empty(shape);
      kernels::batch_norm_forward_eval(x, gamma, beta, rm, rv, eps, y);
      Tensor gpu_y = gpu_view(Tensor::full(shape, 99.0), shift);
      kernels::batch_norm_forward_eval(gpu_view(x, shift), cuda(gamma), cuda(beta), cuda(rm),
                                       cuda(rv), eps, gpu_y);
      EXPECT_CLOSE(gpu_y, y, 1e-5, 1e-5);

      Grads want = backward_eval(gy, x, gamma, rm, rv, eps);
      Grads got{gpu_view(Tensor::full(shape, 99.0), shift), Tensor::full({c}, 99.0, Device::cuda()),
                Tensor::full({c}, 99.0, Device::cuda())};
      kernels::batch_norm_backward_eval(gpu_view(gy, shift), gpu_view(x, shift), cuda(gamma),
                                        cuda(rm), cuda(rv), eps, got.gx, got.ggamma, got.gbeta);
      EXPECT_CLOSE(got.gx, want.gx, 1e-6, 1e-5);
      EXPECT_CLOSE(got.ggamma, want.ggamma, 4e-6 * static_cast<double>(count), 1e-5);
      EXPECT_CLOSE(got.gbeta, want.gbeta, 2e-6 * static_cast<double>(count), 1e-5);
    }
  }
}

TEST(BatchNormCuda, IsDeterministic) {
  CS_REQUIRE_CUDA();
  for (const Shape& shape : {Shape{8, 64, 27, 27}, Shape{512, 100}, Shape{4, 16, 5, 5}}) {
    SCOPED_TRACE(shape_str(shape));
    const int64_t c = shape[1];
    Tensor x = random_tensor(shape, seed_for("x"), -1, 1, Device::cuda());
    Tensor gy = random_tensor(shape, seed_for("gy"), -1, 1, Device::cuda());
    Tensor gamma = random_tensor({c}, seed_for("g"), 0.5, 1.5, Device::cuda());
    Tensor beta = random_tensor({c}, seed_for("b"), -1, 1, Device::cuda());
    Tensor rm = Tensor::zeros({c}, Device::cuda()), rv = Tensor::full({c}, 1.0, Device::cuda());
    TrainResult a = forward_train(x, gamma, beta, rm, rv, 0.1, 1e-5);
    TrainResult b = forward_train(x, gamma, beta, rm, rv, 0.1, 1e-5);
    EXPECT_BITWISE_EQ(a.y, b.y);
    EXPECT_BITWISE_EQ(a.save_mean, b.save_mean);
    EXPECT_BITWISE_EQ(a.save_invstd, b.save_invstd);
    EXPECT_BITWISE_EQ(a.running_mean, b.running_mean);
    EXPECT_BITWISE_EQ(a.running_var, b.running_var);
    Grads ga = backward_train(gy, x, gamma, a.save_mean, a.save_invstd);
    Grads gb = backward_train(gy, x, gamma, a.save_mean, a.save_invstd);
    EXPECT_BITWISE_EQ(ga.gx, gb.gx);
    EXPECT_BITWISE_EQ(ga.ggamma, gb.ggamma);
    EXPECT_BITWISE_EQ(ga.gbeta, gb.gbeta);
    Grads ea = backward_eval(gy, x, gamma, rm, rv, 1e-5);
    Grads eb = backward_eval(gy, x, gamma, rm, rv, 1e-5);
    EXPECT_BITWISE_EQ(ea.gx, eb.gx);
    EXPECT_BITWISE_EQ(ea.ggamma, eb.ggamma);
  }
}

TEST(BatchNormCuda, EmptyBatchBackwardGivesZeroParameterGradients) {
  CS_REQUIRE_CUDA();
  Tensor x = Tensor::zeros({0, 3, 2, 2}, Device::cuda());
  Tensor c3 = Tensor::full({3}, 1.0, Device::cuda());
  Grads g = backward_train(x, x, c3, Tensor::zeros({3}, Device::cuda()), c3);
  EXPECT_EQ(g.ggamma.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(g.gbeta.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  Grads e = backward_eval(x, x, c3, Tensor::zeros({3}, Device::cuda()), c3, 1e-5);
  EXPECT_EQ(e.ggamma.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(e.gbeta.to_vector<float>(), (std::vector<float>{0, 0, 0}));
}

}  // namespace
}  // namespace cs
