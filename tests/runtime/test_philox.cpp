// Philox4x32-10: known-answer vectors, statistics, and CPU/GPU bit equality.
#include <cmath>

#include "kernels/random.h"
#include "runtime/philox.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using philox::U32x4;

// Known-answer vectors published with Random123 (kat_vectors, philox4x32 10 rounds).
TEST(Philox, MatchesRandom123KnownAnswers) {
  struct Case {
    U32x4 ctr;
    uint32_t k0, k1;
    U32x4 expected;
  };
  const Case cases[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu,
       {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
       {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
  };
  for (const Case& c : cases) {
    const U32x4 out = philox::philox4x32_10(c.ctr, c.k0, c.k1);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out.v[i], c.expected.v[i]) << "word " << i;
  }
}

TEST(Philox, StreamPositionsAreOffsetPlusIndex) {
  for (uint64_t i = 0; i < 20; ++i)
    EXPECT_EQ(philox::word(7, 5, i), philox::word(7, 0, i + 5)) << i;
  EXPECT_NE(philox::word(7, 0, 0), philox::word(8, 0, 0));
}

TEST(Philox, ReproducibleMathIsAccurate) {
  for (int i = 1; i <= 1 << 24; i += 997) {
    const float x = static_cast<float>(i) / 16777216.0f;
    EXPECT_NEAR(philox::reproducible_log(x), std::log(static_cast<double>(x)),
                2e-7 * std::max(1.0, std::abs(std::log(static_cast<double>(x)))))
        << "x = " << x;
  }
  for (int i = 0; i < 1 << 24; i += 1009) {
    const float u = static_cast<float>(i) / 16777216.0f;
    EXPECT_NEAR(philox::reproducible_cos_2pi(u), std::cos(2 * M_PI * u), 3e-7) << "u = " << u;
  }
}

TEST(Philox, UniformAndNormalHaveTheRightMoments) {
  const int64_t n = 1 << 20;
  Tensor u = Tensor::empty({n});
  Tensor z = Tensor::empty({n});
  Tensor b = Tensor::empty({n});
  kernels::uniform_(u, 123, 0, 0.0, 1.0);
  kernels::normal_(z, 123, 0, 0.0, 1.0);
  kernels::bernoulli_(b, 123, 0, 0.3);
  double su = 0, suu = 0, sz = 0, szz = 0, sb = 0;
  const std::vector<float> uv = u.to_vector<float>(), zv = z.to_vector<float>(),
                           bv = b.to_vector<float>();
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_GE(uv[i], 0.0f);
    ASSERT_LT(uv[i], 1.0f);
    su += uv[i];
    suu += uv[i] * uv[i];
    sz += zv[i];
    szz += zv[i] * zv[i];
    sb += bv[i];
  }
  EXPECT_NEAR(su / n, 0.5, 2e-3);
  EXPECT_NEAR(suu / n - 0.25, 1.0 / 12, 2e-3);
  EXPECT_NEAR(sz / n, 0.0, 5e-3);
  EXPECT_NEAR(szz / n, 1.0, 5e-3);
  EXPECT_NEAR(sb / n, 0.3, 2e-3);
}

TEST(Philox, TensorFactoriesMatchTheRandomKernels) {
  Tensor a = Tensor::uniform({1000}, -2.0, 3.0, 99);
  Tensor b = Tensor::empty({1000});
  kernels::uniform_(b, 99, 0, -2.0, 3.0);
  EXPECT_BITWISE_EQ(a, b);
  Tensor c = Tensor::normal({1000}, 1.0, 0.5, 99);
  Tensor d = Tensor::empty({1000});
  kernels::normal_(d, 99, 0, 1.0, 0.5);
  EXPECT_BITWISE_EQ(c, d);
}

TEST(PhiloxCuda, MillionDrawsAreBitIdenticalToTheCpu) {
  CS_REQUIRE_CUDA();
  const int64_t n = 1000003;  // not a multiple of 4: the tail matters
  const uint64_t seed = testing::seed_for("philox");
  for (uint64_t offset : {uint64_t{0}, uint64_t{5}, uint64_t{1} << 40}) {
    Tensor words_cpu = Tensor::empty({n}, Device::cpu(), DType::I32);
    Tensor words_gpu = Tensor::empty({n}, Device::cuda(), DType::I32);
    kernels::random_words(words_cpu, seed, offset);
    kernels::random_words(words_gpu, seed, offset);
    EXPECT_BITWISE_EQ(words_gpu, words_cpu);

    Tensor cpu = Tensor::empty({n});
    Tensor gpu = Tensor::empty({n}, Device::cuda());
    kernels::uniform_(cpu, seed, offset, -1.5, 2.5);
    kernels::uniform_(gpu, seed, offset, -1.5, 2.5);
    EXPECT_BITWISE_EQ(gpu, cpu);
    kernels::normal_(cpu, seed, offset, 0.25, 2.0);
    kernels::normal_(gpu, seed, offset, 0.25, 2.0);
    EXPECT_BITWISE_EQ(gpu, cpu);
    kernels::bernoulli_(cpu, seed, offset, 0.37);
    kernels::bernoulli_(gpu, seed, offset, 0.37);
    EXPECT_BITWISE_EQ(gpu, cpu);
  }
}

}  // namespace
}  // namespace cs
