// Bilinear resize (align_corners = false): PyTorch's values by hand, the
// backward as the forward's adjoint and by gradcheck, the GPU's per-element
// formulations on the host, and the CUDA kernels against the CPU reference.
#include <set>
#include <string>
#include <vector>

#include "kernels/resize_impl.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using testing::random_tensor;
using testing::seed_for;

struct Seeds {
  uint64_t base;
  uint64_t count = 0;
  uint64_t next() { return base + 0x9E3779B97F4A7C15ull * ++count; }
};

Tensor resize(const Tensor& x, int64_t h2, int64_t w2) {
  Tensor y = Tensor::empty({x.dim(0), x.dim(1), h2, w2}, x.device(), x.dtype());
  kernels::resize_bilinear_forward(x, y);
  return y;
}

Tensor resize_backward(const Tensor& gy, const Shape& x_shape) {
  Tensor gx = Tensor::empty(x_shape, gy.device(), gy.dtype());
  kernels::resize_bilinear_backward(gy, gx);
  return gx;
}

Tensor floats(const std::vector<float>& v, const Shape& s) { return Tensor::from_vector(v, s); }
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }

TEST(Resize, UpscalesTwoByTwoAsPyTorch) {
  // F.interpolate(x, size=(4, 4), mode="bilinear", align_corners=False):
  // sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 along each axis.
  Tensor x = floats({1, 2, 3, 4}, {1, 1, 2, 2});
  EXPECT_EQ(values(resize(x, 4, 4)), (std::vector<float>{1.0f, 1.25f, 1.75f, 2.0f,  //
                                                         1.5f, 1.75f, 2.25f, 2.5f,  //
                                                         2.5f, 2.75f, 3.25f, 3.5f,  //
                                                         3.0f, 3.25f, 3.75f, 4.0f}));
}

TEST(Resize, DownscalesBetweenNeighbours) {
  // 4 -> 2: sources 0.5 and 2.5, the means of 2x2 blocks.
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i + 1);
  EXPECT_EQ(values(resize(floats(v, {1, 1, 4, 4}), 2, 2)),
            (std::vector<float>{3.5f, 5.5f, 11.5f, 13.5f}));
  // 3 -> 2: sources 0.25 and 1.75.
  EXPECT_EQ(values(resize(floats({0, 4, 8}, {1, 1, 1, 3}), 1, 2)), (std::vector<float>{1, 7}));
  // Any size -> 1 samples the centre: source (in - 1) / 2.
  EXPECT_EQ(values(resize(floats({0, 4, 8, 12}, {1, 1, 1, 4}), 1, 1)), (std::vector<float>{6}));
}

TEST(Resize, SameSizeIsTheIdentityAndOnePixelIsConstant) {
  Tensor x = random_tensor({2, 3, 7, 13}, seed_for("x"));
  EXPECT_BITWISE_EQ(resize(x, 7, 13), x);
  Tensor one = floats({2.5f, -1}, {1, 2, 1, 1});
  std::vector<float> expected(15, 2.5f);
  expected.insert(expected.end(), 15, -1.0f);
  EXPECT_EQ(values(resize(one, 3, 5)), expected);
}

TEST(Resize, BackwardOfOnesSumsEachInputsWeights) {
  // 2 -> 4 along an axis: each input row collects weights 1 + 0.75 + 0.25 = 2.
  Tensor gy = Tensor::full({1, 1, 4, 4}, 1.0);
  EXPECT_EQ(values(resize_backward(gy, {1, 1, 2, 2})), (std::vector<float>{4, 4, 4, 4}));
  // 4 -> 2: the four inputs of each block get a quarter each.
  Tensor g2 = floats({4, 8, 12, 16}, {1, 1, 2, 2});
  EXPECT_EQ(values(resize_backward(g2, {1, 1, 4, 4})),
            (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

// Sizes along one axis: identity, up, down, by whole and fractional factors, from and to 1.
const std::vector<std::pair<int, int>> kAxisPairs{{1, 1}, {1, 3},  {3, 1},  {2, 4},   {4, 2},
                                                  {3, 5}, {5, 3},  {7, 13}, {13, 7},  {5, 5},
                                                  {2, 9}, {31, 33}, {33, 31}, {7, 129}, {129, 33}};

double dot(const Tensor& a, const Tensor& b) {
  const std::vector<double> u = a.to_double_vector(), v = b.to_double_vector();
  double s = 0;
  for (size_t i = 0; i < u.size(); ++i) s += u[i] * v[i];
  return s;
}

TEST(Resize, BackwardIsTheAdjointOfTheForward) {
  Seeds seeds{seed_for()};
  for (size_t a = 0; a < kAxisPairs.size(); ++a) {
    const auto [h, h2] = kAxisPairs[a];
    const auto [w, w2] = kAxisPairs[(a * 7 + 3) % kAxisPairs.size()];
    SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w) + " -> " + std::to_string(h2) + "x" +
                 std::to_string(w2));
    Tensor x = random_tensor({2, 2, h, w}, seeds.next(), -1, 1, Device::cpu(), DType::F64);
    Tensor g = random_tensor({2, 2, h2, w2}, seeds.next(), -1, 1, Device::cpu(), DType::F64);
    const double lhs = dot(resize(x, h2, w2), g), rhs = dot(x, resize_backward(g, x.shape()));
    EXPECT_NEAR(lhs, rhs, 1e-12 * (1 + std::abs(lhs)));
  }
}

TEST(Resize, GradcheckInDouble) {
  for (auto [shape, h2, w2] : {std::tuple{Shape{2, 2, 3, 5}, 7, 4}, std::tuple{Shape{1, 2, 6, 4}, 4, 9},
                               std::tuple{Shape{1, 1, 1, 3}, 2, 2}}) {
    SCOPED_TRACE(shape_str(shape));
    auto forward = [&](const std::vector<Tensor>& in) { return resize(in[0], h2, w2); };
    auto backward = [&](const std::vector<Tensor>& in, const Tensor& gy) {
      return std::vector<Tensor>{resize_backward(gy, in[0].shape())};
    };
    EXPECT_TRUE(testing::gradcheck(forward, backward, {testing::away_from_zero(shape, seed_for("x"))}));
  }
}

TEST(Resize, RejectsBadArguments) {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  Tensor y_c = Tensor::empty({2, 4, 8, 8});
  EXPECT_THROW(kernels::resize_bilinear_forward(x, y_c), Error);
  Tensor y_empty = Tensor::empty({2, 3, 0, 8});
  EXPECT_THROW(kernels::resize_bilinear_forward(x, y_empty), Error);
  Tensor y3 = Tensor::empty({2, 3, 8});
  EXPECT_THROW(kernels::resize_bilinear_forward(x, y3), Error);
  Tensor yd = Tensor::empty({2, 3, 8, 8}, Device::cpu(), DType::F64);
  EXPECT_THROW(kernels::resize_bilinear_forward(x, yd), Error);
  Tensor same = Tensor::zeros({2, 3, 4, 4});
  EXPECT_THROW(kernels::resize_bilinear_forward(same, same), Error);  // aliasing
  Tensor gx = Tensor::empty({2, 3, 0, 4});
  EXPECT_THROW(kernels::resize_bilinear_backward(Tensor::zeros({2, 3, 8, 8}), gx), Error);
  Tensor empty_batch = Tensor::empty({0, 3, 4, 4});
  EXPECT_EQ(resize(empty_batch, 9, 9).numel(), 0);
  EXPECT_EQ(resize_backward(Tensor::empty({0, 3, 9, 9}), {0, 3, 4, 4}).numel(), 0);
}

// ---- the GPU's formulations, run on the host --------------------------------------------

TEST(ResizeGpuFormulation, OutputRunsAreExact) {
  // For every input index, [first, last] must be exactly the outputs whose
  // rounded taps touch it.
  std::vector<int> sizes;
  for (int n = 1; n <= 40; ++n) sizes.push_back(n);
  for (int n : {55, 64, 100, 129, 224, 227, 1000}) sizes.push_back(n);
  // Besides the true scale, scales off by 0.1% move the exact-arithmetic
  // guess away from the rounded mapping, so both corrections run.
  for (int in : sizes)
    for (int out : sizes)
      for (float stretch : {1.0f, 1.001f, 0.999f}) {
        const float scale = static_cast<float>(in) / static_cast<float>(out) * stretch;
        std::vector<std::set<int>> touching(in);
        for (int o = 0; o < out; ++o) {
          const auto t = kernels::bilinear::tap(o, in, scale);
          touching[t.i0].insert(o);
          touching[t.i1].insert(o);
        }
        for (int i = 0; i < in; ++i) {
          int first = 0, last = 0;
          kernels::bilinear::outputs_touching(i, in, out, scale, first, last);
          std::set<int> run;
          for (int o = first; o <= last; ++o) run.insert(o);
          ASSERT_EQ(run, touching[i]) << "in " << in << ", out " << out << ", input " << i;
        }
      }
}

TEST(ResizeGpuFormulation, MatchesTheCpuReferenceBitwiseOnTheHost) {
  Seeds seeds{seed_for()};
  for (size_t a = 0; a < kAxisPairs.size(); ++a)
    for (size_t b : {a, (a * 5 + 1) % kAxisPairs.size()}) {
      const auto [h, h2] = kAxisPairs[a];
      const auto [w, w2] = kAxisPairs[b];
      SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w) + " -> " + std::to_string(h2) + "x" +
                   std::to_string(w2));
      const Shape shape{2, 2, h, w};
      Tensor x = random_tensor(shape, seeds.next());
      Tensor ref = resize(x, h2, w2);
      Tensor gy = random_tensor(ref.shape(), seeds.next());
      Tensor ref_gx = resize_backward(gy, shape);
      kernels::ResizeGeometry g;
      g.planes = 4;
      g.in_h = h;
      g.in_w = w;
      g.out_h = h2;
      g.out_w = w2;
      const float sh = static_cast<float>(h) / static_cast<float>(h2);
      const float sw = static_cast<float>(w) / static_cast<float>(w2);
      Tensor y = Tensor::empty_like(ref), gx = Tensor::empty(shape);
      for (int64_t pl = 0; pl < g.planes; ++pl) {
        for (int oh = 0; oh < h2; ++oh)
          for (int ow = 0; ow < w2; ++ow)
            y.data<float>()[pl * h2 * w2 + oh * w2 + ow] =
                kernels::bilinear::forward_at(x.data<float>() + pl * h * w, oh, ow, g, sh, sw);
        for (int ih = 0; ih < h; ++ih)
          for (int iw = 0; iw < w; ++iw)
            gx.data<float>()[pl * h * w + ih * w + iw] =
                kernels::bilinear::backward_at(gy.data<float>() + pl * h2 * w2, ih, iw, g, sh, sw);
      }
      EXPECT_BITWISE_EQ(y, ref);
      EXPECT_BITWISE_EQ(gx, ref_gx);
    }
}

// ---- CUDA against the CPU reference ------------------------------------------------------

TEST(ResizeCuda, MatchesCpuBitwiseAndIsDeterministic) {
  CS_REQUIRE_CUDA();
  Seeds seeds{seed_for()};
  std::vector<std::tuple<Shape, int64_t, int64_t>> cases;
  for (size_t a = 0; a < kAxisPairs.size(); ++a) {
    const auto [h, h2] = kAxisPairs[a];
    const auto [w, w2] = kAxisPairs[(a * 5 + 1) % kAxisPairs.size()];
    cases.push_back({Shape{a % 2 ? 1 : 3, 2, h, w}, h2, w2});
  }
  cases.push_back({Shape{2, 3, 224, 224}, 227, 227});  // a viz resize
  cases.push_back({Shape{2, 16, 13, 13}, 224, 224});   // Grad-CAM style upsampling
  cases.push_back({Shape{1, 3, 129, 31}, 33, 129});
  for (const auto& [shape, h2, w2] : cases) {
    SCOPED_TRACE(shape_str(shape) + " -> " + std::to_string(h2) + "x" + std::to_string(w2));
    Tensor x = random_tensor(shape, seeds.next());
    Tensor ref = resize(x, h2, w2);
    EXPECT_BITWISE_EQ(resize(x.to(Device::cuda()), h2, w2).to(Device::cpu()), ref);
    Tensor gy = random_tensor(ref.shape(), seeds.next());
    Tensor ref_gx = resize_backward(gy, shape);
    Tensor ggy = gy.to(Device::cuda());
    Tensor gpu_gx = resize_backward(ggy, shape).to(Device::cpu());
    EXPECT_BITWISE_EQ(gpu_gx, ref_gx);
    EXPECT_BITWISE_EQ(resize_backward(ggy, shape).to(Device::cpu()), gpu_gx);
  }
}

TEST(ResizeCuda, EmptyBatchIsANoOp) {
  CS_REQUIRE_CUDA();
  Tensor x = Tensor::empty({0, 3, 4, 4}, Device::cuda());
  EXPECT_EQ(resize(x, 9, 9).numel(), 0);
  EXPECT_EQ(resize_backward(Tensor::empty({0, 3, 9, 9}, Device::cuda()), x.shape()).numel(), 0);
}

}  // namespace
}  // namespace cs
