// The first ops through the dispatch tables: fill, copy, add, scale, axpy, sum.
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using testing::random_tensor;
using testing::seed_for;

TEST(Elementwise, CpuMatchesHandValues) {
  Tensor a = Tensor::from_vector(std::vector<float>{1, -2, 3.5f}, {3});
  Tensor b = Tensor::from_vector(std::vector<float>{0.5f, 4, -1}, {3});
  Tensor out = Tensor::empty({3});
  kernels::add(a, b, out);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{1.5f, 2, 2.5f}));
  kernels::sub(a, b, out);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0.5f, -6, 4.5f}));
  kernels::mul(a, b, out);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0.5f, -8, -3.5f}));
  kernels::scale(a, -2.0, out);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{-2, 4, -7}));
  kernels::axpy(2.0, a, b);  // b += 2a
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{2.5f, 0, 6}));
  kernels::abs(a, out);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{1, 2, 3.5f}));
  kernels::clamp(a, -1, 2, out);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{1, -1, 2}));
  kernels::add_scalar(a, 1, out);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{2, -1, 4.5f}));
  kernels::fill(out, 9);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{9, 9, 9}));
  Tensor s = Tensor::empty({1});
  kernels::sum_all(a, s);
  EXPECT_EQ(s.item(), 2.5);
}

TEST(Elementwise, RunsInDoubleOnTheCpu) {
  Tensor a = Tensor::from_vector(std::vector<double>{1e-17, 1.0}, {2});
  Tensor out = Tensor::empty({2}, Device::cpu(), DType::F64);
  kernels::scale(a, 3.0, out);
  EXPECT_EQ(out.to_vector<double>(), (std::vector<double>{3e-17, 3.0}));
}

TEST(Elementwise, RejectsBadArguments) {
  Tensor a = Tensor::zeros({3});
  Tensor b = Tensor::zeros({4});
  Tensor out = Tensor::empty({3});
  EXPECT_THROW(kernels::add(a, b, out), Error);
  Tensor d = Tensor::zeros({3}, Device::cpu(), DType::F64);
  EXPECT_THROW(kernels::add(a, d, out), Error);
  Tensor i = Tensor::zeros({3}, Device::cpu(), DType::I32);
  EXPECT_THROW(kernels::fill(i, 1), Error);
  EXPECT_THROW(kernels::clamp(a, 2, 1, out), Error);
  Tensor s = Tensor::empty({2});
  EXPECT_THROW(kernels::sum_all(a, s), Error);
}

TEST(Reduce, SumIsAccurateForLargeInputs) {
  const int64_t n = 1 << 20;
  Tensor x = Tensor::full({n}, 0.1);
  Tensor s = Tensor::empty({1});
  kernels::sum_all(x, s);
  EXPECT_NEAR(s.item(), 0.1f * n, 1e-2);
}

// Every size class: empty, tiny, off the float4 width, large; plus unaligned views.
const int64_t kSizes[] = {0, 1, 3, 7, 13, 31, 33, 129, 1000, 4097, 1 << 20};

TEST(ElementwiseCuda, MatchesCpuBitwise) {
  CS_REQUIRE_CUDA();
  for (int64_t n : kSizes) {
    for (int64_t shift : {0, 1}) {  // shift 1: a view not aligned to 16 bytes
      SCOPED_TRACE(::testing::Message() << "n = " << n << ", shift = " << shift);
      const std::string size = std::to_string(n);
      Tensor a = random_tensor({n + shift}, seed_for(size + "a")).narrow(shift, n);
      Tensor b = random_tensor({n + shift}, seed_for(size + "b")).narrow(shift, n);
      Tensor ga = a.to(Device::cuda()), gb = b.to(Device::cuda());
      Tensor out = Tensor::empty({n}), gout = Tensor::empty({n}, Device::cuda());
      kernels::add(a, b, out);
      kernels::add(ga, gb, gout);
      EXPECT_BITWISE_EQ(gout, out);
      kernels::sub(a, b, out);
      kernels::sub(ga, gb, gout);
      EXPECT_BITWISE_EQ(gout, out);
      kernels::mul(a, b, out);
      kernels::mul(ga, gb, gout);
      EXPECT_BITWISE_EQ(gout, out);
      kernels::scale(a, 0.37, out);
      kernels::scale(ga, 0.37, gout);
      EXPECT_BITWISE_EQ(gout, out);
      kernels::abs(a, out);
      kernels::abs(ga, gout);
      EXPECT_BITWISE_EQ(gout, out);
      kernels::clamp(a, -0.5, 0.25, out);
      kernels::clamp(ga, -0.5, 0.25, gout);
      EXPECT_BITWISE_EQ(gout, out);
      kernels::add_scalar(a, 1.25, out);
      kernels::add_scalar(ga, 1.25, gout);
      EXPECT_BITWISE_EQ(gout, out);
      kernels::fill(out, -3.0);
      kernels::fill(gout, -3.0);
      EXPECT_BITWISE_EQ(gout, out);
      // axpy: y += alpha x. The GPU may fuse to an FMA; allow one rounding.
      Tensor y = b.clone(), gy = gb.clone();
      kernels::axpy(1.5, a, y);
      kernels::axpy(1.5, ga, gy);
      if (n > 0) {
        EXPECT_CLOSE(gy, y, 1e-6, 1e-6);
      }
    }
  }
}

TEST(ReduceCuda, SumMatchesCpuAndIsDeterministic) {
  CS_REQUIRE_CUDA();
  for (int64_t n : kSizes) {
    if (n == 0) continue;
    SCOPED_TRACE(::testing::Message() << "n = " << n);
    Tensor x = random_tensor({n}, seed_for(std::to_string(n)), 0.0, 1.0);
    Tensor gx = x.to(Device::cuda());
    Tensor s = Tensor::empty({1}), gs = Tensor::empty({1}, Device::cuda());
    kernels::sum_all(x, s);
    kernels::sum_all(gx, gs);
    EXPECT_CLOSE(gs, s, 1e-5, 1e-5);
    Tensor again = Tensor::empty({1}, Device::cuda());
    kernels::sum_all(gx, again);
    EXPECT_BITWISE_EQ(again, gs);
  }
}

}  // namespace
}  // namespace cs
