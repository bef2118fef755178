// Softmax, log-softmax and the fused cross-entropy: hand cases, stability,
// gradient checks in double, label errors, and the GPU against the CPU.
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/softmax.h"
#include "kernels/tensor_ops.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using testing::random_tensor;
using testing::seed_for;

const Device kCpu = Device::cpu();

Tensor f64(const Shape& shape, uint64_t seed, double low = -3, double high = 3) {
  return random_tensor(shape, seed, low, high, kCpu, DType::F64);
}

// ---- softmax and log-softmax -------------------------------------------------------------

TEST(Softmax, HandValues) {
  // softmax(0, ln 3) = (1/4, 3/4); a constant row is uniform.
  Tensor x = Tensor::from_vector(std::vector<double>{0, std::log(3.0), 2, 2}, {2, 2});
  Tensor y = Tensor::empty({2, 2}, kCpu, DType::F64);
  kernels::softmax_forward(x, y);
  const std::vector<double> p = y.to_vector<double>();
  EXPECT_NEAR(p[0], 0.25, 1e-15);
  EXPECT_NEAR(p[1], 0.75, 1e-15);
  EXPECT_NEAR(p[2], 0.5, 1e-15);
  EXPECT_NEAR(p[3], 0.5, 1e-15);
  kernels::log_softmax_forward(x, y);
  const std::vector<double> lp = y.to_vector<double>();
  EXPECT_NEAR(lp[0], std::log(0.25), 1e-15);
  EXPECT_NEAR(lp[1], std::log(0.75), 1e-15);
  EXPECT_NEAR(lp[2], std::log(0.5), 1e-15);
}

TEST(Softmax, RowsSumToOne) {
  Tensor x = random_tensor({7, 13}, seed_for("x"), -8, 8);
  Tensor y = Tensor::empty({7, 13});
  kernels::softmax_forward(x, y);
  const std::vector<float> p = y.to_vector<float>();
  for (int i = 0; i < 7; ++i) {
    double total = 0;
    for (int j = 0; j < 13; ++j) {
      EXPECT_GT(p[i * 13 + j], 0.0f);
      total += p[i * 13 + j];
    }
    EXPECT_NEAR(total, 1.0, 1e-6) << "row " << i;
  }
}

TEST(Softmax, HugeLogitsStayFinite) {
  Tensor x = Tensor::from_vector(std::vector<float>{1e4f, 0, -1e4f, 1e4f, 1e4f, 1e4f}, {2, 3});
  Tensor y = Tensor::empty({2, 3});
  kernels::softmax_forward(x, y);
  const std::vector<float> p = y.to_vector<float>();
  EXPECT_EQ(p[0], 1.0f);
  EXPECT_EQ(p[1], 0.0f);
  EXPECT_EQ(p[2], 0.0f);
  for (int j = 3; j < 6; ++j) EXPECT_NEAR(p[j], 1.0 / 3, 1e-7);
  kernels::log_softmax_forward(x, y);
  const std::vector<float> lp = y.to_vector<float>();
  EXPECT_EQ(lp[0], 0.0f);
  EXPECT_EQ(lp[1], -1e4f);
  EXPECT_EQ(lp[2], -2e4f);
  for (int j = 3; j < 6; ++j) EXPECT_NEAR(lp[j], -std::log(3.0), 1e-6);
}

TEST(Softmax, LogSoftmaxIsTheLogOfSoftmax) {
  Tensor x = f64({5, 17}, seed_for("x"), -10, 10);
  Tensor p = Tensor::empty({5, 17}, kCpu, DType::F64), lp = Tensor::empty({5, 17}, kCpu, DType::F64);
  kernels::softmax_forward(x, p);
  kernels::log_softmax_forward(x, lp);
  const std::vector<double> pv = p.to_vector<double>(), lv = lp.to_vector<double>();
  for (size_t i = 0; i < pv.size(); ++i) EXPECT_NEAR(std::log(pv[i]), lv[i], 1e-12) << i;
}

TEST(Softmax, GradcheckSoftmax) {
  auto forward = [](const std::vector<Tensor>& in) {
    Tensor y = Tensor::empty_like(in[0]);
    kernels::softmax_forward(in[0], y);
    return y;
  };
  auto backward = [&](const std::vector<Tensor>& in, const Tensor& gy) {
    Tensor y = forward(in), gx = Tensor::empty_like(in[0]);
    kernels::softmax_backward(y, gy, gx);
    return std::vector<Tensor>{gx};
  };
  EXPECT_TRUE(testing::gradcheck(forward, backward, {f64({4, 7}, seed_for("x"))}));
}

TEST(Softmax, GradcheckLogSoftmax) {
  auto forward = [](const std::vector<Tensor>& in) {
    Tensor y = Tensor::empty_like(in[0]);
    kernels::log_softmax_forward(in[0], y);
    return y;
  };
  auto backward = [&](const std::vector<Tensor>& in, const Tensor& gy) {
    Tensor y = forward(in), gx = Tensor::empty_like(in[0]);
    kernels::log_softmax_backward(y, gy, gx);
    return std::vector<Tensor>{gx};
  };
  EXPECT_TRUE(testing::gradcheck(forward, backward, {f64({4, 7}, seed_for("x"))}));
}

TEST(Softmax, RejectsBadArguments) {
  Tensor x = Tensor::zeros({2, 3});
  Tensor wrong = Tensor::empty({3, 2});
  EXPECT_THROW(kernels::softmax_forward(x, wrong), Error);
  Tensor flat = Tensor::zeros({6}), flat_out = Tensor::empty({6});
  EXPECT_THROW(kernels::log_softmax_forward(flat, flat_out), Error);
  Tensor d = Tensor::empty({2, 3}, kCpu, DType::F64);
  EXPECT_THROW(kernels::softmax_forward(x, d), Error);
  Tensor gy = Tensor::zeros({2, 2}), gx = Tensor::empty({2, 3});
  EXPECT_THROW(kernels::softmax_backward(x, gy, gx), Error);
}

TEST(Softmax, EmptyBatchIsANoOp) {
  Tensor x = Tensor::empty({0, 5}), y = Tensor::empty({0, 5});
  EXPECT_NO_THROW(kernels::softmax_forward(x, y));
  EXPECT_NO_THROW(kernels::log_softmax_forward(x, y));
  EXPECT_EQ(y.numel(), 0);
}

// ---- cross-entropy -----------------------------------------------------------------------------

// logits [[1, 2, 3], [0, 0, 0]], labels [2, 1]:
//   row 0: logsumexp = 3 + ln(1 + e^-1 + e^-2) = 3.4076059644443806,
//          log p = (-2.40761, -1.40761, -0.40760596444438), loss 0.40760596444438
//   row 1: log p = -ln 3 each, loss ln 3 = 1.0986122886681098
//   mean:  (0.40760596444438 + 1.0986122886681098) / 2 = 0.7531091265562452
// With label smoothing 0.1 (q = 0.9 onehot + 0.1 / 3):
//   row 0: 0.9 * 0.40760596444438 + 0.1 / 3 * (3 * 3.40760596444438 - 6) = 0.50760596444438
//   row 1: ln 3 (all log p equal)
//   mean:  0.8031091265562453
// glogits = (softmax - q) / 2 with softmax(row 0) = (0.0900306, 0.2447285, 0.6652410).
TEST(CrossEntropy, HandComputed2x3) {
  Tensor logits = Tensor::from_vector(std::vector<float>{1, 2, 3, 0, 0, 0}, {2, 3});
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{2, 1}, {2});
  Tensor loss = Tensor::empty({1}), probs = Tensor::empty({2, 3}), glogits = Tensor::empty({2, 3});
  Tensor gloss = Tensor::full({1}, 1.0);

  kernels::softmax_cross_entropy_forward(logits, labels, 0.0, loss, probs);
  EXPECT_NEAR(loss.item(), 0.7531091265562452, 1e-6);
  const std::vector<float> p = probs.to_vector<float>();
  const double expected_p[] = {0.09003057317038043, 0.24472847105479759, 0.6652409557748217,
                               1.0 / 3, 1.0 / 3, 1.0 / 3};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(p[i], expected_p[i], 1e-7) << i;
  kernels::softmax_cross_entropy_backward(probs, labels, 0.0, gloss, glogits);
  const double expected_g[] = {0.04501528658519022, 0.12236423552739879, -0.16737952211258916,
                               0.16666666666666666, -0.33333333333333337, 0.16666666666666666};
  std::vector<float> g = glogits.to_vector<float>();
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(g[i], expected_g[i], 1e-7) << i;

  kernels::softmax_cross_entropy_forward(logits, labels, 0.1, loss, probs);
  EXPECT_NEAR(loss.item(), 0.8031091265562453, 1e-6);
  kernels::softmax_cross_entropy_backward(probs, labels, 0.1, gloss, glogits);
  const double expected_gs[] = {0.02834861991852355, 0.10569756886073213, -0.13404618877925584,
                                0.15, -0.30000000000000004, 0.15};
  g = glogits.to_vector<float>();
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(g[i], expected_gs[i], 1e-7) << i;

  // The upstream gradient scales the result.
  Tensor half = Tensor::full({1}, 0.5);
  kernels::softmax_cross_entropy_backward(probs, labels, 0.1, half, glogits);
  EXPECT_NEAR(glogits.to_vector<float>()[4], -0.15, 1e-7);
}

TEST(CrossEntropy, WithoutSmoothingIsTheMeanNllOfLogSoftmax) {
  Tensor logits = f64({9, 6}, seed_for("x"), -4, 4);
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 5, 3, 3, 1, 2, 4, 0, 5}, {9});
  Tensor loss = Tensor::empty({1}, kCpu, DType::F64), probs = Tensor::empty_like(logits);
  kernels::softmax_cross_entropy_forward(logits, labels, 0.0, loss, probs);
  Tensor lp = Tensor::empty_like(logits);
  kernels::log_softmax_forward(logits, lp);
  const std::vector<double> l = lp.to_vector<double>();
  const std::vector<int32_t> y = labels.to_vector<int32_t>();
  double nll = 0;
  for (int i = 0; i < 9; ++i) nll -= l[i * 6 + y[i]];
  EXPECT_NEAR(loss.item(), nll / 9, 1e-14);
}

TEST(CrossEntropy, BadLabelNamesTheLabelAndItsRow) {
  Tensor logits = Tensor::zeros({3, 4});
  Tensor loss = Tensor::empty({1}), probs = Tensor::empty({3, 4});
  for (int32_t bad : {4, -1}) {
    Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, bad, 3}, {3});
    try {
      kernels::softmax_cross_entropy_forward(logits, labels, 0.0, loss, probs);
      ADD_FAILURE() << "label " << bad << " accepted";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("label " + std::to_string(bad) + " of row 1"), std::string::npos) << what;
    }
    Tensor gloss = Tensor::full({1}, 1.0), glogits = Tensor::empty({3, 4});
    EXPECT_THROW(kernels::softmax_cross_entropy_backward(probs, labels, 0.0, gloss, glogits), Error);
  }
}

TEST(CrossEntropy, RejectsBadArguments) {
  Tensor logits = Tensor::zeros({2, 3});
  Tensor loss = Tensor::empty({1}), probs = Tensor::empty({2, 3});
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 1}, {2});
  EXPECT_THROW(kernels::softmax_cross_entropy_forward(logits, labels, 1.5, loss, probs), Error);
  EXPECT_THROW(kernels::softmax_cross_entropy_forward(logits, labels, -0.1, loss, probs), Error);
  Tensor float_labels = Tensor::zeros({2});
  EXPECT_THROW(kernels::softmax_cross_entropy_forward(logits, float_labels, 0.0, loss, probs), Error);
  Tensor short_labels = Tensor::from_vector(std::vector<int32_t>{0}, {1});
  EXPECT_THROW(kernels::softmax_cross_entropy_forward(logits, short_labels, 0.0, loss, probs), Error);
  Tensor big_loss = Tensor::empty({2});
  EXPECT_THROW(kernels::softmax_cross_entropy_forward(logits, labels, 0.0, big_loss, probs), Error);
  Tensor empty_logits = Tensor::zeros({0, 3}), empty_probs = Tensor::empty({0, 3});
  Tensor no_labels = Tensor::empty({0}, kCpu, DType::I32);
  EXPECT_THROW(kernels::softmax_cross_entropy_forward(empty_logits, no_labels, 0.0, loss, empty_probs),
               Error);
}

void expect_ce_gradcheck(double smoothing) {
  SCOPED_TRACE("label smoothing " + std::to_string(smoothing));
  const Tensor labels = Tensor::from_vector(std::vector<int32_t>{1, 0, 4, 4}, {4});
  auto forward = [&](const std::vector<Tensor>& in) {
    Tensor loss = Tensor::empty({1}, kCpu, DType::F64), probs = Tensor::empty_like(in[0]);
    kernels::softmax_cross_entropy_forward(in[0], labels, smoothing, loss, probs);
    return loss;
  };
  auto backward = [&](const std::vector<Tensor>& in, const Tensor& gloss) {
    Tensor loss = Tensor::empty({1}, kCpu, DType::F64), probs = Tensor::empty_like(in[0]);
    kernels::softmax_cross_entropy_forward(in[0], labels, smoothing, loss, probs);
    Tensor g = Tensor::empty_like(in[0]);
    kernels::softmax_cross_entropy_backward(probs, labels, smoothing, gloss, g);
    return std::vector<Tensor>{g};
  };
  EXPECT_TRUE(testing::gradcheck(forward, backward, {f64({4, 5}, seed_for("x"))}));
}

TEST(CrossEntropy, GradcheckWithRespectToLogits) {
  expect_ce_gradcheck(0.0);
  expect_ce_gradcheck(0.2);
}

// ---- GPU against the CPU ----------------------------------------------------------------------

const int64_t kRows[] = {1, 7, 33, 129};
const int64_t kWidths[] = {1, 7, 10, 13, 31, 33, 129, 1000, 1024, 1025, 5003};

bool close(const Tensor& gpu, const Tensor& cpu, double atol, double rtol, bool may_be_zero) {
  return testing::all_close(gpu.to(kCpu), cpu, atol, rtol, may_be_zero);
}

TEST(SoftmaxCuda, MatchesCpu) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (int64_t n : kRows) {
    for (int64_t k : kWidths) {
      SCOPED_TRACE("shape (" + std::to_string(n) + ", " + std::to_string(k) + ")");
      const std::string tag = std::to_string(n) + "x" + std::to_string(k);
      Tensor x = random_tensor({n, k}, seed_for("x" + tag), -6, 6);
      Tensor gy = random_tensor({n, k}, seed_for("g" + tag), -1, 1);
      Tensor xg = x.to(gpu), gyg = gy.to(gpu);
      Tensor y = Tensor::empty({n, k}), yg = Tensor::empty({n, k}, gpu);
      Tensor gx = Tensor::empty({n, k}), gxg = Tensor::empty({n, k}, gpu);
      const bool single = k == 1;  // log-softmax and both gradients are then exactly 0

      kernels::softmax_forward(x, y);
      kernels::softmax_forward(xg, yg);
      EXPECT_TRUE(close(yg, y, 1e-7, 1e-5, false));
      kernels::softmax_backward(y, gy, gx);
      kernels::softmax_backward(yg, gyg, gxg);
      EXPECT_TRUE(close(gxg, gx, 1e-6, 1e-4, single));

      kernels::log_softmax_forward(x, y);
      kernels::log_softmax_forward(xg, yg);
      EXPECT_TRUE(close(yg, y, 1e-5, 1e-5, single));
      kernels::log_softmax_backward(y, gy, gx);
      kernels::log_softmax_backward(yg, gyg, gxg);
      EXPECT_TRUE(close(gxg, gx, 1e-5, 1e-4, single));
    }
  }
}

TEST(SoftmaxCuda, HugeLogitsStayFinite) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (int64_t k : {3, 2000}) {  // the warp and the block path
    std::vector<float> values(static_cast<size_t>(2 * k), 0.0f);
    values[0] = 1e4f;
    values[static_cast<size_t>(k - 1)] = -1e4f;
    for (int64_t j = 0; j < k; ++j) values[static_cast<size_t>(k + j)] = 1e4f;
    Tensor x = Tensor::from_vector(values, {2, k});
    Tensor y = Tensor::empty({2, k}), yg = Tensor::empty({2, k}, gpu);
    kernels::softmax_forward(x, y);
    kernels::softmax_forward(x.to(gpu), yg);
    EXPECT_TRUE(close(yg, y, 1e-7, 1e-5, false));
    kernels::log_softmax_forward(x, y);
    kernels::log_softmax_forward(x.to(gpu), yg);
    EXPECT_TRUE(close(yg, y, 1e-3, 1e-6, false));  // entries near -2e4: rtol dominates
  }
}

TEST(SoftmaxCuda, Deterministic) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (int64_t k : {129, 5003}) {
    Tensor x = random_tensor({65, k}, seed_for("x" + std::to_string(k)), -5, 5, gpu);
    Tensor a = Tensor::empty({65, k}, gpu), b = Tensor::empty({65, k}, gpu);
    kernels::softmax_forward(x, a);
    kernels::softmax_forward(x, b);
    EXPECT_BITWISE_EQ(a.to(kCpu), b.to(kCpu));
  }
}

std::vector<int32_t> random_labels(int64_t n, int64_t k, uint64_t seed) {
  const std::vector<double> u = random_tensor({n}, seed, 0, 1).to_double_vector();
  std::vector<int32_t> labels;
  for (double v : u) labels.push_back(std::min<int32_t>(static_cast<int32_t>(v * k), static_cast<int32_t>(k - 1)));
  return labels;
}

TEST(CrossEntropyCuda, MatchesCpu) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (int64_t n : {1, 7, 9, 33, 256, 1000}) {
    for (int64_t k : {1, 2, 10, 33, 1000, 1500}) {
      for (double smoothing : {0.0, 0.1}) {
        SCOPED_TRACE("shape (" + std::to_string(n) + ", " + std::to_string(k) + "), smoothing " +
                     std::to_string(smoothing));
        const std::string tag = std::to_string(n) + "x" + std::to_string(k);
        Tensor x = random_tensor({n, k}, seed_for("x" + tag), -5, 5);
        Tensor labels = Tensor::from_vector(random_labels(n, k, seed_for("y" + tag)), {n});
        Tensor loss = Tensor::empty({1}), probs = Tensor::empty({n, k});
        Tensor lossg = Tensor::empty({1}, gpu), probsg = Tensor::empty({n, k}, gpu);
        kernels::softmax_cross_entropy_forward(x, labels, smoothing, loss, probs);
        kernels::softmax_cross_entropy_forward(x.to(gpu), labels.to(gpu), smoothing, lossg, probsg);
        if (k == 1) {  // a single class: loss exactly 0
          EXPECT_EQ(lossg.item(), 0.0);
        } else {
          EXPECT_TRUE(close(lossg, loss, 1e-6, 1e-5, false));
        }
        EXPECT_TRUE(close(probsg, probs, 1e-7, 1e-5, false));

        Tensor gloss = Tensor::full({1}, 0.75);
        Tensor g = Tensor::empty({n, k}), gg = Tensor::empty({n, k}, gpu);
        kernels::softmax_cross_entropy_backward(probs, labels, smoothing, gloss, g);
        kernels::softmax_cross_entropy_backward(probsg, labels.to(gpu), smoothing, gloss.to(gpu), gg);
        // p - q cancels near the label: allow an ulp of p, scaled like g.
        EXPECT_TRUE(close(gg, g, 2e-7 / static_cast<double>(n), 1e-5, k == 1));
      }
    }
  }
}

TEST(CrossEntropyCuda, DeterministicLoss) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  const int64_t n = 4099, k = 10;
  Tensor x = random_tensor({n, k}, seed_for("x"), -5, 5, gpu);
  Tensor labels = Tensor::from_vector(random_labels(n, k, seed_for("y")), {n}, gpu);
  Tensor loss_a = Tensor::empty({1}, gpu), loss_b = Tensor::empty({1}, gpu);
  Tensor probs_a = Tensor::empty({n, k}, gpu), probs_b = Tensor::empty({n, k}, gpu);
  kernels::softmax_cross_entropy_forward(x, labels, 0.1, loss_a, probs_a);
  kernels::softmax_cross_entropy_forward(x, labels, 0.1, loss_b, probs_b);
  EXPECT_BITWISE_EQ(loss_a.to(kCpu), loss_b.to(kCpu));
  EXPECT_BITWISE_EQ(probs_a.to(kCpu), probs_b.to(kCpu));
}

TEST(CrossEntropyCuda, BadLabels) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  Tensor logits = Tensor::zeros({3, 4}, gpu);
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 7, 3}, {3}, gpu);
  Tensor loss = Tensor::empty({1}, gpu), probs = Tensor::empty({3, 4}, gpu);
  const bool was = kernels::device_checks();
  // Device checks on: the dispatcher reads the labels back and names the bad one.
  kernels::set_device_checks(true);
  try {
    kernels::softmax_cross_entropy_forward(logits, labels, 0.0, loss, probs);
    ADD_FAILURE() << "label 7 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("label 7 of row 1"), std::string::npos) << e.what();
  }
  // Off: no read-back, but the loss is NaN rather than silently wrong.
  kernels::set_device_checks(false);
  kernels::softmax_cross_entropy_forward(logits, labels, 0.0, loss, probs);
  EXPECT_TRUE(std::isnan(loss.item()));
  Tensor gloss = Tensor::full({1}, 1.0, gpu), glogits = Tensor::empty({3, 4}, gpu);
  kernels::softmax_cross_entropy_backward(probs, labels, 0.0, gloss, glogits);
  const std::vector<float> g = glogits.to_vector<float>();
  for (int j = 0; j < 4; ++j) {
    EXPECT_TRUE(std::isnan(g[4 + j])) << j;  // the bad row
    EXPECT_FALSE(std::isnan(g[j])) << j;     // a good row
  }
  kernels::set_device_checks(was);
}

}  // namespace
}  // namespace cs
