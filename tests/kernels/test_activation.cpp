// ReLU (forward and the three backward rules) and leaky ReLU: hand cases
// where the signs decide, gradchecks, and the GPU against the CPU bit for bit.
#include <cmath>
#include <limits>
#include <string>

#include "kernels/activation.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using kernels::ReluRule;
using testing::random_tensor;
using testing::seed_for;

std::vector<float> relu_backward_of(const std::vector<float>& x, const std::vector<float>& gy,
                                    ReluRule rule) {
  const Shape shape{static_cast<int64_t>(x.size())};
  Tensor gx = Tensor::full(shape, 99.0);  // overwritten, never accumulated into
  kernels::relu_backward(Tensor::from_vector(x, shape), Tensor::from_vector(gy, shape), gx, rule);
  return gx.to_vector<float>();
}

TEST(Activation, ReluForwardByHand) {
  Tensor x = Tensor::from_vector(std::vector<float>{-2, -1, 0, 1, 2}, {5});
  Tensor y = Tensor::full({5}, 99.0);
  kernels::relu_forward(x, y);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 0, 0, 1, 2}));
}

// x = [-2, -1, 1, 2], gy = [-1, 1, -1, 1]:
//   standard  gy * [x > 0]            = [0, 0, -1, 1]
//   guided    gy * [x > 0] * [gy > 0] = [0, 0,  0, 1]
//   deconvnet max(gy, 0)              = [0, 1,  0, 1]
TEST(Activation, ReluRulesByHand) {
  const std::vector<float> x{-2, -1, 1, 2}, gy{-1, 1, -1, 1};
  EXPECT_EQ(relu_backward_of(x, gy, ReluRule::Standard), (std::vector<float>{0, 0, -1, 1}));
  EXPECT_EQ(relu_backward_of(x, gy, ReluRule::Guided), (std::vector<float>{0, 0, 0, 1}));
  EXPECT_EQ(relu_backward_of(x, gy, ReluRule::Deconvnet), (std::vector<float>{0, 1, 0, 1}));
}

// Every combination of signs of x and gy (and x = 0, the kink: the gradient
// there is taken as 0, as PyTorch's threshold_backward does).
TEST(Activation, ReluRulesOverAllSignCombinations) {
  const std::vector<float> x{-3, -3, 0, 0, 4, 4};
  const std::vector<float> gy{-5, 6, -5, 6, -5, 6};
  EXPECT_EQ(relu_backward_of(x, gy, ReluRule::Standard), (std::vector<float>{0, 0, 0, 0, -5, 6}));
  EXPECT_EQ(relu_backward_of(x, gy, ReluRule::Guided), (std::vector<float>{0, 0, 0, 0, 0, 6}));
  EXPECT_EQ(relu_backward_of(x, gy, ReluRule::Deconvnet), (std::vector<float>{0, 6, 0, 6, 0, 6}));
}

TEST(Activation, RuleNames) {
  EXPECT_STREQ(kernels::relu_rule_name(ReluRule::Standard), "standard");
  EXPECT_STREQ(kernels::relu_rule_name(ReluRule::Guided), "guided");
  EXPECT_STREQ(kernels::relu_rule_name(ReluRule::Deconvnet), "deconvnet");
}

TEST(Activation, LeakyReluByHand) {
  Tensor x = Tensor::from_vector(std::vector<float>{-2, -0.5f, 0, 3}, {4});
  Tensor y = Tensor::empty({4});
  kernels::leaky_relu_forward(x, 0.1, y);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0.1f * -2, 0.1f * -0.5f, 0, 3}));
  Tensor gy = Tensor::from_vector(std::vector<float>{1, -2, 5, -4}, {4});
  Tensor gx = Tensor::empty({4});
  kernels::leaky_relu_backward(x, gy, 0.1, gx);
  // x <= 0: slope * gy (x = 0 takes the negative side, as PyTorch); x > 0: gy.
  EXPECT_EQ(gx.to_vector<float>(), (std::vector<float>{0.1f * 1, 0.1f * -2, 0.1f * 5, -4}));
}

TEST(Activation, RunsInDouble) {
  Tensor x = Tensor::from_vector(std::vector<double>{-1e-300, 1e-300}, {2});
  Tensor y = Tensor::empty({2}, Device::cpu(), DType::F64);
  kernels::relu_forward(x, y);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0, 1e-300}));
}

TEST(Activation, EmptyTensorsWork) {
  Tensor x = Tensor::empty({0, 3});
  Tensor y = Tensor::empty({0, 3});
  kernels::relu_forward(x, y);
  kernels::relu_backward(x, x, y, ReluRule::Guided);
  kernels::leaky_relu_forward(x, 0.2, y);
  kernels::leaky_relu_backward(x, x, 0.2, y);
  EXPECT_EQ(y.numel(), 0);
}

TEST(Activation, RejectsBadArguments) {
  Tensor x = Tensor::zeros({4});
  Tensor wrong = Tensor::zeros({5});
  Tensor d = Tensor::zeros({4}, Device::cpu(), DType::F64);
  Tensor i = Tensor::zeros({4}, Device::cpu(), DType::I32);
  EXPECT_THROW(kernels::relu_forward(x, wrong), Error);
  EXPECT_THROW(kernels::relu_forward(x, d), Error);
  EXPECT_THROW(kernels::relu_forward(i, i), Error);
  EXPECT_THROW(kernels::relu_backward(x, wrong, x, ReluRule::Standard), Error);
  EXPECT_THROW(kernels::relu_backward(x, x, wrong, ReluRule::Guided), Error);
  EXPECT_THROW(kernels::leaky_relu_forward(x, 0.1, wrong), Error);
  EXPECT_THROW(kernels::leaky_relu_backward(x, x, 0.1, wrong), Error);
}

TEST(Activation, ReluGradcheck) {
  // Keep every x at least 0.1 away from the kink at 0.
  Tensor x = testing::away_from_zero({3, 4, 5}, seed_for("x"));
  auto forward = [](const std::vector<Tensor>& in) {
    Tensor y = Tensor::empty_like(in[0]);
    kernels::relu_forward(in[0], y);
    return y;
  };
  auto backward = [](const std::vector<Tensor>& in, const Tensor& gy) {
    Tensor gx = Tensor::empty_like(in[0]);
    kernels::relu_backward(in[0], gy, gx, ReluRule::Standard);
    return std::vector<Tensor>{gx};
  };
  EXPECT_TRUE(testing::gradcheck(forward, backward, {x}));
}

TEST(Activation, LeakyReluGradcheck) {
  Tensor x = testing::away_from_zero({2, 3, 7}, seed_for("x"));
  for (double slope : {0.01, 0.2, -0.5}) {
    SCOPED_TRACE("slope " + std::to_string(slope));
    auto forward = [slope](const std::vector<Tensor>& in) {
      Tensor y = Tensor::empty_like(in[0]);
      kernels::leaky_relu_forward(in[0], slope, y);
      return y;
    };
    auto backward = [slope](const std::vector<Tensor>& in, const Tensor& gy) {
      Tensor gx = Tensor::empty_like(in[0]);
      kernels::leaky_relu_backward(in[0], gy, slope, gx);
      return std::vector<Tensor>{gx};
    };
    EXPECT_TRUE(testing::gradcheck(forward, backward, {x}));
  }
}

// ---- GPU --------------------------------------------------------------------------------

const int64_t kSizes[] = {0, 1, 3, 7, 13, 31, 33, 129, 1000, 4097, 1 << 20};

// A CPU tensor with values in [-1, 1), some of them exactly 0 (the kink).
Tensor with_zeros(int64_t n, uint64_t seed) {
  Tensor t = random_tensor({n}, seed);
  float* p = t.data<float>();
  for (int64_t i = 0; i < n; i += 5) p[i] = 0.0f;
  return t;
}

// A view of `t` (1-D, n values) on the GPU starting `shift` floats past a
// 256-byte-aligned allocation: shift 1 defeats the float4 path.
Tensor gpu_view(const Tensor& t, int64_t shift) {
  const int64_t n = t.numel();
  Tensor buffer = Tensor::zeros({n + shift}, Device::cuda());
  Tensor view = buffer.narrow(shift, n);
  view.copy_from(t);
  return view;
}

TEST(ActivationCuda, MatchesCpuBitwise) {
  CS_REQUIRE_CUDA();
  for (int64_t n : kSizes) {
    for (int64_t shift : {0, 1}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", shift = " + std::to_string(shift));
      const std::string size = std::to_string(n);
      Tensor x = with_zeros(n, seed_for(std::string("x").append(size)));
      Tensor gy = with_zeros(n, seed_for(std::string("gy").append(size)));
      Tensor gxd = gpu_view(x, shift), ggy = gpu_view(gy, 0);
      Tensor out = Tensor::empty({n});
      Tensor gout = gpu_view(Tensor::zeros({n}), shift);
      // Outputs are filled with a sentinel before each op: a missed write shows.
      auto reset = [&] { gout.copy_from(Tensor::full({n}, 99.0)); };
      auto check = [&](const char* what) {
        SCOPED_TRACE(what);
        if (n > 0) {
          EXPECT_BITWISE_EQ(gout.to(Device::cpu()), out);
        }
        reset();
      };
      reset();
      kernels::relu_forward(x, out);
      kernels::relu_forward(gxd, gout);
      check("relu forward");
      for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet}) {
        kernels::relu_backward(x, gy, out, rule);
        kernels::relu_backward(gxd, ggy, gout, rule);
        check(kernels::relu_rule_name(rule));
      }
      kernels::leaky_relu_forward(x, 0.01, out);
      kernels::leaky_relu_forward(gxd, 0.01, gout);
      check("leaky forward");
      kernels::leaky_relu_backward(x, gy, 0.3, out);
      kernels::leaky_relu_backward(gxd, ggy, 0.3, gout);
      check("leaky backward");
    }
  }
}

TEST(ActivationCuda, GuidedKernelByHandAndWithSpecialValues) {
  CS_REQUIRE_CUDA();
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Nine values: two float4 vectors and a scalar tail.
  const std::vector<float> x{-2, -1, 1, 2, 0, inf, nan, 3, 0.5f};
  const std::vector<float> gy{-1, 1, -1, 1, 5, 2, 7, -inf, 0.25f};
  Tensor gx = Tensor::full({9}, 99.0, Device::cuda());
  kernels::relu_backward(Tensor::from_vector(x, {9}, Device::cuda()),
                         Tensor::from_vector(gy, {9}, Device::cuda()), gx, ReluRule::Guided);
  const std::vector<float> got = gx.to_vector<float>();
  const std::vector<float> want{0, 0, 0, 1, 0, 2, 0, 0, 0.25f};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << "element " << i;
    EXPECT_FALSE(std::signbit(got[i])) << "element " << i << " is -0";
  }
}

TEST(ActivationCuda, IsDeterministic) {
  CS_REQUIRE_CUDA();
  const int64_t n = (1 << 20) + 3;
  Tensor x = random_tensor({n}, seed_for("x"), -1, 1, Device::cuda());
  Tensor gy = random_tensor({n}, seed_for("gy"), -1, 1, Device::cuda());
  for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet}) {
    Tensor a = Tensor::empty({n}, Device::cuda()), b = Tensor::empty({n}, Device::cuda());
    kernels::relu_backward(x, gy, a, rule);
    kernels::relu_backward(x, gy, b, rule);
    EXPECT_BITWISE_EQ(a, b);
  }
}

}  // namespace
}  // namespace cs
