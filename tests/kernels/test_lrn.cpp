// Local response normalization: PyTorch's channel window by hand (odd and
// even sizes, sizes beyond the channel count), gradcheck in double, and the
// CUDA kernels against the CPU reference.
#include <cmath>
#include <string>
#include <vector>

#include "kernels/lrn_impl.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using kernels::LrnArgs;
using testing::random_tensor;
using testing::seed_for;

LrnArgs lrn_args(int size, double alpha, double beta, double k) {
  LrnArgs a;
  a.size = size;
  a.alpha = alpha;
  a.beta = beta;
  a.k = k;
  return a;
}

struct LrnOut {
  Tensor y, scale;
};

LrnOut lrn(const Tensor& x, const LrnArgs& a) {
  LrnOut r{Tensor::empty_like(x), Tensor::empty_like(x)};
  kernels::lrn_forward(x, r.y, r.scale, a);
  return r;
}

Tensor lrn_backward(const Tensor& x, const LrnOut& f, const Tensor& gy, const LrnArgs& a) {
  Tensor gx = Tensor::empty_like(x);
  kernels::lrn_backward(x, f.y, f.scale, gy, gx, a);
  return gx;
}

std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }

TEST(Lrn, HandValuesOddWindow) {
  // size 3: channels c-1..c+1; alpha/size = 1, beta = 1, k = 1.
  // Pixel 0 holds x = (1, 2, 3) over the channels, pixel 1 x = (0, -1, 2).
  Tensor x = Tensor::from_vector(std::vector<float>{1, 0, 2, -1, 3, 2}, {1, 3, 1, 2});
  LrnOut r = lrn(x, lrn_args(3, 3.0, 1.0, 1.0));
  // scale: 1 + (1 + 4), 1 + (1 + 4 + 9), 1 + (4 + 9); and 1 + 1, 1 + 1 + 4, 1 + 1 + 4.
  EXPECT_EQ(values(r.scale), (std::vector<float>{6, 2, 15, 6, 14, 6}));
  EXPECT_EQ(values(r.y), (std::vector<float>{1.0f / 6, 0, 2.0f / 15, -1.0f / 6, 3.0f / 14, 2.0f / 6}));
}

TEST(Lrn, EvenWindowsLeanBackwardAndWideWindowsClip) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3}, {1, 3, 1, 1});
  // size 2: PyTorch's window is [c - 1, c] (size/2 before, (size-1)/2 after).
  LrnOut even = lrn(x, lrn_args(2, 2.0, 1.0, 1.0));
  EXPECT_EQ(values(even.scale), (std::vector<float>{2, 6, 14}));
  EXPECT_EQ(values(even.y), (std::vector<float>{0.5f, 2.0f / 6, 3.0f / 14}));
  // size 4: [c - 2, c + 1].
  LrnOut four = lrn(x, lrn_args(4, 4.0, 1.0, 1.0));
  EXPECT_EQ(values(four.scale), (std::vector<float>{6, 15, 15}));
  // size 1: each channel alone; size 7 covers all three channels everywhere.
  EXPECT_EQ(values(lrn(x, lrn_args(1, 1.0, 1.0, 1.0)).scale), (std::vector<float>{2, 5, 10}));
  EXPECT_EQ(values(lrn(x, lrn_args(7, 7.0, 1.0, 1.0)).scale), (std::vector<float>{15, 15, 15}));
}

TEST(Lrn, BetaIsAPower) {
  // scale = 0 + 4 = 4, y = 2 / 4^0.75 = 1 / sqrt(2).
  Tensor x = Tensor::from_vector(std::vector<double>{2}, {1, 1, 1, 1});
  LrnOut r = lrn(x, lrn_args(1, 1.0, 0.75, 0.0));
  EXPECT_EQ(r.scale.item(), 4.0);
  EXPECT_NEAR(r.y.item(), 1 / std::sqrt(2.0), 1e-15);
}

TEST(Lrn, GradcheckInDouble) {
  for (auto [channels, a] : {std::tuple{7, lrn_args(5, 0.5, 0.75, 2.0)}, std::tuple{7, lrn_args(2, 1.0, 0.75, 1.0)},
                             std::tuple{6, lrn_args(3, 2.0, 0.5, 1.5)}, std::tuple{3, lrn_args(6, 1.0, 0.75, 1.0)},
                             std::tuple{4, lrn_args(1, 1.0, 1.25, 1.0)}}) {
    const Shape shape{2, channels, 2, 3};
    const LrnArgs args = a;
    SCOPED_TRACE("C = " + std::to_string(channels) + ", size = " + std::to_string(args.size));
    auto forward = [&](const std::vector<Tensor>& in) { return lrn(in[0], args).y; };
    auto backward = [&](const std::vector<Tensor>& in, const Tensor& gy) {
      return std::vector<Tensor>{lrn_backward(in[0], lrn(in[0], args), gy, args)};
    };
    EXPECT_TRUE(testing::gradcheck(forward, backward, {testing::away_from_zero(shape, seed_for("x"))}));
  }
}

TEST(Lrn, RejectsBadArguments) {
  Tensor x = Tensor::zeros({2, 4, 3, 3});
  Tensor y = Tensor::empty_like(x), s = Tensor::empty_like(x);
  EXPECT_NO_THROW(kernels::lrn_forward(x, y, s, LrnArgs{}));
  EXPECT_THROW(kernels::lrn_forward(x, y, s, lrn_args(0, 1e-4, 0.75, 1)), Error);
  EXPECT_THROW(kernels::lrn_forward(x, y, s, lrn_args(5, std::nan(""), 0.75, 1)), Error);
  Tensor bad = Tensor::empty({2, 4, 3, 4});
  EXPECT_THROW(kernels::lrn_forward(x, bad, s, LrnArgs{}), Error);
  EXPECT_THROW(kernels::lrn_forward(x, y, bad, LrnArgs{}), Error);
  Tensor x3 = Tensor::zeros({4, 3, 3});
  Tensor y3 = Tensor::empty_like(x3), s3 = Tensor::empty_like(x3);
  EXPECT_THROW(kernels::lrn_forward(x3, y3, s3, LrnArgs{}), Error);
  EXPECT_THROW(kernels::lrn_forward(x, x, s, LrnArgs{}), Error);  // y aliases x
  EXPECT_THROW(kernels::lrn_forward(x, y, y, LrnArgs{}), Error);  // scale aliases y
  Tensor gy = Tensor::zeros({2, 4, 3, 3}), gx = Tensor::empty_like(x);
  EXPECT_NO_THROW(kernels::lrn_backward(x, y, s, gy, gx, LrnArgs{}));
  EXPECT_THROW(kernels::lrn_backward(x, y, s, bad, gx, LrnArgs{}), Error);
  EXPECT_THROW(kernels::lrn_backward(x, y, s, gy, bad, LrnArgs{}), Error);
  EXPECT_THROW(kernels::lrn_backward(x, y, s, gy, gy, LrnArgs{}), Error);  // gx aliases gy
  Tensor empty = Tensor::empty({0, 4, 3, 3});
  EXPECT_EQ(lrn(empty, LrnArgs{}).y.numel(), 0);
}

// ---- the GPU's formulations, run on the host --------------------------------------------

TEST(LrnGpuFormulation, MatchesTheCpuReferenceBitwiseOnTheHost) {
  const uint64_t base = seed_for();
  uint64_t n_seed = 0;
  for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{2, 3, 2, 3}, Shape{2, 7, 5, 1}, Shape{1, 13, 3, 3}})
    for (int size : {1, 2, 3, 5, 6, 15}) {
      SCOPED_TRACE(shape_str(shape) + " size " + std::to_string(size));
      const LrnArgs args = lrn_args(size, 1.0, 0.75, 2.0);
      Tensor x = random_tensor(shape, base + ++n_seed, -2, 2);
      Tensor gy = random_tensor(shape, base + ++n_seed);
      LrnOut ref = lrn(x, args);
      Tensor ref_gx = lrn_backward(x, ref, gy, args);
      const int channels = static_cast<int>(shape[1]);
      const uint32_t plane = static_cast<uint32_t>(shape[2] * shape[3]);
      const auto a = kernels::lrn::constants<float>(channels, args);
      LrnOut out{Tensor::empty_like(x), Tensor::empty_like(x)};
      Tensor gx = Tensor::empty_like(x);
      for (uint32_t i = 0; i < x.numel(); ++i) {
        const int c = static_cast<int>(i / plane % channels);
        float s = 0;
        out.y.data<float>()[i] = kernels::lrn::forward_at(x.data<float>() + (i - c * plane), c, plane, a, s);
        out.scale.data<float>()[i] = s;
      }
      for (uint32_t i = 0; i < x.numel(); ++i) {
        const int j = static_cast<int>(i / plane % channels);
        gx.data<float>()[i] = kernels::lrn::backward_at(x.data<float>(), ref.y.data<float>(),
                                                        ref.scale.data<float>(), gy.data<float>(),
                                                        i - j * plane, j, plane, a);
      }
      EXPECT_BITWISE_EQ(out.scale, ref.scale);
      EXPECT_BITWISE_EQ(out.y, ref.y);
      EXPECT_BITWISE_EQ(gx, ref_gx);
    }
}

// ---- CUDA against the CPU reference ------------------------------------------------------

TEST(LrnCuda, MatchesCpuAndIsDeterministic) {
  CS_REQUIRE_CUDA();
  const uint64_t base = seed_for();
  uint64_t n_seed = 0;
  auto next_seed = [&] { return base + 0x9E3779B97F4A7C15ull * ++n_seed; };
  struct Case {
    Shape shape;
    LrnArgs args;
  };
  std::vector<Case> cases;
  // Large alpha makes the window terms matter in y and in gx.
  for (const Shape& s : {Shape{1, 1, 1, 1}, Shape{2, 3, 7, 7}, Shape{1, 7, 13, 13}, Shape{2, 13, 31, 33},
                         Shape{1, 33, 1, 129}})
    for (int size : {1, 2, 5, 6}) cases.push_back({s, lrn_args(size, 1.0, 0.75, 2.0)});
  // AlexNet's LRN layers (k = 2, n = 5, alpha = 1e-4, beta = 0.75), small batch.
  cases.push_back({{2, 96, 55, 55}, lrn_args(5, 1e-4, 0.75, 2.0)});
  cases.push_back({{2, 256, 27, 27}, lrn_args(5, 1e-4, 0.75, 2.0)});
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_str(c.shape) + " size " + std::to_string(c.args.size));
    Tensor x = random_tensor(c.shape, next_seed(), -2, 2);
    LrnOut ref = lrn(x, c.args);
    Tensor xg = x.to(Device::cuda());
    LrnOut gpu = lrn(xg, c.args);
    EXPECT_BITWISE_EQ(gpu.scale.to(Device::cpu()), ref.scale);  // same sums, same order
    EXPECT_CLOSE(gpu.y.to(Device::cpu()), ref.y, 1e-6, 1e-5);   // powf vs the host's pow
    Tensor gy = random_tensor(c.shape, next_seed());
    Tensor ref_gx = lrn_backward(x, ref, gy, c.args);
    Tensor ggy = gy.to(Device::cuda());
    Tensor gpu_gx = lrn_backward(xg, gpu, ggy, c.args).to(Device::cpu());
    EXPECT_CLOSE(gpu_gx, ref_gx, 1e-5, 1e-5);
    EXPECT_BITWISE_EQ(lrn_backward(xg, gpu, ggy, c.args).to(Device::cpu()), gpu_gx);
    EXPECT_BITWISE_EQ(lrn(xg, c.args).y.to(Device::cpu()), gpu.y.to(Device::cpu()));
  }
}

TEST(LrnCuda, EmptyBatchIsANoOp) {
  CS_REQUIRE_CUDA();
  Tensor x = Tensor::empty({0, 4, 3, 3}, Device::cuda());
  LrnOut r = lrn(x, LrnArgs{});
  EXPECT_EQ(lrn_backward(x, r, Tensor::empty_like(x), LrnArgs{}).numel(), 0);
}

}  // namespace
}  // namespace cs
