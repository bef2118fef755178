// Inverted dropout: the mask is the Philox stream (seed, offset) compared
// with p, kept values are scaled by 1/(1-p), the backward reuses the mask,
// and the GPU draws the very same mask.
#include <cmath>
#include <cstring>

#include "kernels/dropout.h"
#include "runtime/philox.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using testing::random_tensor;
using testing::seed_for;

struct Dropped {
  Tensor y, mask;
};

Dropped run_dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  Dropped out{Tensor::full(x.shape(), 99.0, x.device(), x.dtype()),
              Tensor::full(x.shape(), 7.0, x.device(), DType::U8)};
  kernels::dropout_forward(x, p, seed, offset, out.y, out.mask);
  return out;
}

TEST(Dropout, MaskIsThePhiloxStreamComparedWithP) {
  const int64_t n = 1000;
  const double p = 0.3;
  const uint64_t seed = 12345, offset = 77;
  Tensor x = random_tensor({10, 100}, seed_for("x"));
  Dropped d = run_dropout(x, p, seed, offset);
  const std::vector<uint8_t> mask = d.mask.to_vector<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = philox::uniform(seed, offset, static_cast<uint64_t>(i)) >= 0.3f;
    ASSERT_EQ(mask[i], keep ? 1 : 0) << "element " << i;
  }
}

TEST(Dropout, KeepsAboutOneMinusPAndScalesByItsInverse) {
  const int64_t n = 1000000;
  Tensor x = random_tensor({n}, seed_for("x"), 0.5, 1.5);
  const std::vector<float> xs = x.to_vector<float>();
  for (double p : {0.1, 0.5, 0.8}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    Dropped d = run_dropout(x, p, seed_for("mask"), 0);
    const std::vector<uint8_t> mask = d.mask.to_vector<uint8_t>();
    const std::vector<float> y = d.y.to_vector<float>();
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    int64_t kept = 0, wrong = 0;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(mask[i] == 0 || mask[i] == 1) << "element " << i;
      kept += mask[i];
      const float want = mask[i] ? xs[i] * scale : 0.0f;
      if (std::memcmp(&y[i], &want, sizeof want) != 0) ++wrong;
    }
    EXPECT_EQ(wrong, 0);
    // Binomial: sd of the kept fraction sqrt(p(1-p)/n) <= 5e-4; allow 6 sd.
    EXPECT_NEAR(static_cast<double>(kept) / n, 1 - p, 3e-3);
  }
}

TEST(Dropout, ScaleKeepsTheExpectation) {
  // E[y] = x: the mean of y over many elements of constant x is close to x.
  const int64_t n = 1000000;
  Tensor x = Tensor::full({n}, 2.0);
  Dropped d = run_dropout(x, 0.25, seed_for("mask"), 0);
  double sum = 0;
  for (float v : d.y.to_vector<float>()) sum += v;
  EXPECT_NEAR(sum / n, 2.0, 0.01);
}

TEST(Dropout, ZeroProbabilityIsTheIdentity) {
  Tensor x = random_tensor({3, 5, 7}, seed_for("x"));
  Dropped d = run_dropout(x, 0.0, 9, 0);
  EXPECT_BITWISE_EQ(d.y, x);
  for (uint8_t m : d.mask.to_vector<uint8_t>()) ASSERT_EQ(m, 1);
}

TEST(Dropout, ProbabilityOneDropsEverything) {
  Tensor x = random_tensor({3, 5, 7}, seed_for("x"));
  Dropped d = run_dropout(x, 1.0, 9, 0);
  EXPECT_BITWISE_EQ(d.y, Tensor::zeros(x.shape()));  // +0 everywhere, negative x included
  for (uint8_t m : d.mask.to_vector<uint8_t>()) ASSERT_EQ(m, 0);
  Tensor gx = Tensor::full(x.shape(), 5.0);
  kernels::dropout_backward(x, d.mask, 1.0, gx);
  EXPECT_BITWISE_EQ(gx, Tensor::zeros(x.shape()));
}

TEST(Dropout, SameSeedSameMaskOtherSeedOrOffsetOtherMask) {
  Tensor x = random_tensor({4096}, seed_for("x"));
  const Dropped a = run_dropout(x, 0.5, 1, 0);
  const Dropped b = run_dropout(x, 0.5, 1, 0);
  EXPECT_BITWISE_EQ(a.mask, b.mask);
  EXPECT_BITWISE_EQ(a.y, b.y);
  const auto ma = a.mask.to_vector<uint8_t>();
  const auto mc = run_dropout(x, 0.5, 2, 0).mask.to_vector<uint8_t>();
  const auto md = run_dropout(x, 0.5, 1, 4096).mask.to_vector<uint8_t>();
  EXPECT_NE(ma, mc);
  EXPECT_NE(ma, md);
}

// Offset k continues the stream: the mask of n values at offset k is the
// tail of the mask of n + k values at offset 0.
TEST(Dropout, OffsetContinuesTheStream) {
  const int64_t n = 333;
  for (uint64_t k : {1, 2, 3, 4, 5, 1000}) {
    SCOPED_TRACE("offset " + std::to_string(k));
    const auto whole = run_dropout(random_tensor({n + static_cast<int64_t>(k)}, 1), 0.4, 42, 0)
                           .mask.to_vector<uint8_t>();
    const auto tail = run_dropout(random_tensor({n}, 2), 0.4, 42, k).mask.to_vector<uint8_t>();
    ASSERT_EQ(std::vector<uint8_t>(whole.begin() + static_cast<int64_t>(k), whole.end()), tail);
  }
}

TEST(Dropout, BackwardReusesTheMask) {
  Tensor x = random_tensor({6, 50}, seed_for("x"));
  Tensor gy = random_tensor({6, 50}, seed_for("gy"));
  const double p = 0.35;
  Dropped d = run_dropout(x, p, 5, 3);
  Tensor gx = Tensor::full(gy.shape(), 99.0);
  kernels::dropout_backward(gy, d.mask, p, gx);
  // By hand: gx = gy * mask / (1 - p).
  const auto m = d.mask.to_vector<uint8_t>();
  const auto g = gy.to_vector<float>();
  const auto out = gx.to_vector<float>();
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  for (size_t i = 0; i < m.size(); ++i) ASSERT_EQ(out[i], m[i] ? g[i] * scale : 0.0f) << i;
  // The same as dropping gy with the forward's (seed, offset).
  EXPECT_BITWISE_EQ(gx, run_dropout(gy, p, 5, 3).y);
  // A different mask gives a different gradient: the mask is really read.
  Tensor other = Tensor::full(gy.shape(), 1.0, Device::cpu(), DType::U8);
  Tensor gx2 = Tensor::empty_like(gy);
  kernels::dropout_backward(gy, other, p, gx2);
  EXPECT_FALSE(testing::all_equal(gx2, gx));
}

TEST(Dropout, RunsInDouble) {
  Tensor x = Tensor::from_vector(std::vector<double>{1e-300, 2, 3, 4}, {4});
  Dropped d = run_dropout(x, 0.0, 1, 0);
  EXPECT_EQ(d.y.to_vector<double>(), (std::vector<double>{1e-300, 2, 3, 4}));
}

TEST(Dropout, RejectsBadArguments) {
  Tensor x = Tensor::zeros({4, 3});
  Tensor y = Tensor::zeros({4, 3});
  Tensor mask = Tensor::zeros({4, 3}, Device::cpu(), DType::U8);
  EXPECT_THROW(kernels::dropout_forward(x, -0.1, 1, 0, y, mask), Error);
  EXPECT_THROW(kernels::dropout_forward(x, 1.5, 1, 0, y, mask), Error);
  EXPECT_THROW(kernels::dropout_forward(x, std::nan(""), 1, 0, y, mask), Error);
  Tensor float_mask = Tensor::zeros({4, 3});
  EXPECT_THROW(kernels::dropout_forward(x, 0.5, 1, 0, y, float_mask), Error);
  Tensor short_mask = Tensor::zeros({4, 2}, Device::cpu(), DType::U8);
  EXPECT_THROW(kernels::dropout_forward(x, 0.5, 1, 0, y, short_mask), Error);
  Tensor wrong_y = Tensor::zeros({12});
  EXPECT_THROW(kernels::dropout_forward(x, 0.5, 1, 0, wrong_y, mask), Error);
  EXPECT_THROW(kernels::dropout_backward(x, float_mask, 0.5, y), Error);
  EXPECT_THROW(kernels::dropout_backward(x, short_mask, 0.5, y), Error);
  EXPECT_THROW(kernels::dropout_backward(x, mask, 2.0, y), Error);
  EXPECT_THROW(kernels::dropout_backward(x, mask, 0.5, wrong_y), Error);
}

TEST(Dropout, EmptyTensorsWork) {
  Tensor x = Tensor::empty({0, 4});
  Tensor y = Tensor::empty({0, 4});
  Tensor mask = Tensor::empty({0, 4}, Device::cpu(), DType::U8);
  kernels::dropout_forward(x, 0.5, 1, 0, y, mask);
  kernels::dropout_backward(x, mask, 0.5, y);
  EXPECT_EQ(y.numel(), 0);
}

// ---- GPU --------------------------------------------------------------------------------

// n values on the GPU starting `shift` elements into a fresh allocation.
Tensor gpu_view(const Tensor& t, int64_t shift) {
  Tensor buffer = Tensor::zeros({t.numel() + shift}, Device::cuda(), t.dtype());
  Tensor view = buffer.narrow(shift, t.numel());
  view.copy_from(t);
  return view;
}

TEST(DropoutCuda, MasksAndOutputsMatchCpuBitwise) {
  CS_REQUIRE_CUDA();
  const int64_t sizes[] = {1, 3, 4, 7, 13, 31, 33, 129, 1000, 4097, (1 << 20) + 1};
  for (int64_t n : sizes) {
    for (uint64_t offset : {uint64_t{0}, uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{8},
                            (uint64_t{1} << 34) + 5}) {
      for (int64_t shift : {0, 1}) {  // shift 1: x, y and mask not aligned
        for (double p : {0.0, 0.3, 1.0}) {
          SCOPED_TRACE("n = " + std::to_string(n) + ", offset = " + std::to_string(offset) +
                       ", shift = " + std::to_string(shift) + ", p = " + std::to_string(p));
          const uint64_t seed = seed_for("seed" + std::to_string(n));
          Tensor x = random_tensor({n}, seed_for("x" + std::to_string(n)));
          Dropped cpu = run_dropout(x, p, seed, offset);
          Tensor gx_in = gpu_view(x, shift);
          Tensor gy = gpu_view(Tensor::full({n}, 99.0), shift);
          Tensor gm = gpu_view(Tensor::full({n}, 7.0, Device::cpu(), DType::U8), shift);
          kernels::dropout_forward(gx_in, p, seed, offset, gy, gm);
          EXPECT_BITWISE_EQ(gm.to(Device::cpu()), cpu.mask);
          EXPECT_BITWISE_EQ(gy.to(Device::cpu()), cpu.y);
          // Backward with the GPU mask against the CPU backward.
          Tensor g = random_tensor({n}, seed_for("g" + std::to_string(n)));
          Tensor gx = Tensor::empty({n});
          kernels::dropout_backward(g, cpu.mask, p, gx);
          Tensor ggx = gpu_view(Tensor::full({n}, 99.0), shift);
          kernels::dropout_backward(gpu_view(g, shift), gm, p, ggx);
          EXPECT_BITWISE_EQ(ggx.to(Device::cpu()), gx);
        }
      }
    }
  }
}

TEST(DropoutCuda, KeptFractionAndDeterminism) {
  CS_REQUIRE_CUDA();
  const int64_t n = 1 << 22;
  Tensor x = random_tensor({n}, seed_for("x"), -1, 1, Device::cuda());
  Dropped a = run_dropout(x, 0.5, 2024, 16);
  Dropped b = run_dropout(x, 0.5, 2024, 16);
  EXPECT_BITWISE_EQ(a.mask, b.mask);
  EXPECT_BITWISE_EQ(a.y, b.y);
  int64_t kept = 0;
  for (uint8_t m : a.mask.to_vector<uint8_t>()) kept += m;
  EXPECT_NEAR(static_cast<double>(kept) / n, 0.5, 2e-3);
}

}  // namespace
}  // namespace cs
