// Gram matrices G[n] = F[n] F[n]^T / (H*W): hand cases, symmetry, gradcheck,
// and the GPU kernel (upper-triangle tiles mirrored, split features) against
// the CPU.
#include <string>

#include "kernels/gram.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using testing::random_tensor;
using testing::seed_for;

const Device kCpu = Device::cpu();

// prefix + rest, without GCC 12's false -Wrestrict on "literal" + std::string.
std::string tagged(const char* prefix, const std::string& rest) {
  std::string out(prefix);
  out += rest;
  return out;
}

// G[n](a, b) vs G[n](b, a) within tol (bitwise when tol == 0).
void expect_symmetric(const Tensor& g, double tol) {
  const int64_t n = g.dim(0), c = g.dim(1);
  const std::vector<double> v = g.to_double_vector();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t a = 0; a < c; ++a)
      for (int64_t b = a + 1; b < c; ++b) {
        const double x = v[(i * c + a) * c + b], y = v[(i * c + b) * c + a];
        if (tol == 0)
          ASSERT_EQ(x, y) << "image " << i << " (" << a << ", " << b << ")";
        else
          ASSERT_NEAR(x, y, tol) << "image " << i << " (" << a << ", " << b << ")";
      }
}

TEST(Gram, HandCase) {
  // Image 0: F = [[1, 2], [3, 4]] as (C = 2, H*W = 2): G = [[5, 11], [11, 25]] / 2.
  // Image 1: F = [[1, 0], [0, -2]]: G = [[1, 0], [0, 4]] / 2.
  Tensor f = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 1, 0, 0, -2}, {2, 2, 1, 2});
  Tensor g = Tensor::empty({2, 2, 2});
  kernels::gram_forward(f, g);
  EXPECT_EQ(g.to_vector<float>(), (std::vector<float>{2.5f, 5.5f, 5.5f, 12.5f, 0.5f, 0, 0, 2}));
}

TEST(Gram, BackwardHandCase) {
  // F = [[1, 2], [3, 4]], gG = [[1, 0], [2, 0]]: gG + gG^T = [[2, 2], [2, 0]],
  // gF = [[2, 2], [2, 0]] F / 2 = [[4, 6], [1, 2]].
  Tensor f = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {1, 2, 2, 1});
  Tensor gg = Tensor::from_vector(std::vector<float>{1, 0, 2, 0}, {1, 2, 2});
  Tensor gf = Tensor::full({1, 2, 2, 1}, 99.0);  // overwritten, not accumulated into
  kernels::gram_backward(f, gg, gf);
  EXPECT_EQ(gf.to_vector<float>(), (std::vector<float>{4, 6, 1, 2}));
}

TEST(Gram, SymmetricWithAPositiveDiagonal) {
  Tensor f = random_tensor({3, 5, 4, 3}, seed_for("f"), -1, 1, kCpu, DType::F64);
  Tensor g = Tensor::empty({3, 5, 5}, kCpu, DType::F64);
  kernels::gram_forward(f, g);
  expect_symmetric(g, 1e-15);
  const std::vector<double> v = g.to_vector<double>();
  const std::vector<double> fv = f.to_vector<double>();
  // The diagonal is the mean square of each channel.
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t a = 0; a < 5; ++a) {
      double mean_square = 0;
      for (int64_t p = 0; p < 12; ++p) mean_square += fv[(i * 5 + a) * 12 + p] * fv[(i * 5 + a) * 12 + p];
      EXPECT_NEAR(v[(i * 5 + a) * 5 + a], mean_square / 12, 1e-14);
    }
}

TEST(Gram, Gradcheck) {
  auto forward = [](const std::vector<Tensor>& in) {
    Tensor g = Tensor::empty({in[0].dim(0), in[0].dim(1), in[0].dim(1)}, kCpu, DType::F64);
    kernels::gram_forward(in[0], g);
    return g;
  };
  auto backward = [](const std::vector<Tensor>& in, const Tensor& gg) {
    Tensor gf = Tensor::empty_like(in[0]);
    kernels::gram_backward(in[0], gg, gf);
    return std::vector<Tensor>{gf};
  };
  EXPECT_TRUE(testing::gradcheck(forward, backward,
                                 {random_tensor({2, 3, 2, 3}, seed_for("f"), -1, 1, kCpu, DType::F64)}));
}

TEST(Gram, RejectsBadShapes) {
  Tensor f = Tensor::zeros({1, 3, 2, 2});
  Tensor wrong = Tensor::empty({1, 3, 4});
  EXPECT_THROW(kernels::gram_forward(f, wrong), Error);
  Tensor flat = Tensor::zeros({3, 4}), g = Tensor::empty({1, 3, 3});
  EXPECT_THROW(kernels::gram_forward(flat, g), Error);
  Tensor empty_maps = Tensor::zeros({1, 3, 0, 2});
  EXPECT_THROW(kernels::gram_forward(empty_maps, g), Error);
  Tensor gf = Tensor::empty({1, 3, 2, 1});
  EXPECT_THROW(kernels::gram_backward(f, g, gf), Error);
}

// ---- GPU against the CPU ----------------------------------------------------------------------

struct GramShape {
  int64_t n, c, h, w;
};
// Off-tile channel counts (tiles of 64), a single channel, long feature maps
// (the split path: AlexNet conv1 features (1, 64, 55, 55)), AlexNet conv5
// features (1, 256, 13, 13), batches.
const GramShape kShapes[] = {{1, 1, 1, 1},    {1, 7, 3, 5},    {2, 13, 4, 4},   {1, 31, 7, 7},
                             {3, 33, 5, 3},   {1, 64, 55, 55}, {1, 65, 9, 9},   {2, 129, 13, 13},
                             {1, 256, 13, 13}, {1, 3, 129, 33}, {5, 20, 1, 1}};

std::string name(const GramShape& s) {
  return "(" + std::to_string(s.n) + ", " + std::to_string(s.c) + ", " + std::to_string(s.h) + ", " +
         std::to_string(s.w) + ")";
}

TEST(GramCuda, ForwardMatchesCpuAndIsExactlySymmetric) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (const GramShape& s : kShapes) {
    SCOPED_TRACE(name(s));
    Tensor f = random_tensor({s.n, s.c, s.h, s.w}, seed_for(tagged("f", name(s))), -1, 1);
    Tensor g = Tensor::empty({s.n, s.c, s.c}), gg = Tensor::empty({s.n, s.c, s.c}, gpu);
    kernels::gram_forward(f, g);
    kernels::gram_forward(f.to(gpu), gg);
    // Entries are means of H*W products of values in [-1, 1].
    EXPECT_CLOSE(gg.to(kCpu), g, 2e-6, 1e-4);
    expect_symmetric(gg.to(kCpu), 0.0);
  }
}

TEST(GramCuda, ForwardIsExactOnSmallIntegers) {
  CS_REQUIRE_CUDA();
  // Integer features: every partial sum is exact in float32, so the tiled,
  // split and mirrored kernel must give the exact sums; only the final
  // scaling by 1 / (H*W) rounds. Compare with the exact sums times the scale.
  const Device gpu = Device::cuda();
  for (const GramShape& s : {GramShape{1, 64, 55, 55}, GramShape{2, 70, 6, 6}}) {
    SCOPED_TRACE(name(s));
    const int64_t hw = s.h * s.w;
    Tensor f = testing::random_integers({s.n, s.c, s.h, s.w}, seed_for(tagged("f", name(s))), -3, 3);
    Tensor gg = Tensor::empty({s.n, s.c, s.c}, gpu);
    kernels::gram_forward(f.to(gpu), gg);
    const std::vector<float> fv = f.to_vector<float>();
    std::vector<float> expected(static_cast<size_t>(s.n * s.c * s.c));
    const float scale = static_cast<float>(1.0 / static_cast<double>(hw));
    for (int64_t i = 0; i < s.n; ++i)
      for (int64_t a = 0; a < s.c; ++a)
        for (int64_t b = 0; b < s.c; ++b) {
          float sum = 0;  // exact: integers below 2^24
          for (int64_t p = 0; p < hw; ++p) sum += fv[(i * s.c + a) * hw + p] * fv[(i * s.c + b) * hw + p];
          expected[(i * s.c + a) * s.c + b] = sum * scale;
        }
    EXPECT_BITWISE_EQ(gg.to(kCpu), Tensor::from_vector(expected, {s.n, s.c, s.c}));
  }
}

TEST(GramCuda, BackwardMatchesCpu) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (const GramShape& s : kShapes) {
    SCOPED_TRACE(name(s));
    Tensor f = random_tensor({s.n, s.c, s.h, s.w}, seed_for(tagged("f", name(s))), -1, 1);
    Tensor gg = random_tensor({s.n, s.c, s.c}, seed_for(tagged("g", name(s))), -1, 1);
    Tensor gf = Tensor::empty(f.shape()), gfg = Tensor::full(f.shape(), 7.0, gpu);
    kernels::gram_backward(f, gg, gf);
    kernels::gram_backward(f.to(gpu), gg.to(gpu), gfg);
    // Entries: sums of C products of magnitude <= 2, divided by H*W.
    const double atol = 2e-6 * static_cast<double>(s.c) / static_cast<double>(s.h * s.w);
    EXPECT_CLOSE(gfg.to(kCpu), gf, atol, 1e-4);
  }
}

TEST(GramCuda, Deterministic) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (const GramShape& s : {GramShape{1, 64, 55, 55}, GramShape{2, 129, 13, 13}}) {
    SCOPED_TRACE(name(s));
    Tensor f = random_tensor({s.n, s.c, s.h, s.w}, seed_for("f"), -1, 1, gpu);
    Tensor a = Tensor::empty({s.n, s.c, s.c}, gpu), b = Tensor::empty({s.n, s.c, s.c}, gpu);
    kernels::gram_forward(f, a);
    kernels::gram_forward(f, b);
    EXPECT_BITWISE_EQ(a.to(kCpu), b.to(kCpu));
    Tensor gf_a = Tensor::empty(f.shape(), gpu), gf_b = Tensor::empty(f.shape(), gpu);
    kernels::gram_backward(f, a, gf_a);
    kernels::gram_backward(f, a, gf_b);
    EXPECT_BITWISE_EQ(gf_a.to(kCpu), gf_b.to(kCpu));
  }
}

}  // namespace
}  // namespace cs
