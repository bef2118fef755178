// Turning features back into pictures: L-BFGS, DeepDream, style transfer.
#include <cmath>

#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "models/netspec.h"
#include "tests/common/test_util.h"
#include "viz/deepdream.h"
#include "viz/lbfgs.h"
#include "viz/style_transfer.h"

namespace cs {
namespace {

// f(x) = sum_i a_i (x_i - c_i)^2, minimum 0 at c.
TEST(Lbfgs, ConvergesOnAConvexQuadratic) {
  const int64_t n = 50;
  const Tensor a = testing::random_tensor({n}, testing::seed_for("a"), 0.5, 20.0);  // badly scaled
  const Tensor c = testing::random_tensor({n}, testing::seed_for("c"), -3, 3);
  const viz::Objective f = [&](const Tensor& x, Tensor& grad) {
    Tensor d = Tensor::empty_like(x), ad = Tensor::empty_like(x), sq = Tensor::empty_like(x);
    kernels::sub(x, c, d);
    kernels::mul(a, d, ad);
    kernels::scale(ad, 2.0, grad);
    kernels::mul(ad, d, sq);
    Tensor total = Tensor::empty({1});
    kernels::sum_all(sq, total);
    return total.item();
  };
  Tensor x = Tensor::zeros({n});
  viz::LbfgsOptions o;
  o.max_iterations = 200;
  const viz::LbfgsResult r = viz::lbfgs_minimize(f, x, o);
  EXPECT_LT(r.loss, 1e-8);
  EXPECT_CLOSE(x, c, 1e-4, 1e-4);
  EXPECT_LT(r.iterations, 100) << "quasi-Newton, not steepest descent";
  for (size_t i = 1; i < r.history.size(); ++i) EXPECT_LE(r.history[i], r.history[i - 1]);
}

TEST(DeepDream, TheObjectiveRisesAtEveryStep) {
  models::Model m = models::build_model(models::load_net_spec("fashion-cnn"), 2);
  const Tensor image = testing::random_tensor({1, 28, 28}, testing::seed_for(), -1, 1);
  viz::DreamOptions o;
  o.layer = "features.6";
  o.octaves = 2;
  o.steps = 8;
  o.jitter = 0;
  o.step_size = 0.01;
  const viz::DreamResult r = viz::deep_dream(*m.net, image, o);
  ASSERT_EQ(r.objective.size(), 2u);
  for (const auto& octave : r.objective)
    for (size_t i = 1; i < octave.size(); ++i) EXPECT_GT(octave[i], octave[i - 1]) << "step " << i;
  EXPECT_EQ(r.image.shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(r.octave_images[0].shape(), (Shape{1, 20, 20}));  // 28 / 1.4
  // Deterministic for a seed, with jitter on.
  o.jitter = 4;
  const viz::DreamResult a = viz::deep_dream(*m.net, image, o), b = viz::deep_dream(*m.net, image, o);
  EXPECT_BITWISE_EQ(a.image, b.image);
  o.channels = {3, 7};
  const viz::DreamResult c = viz::deep_dream(*m.net, image, o);
  EXPECT_FALSE(testing::all_equal(c.image, a.image));
  o.channels = {999};
  EXPECT_THROW(viz::deep_dream(*m.net, image, o), Error);
}

// With jitter off DeepDream is deterministic arithmetic: the GPU follows the CPU
// through every octave (bilinear resizes, gradient normalisation, clipping).
TEST(DeepDreamCuda, WithoutJitterMatchesTheCpu) {
  CS_REQUIRE_CUDA();
  models::Model m = models::build_model(models::load_net_spec("fashion-cnn"), 2);
  const Tensor image = testing::random_tensor({1, 28, 28}, testing::seed_for(), -1, 1);
  viz::DreamOptions o;
  o.layer = "features.6";
  o.octaves = 2;
  o.steps = 5;
  o.jitter = 0;
  o.step_size = 0.01;
  o.channels = {3, 7, 11};
  o.clip_low = -0.9;
  o.clip_high = 2.0;
  const viz::DreamResult cpu = viz::deep_dream(*m.net, image, o);
  m.net->to(Device::cuda());
  const viz::DreamResult gpu = viz::deep_dream(*m.net, image.to(Device::cuda()), o);
  m.net->to(Device::cpu());
  EXPECT_CLOSE(gpu.image, cpu.image, 1e-4, 1e-3);
  ASSERT_EQ(gpu.octave_images.size(), cpu.octave_images.size());
  for (size_t k = 0; k < cpu.octave_images.size(); ++k) EXPECT_CLOSE(gpu.octave_images[k], cpu.octave_images[k], 1e-4, 1e-3);
  ASSERT_EQ(gpu.objective.size(), cpu.objective.size());
  for (size_t k = 0; k < cpu.objective.size(); ++k)
    for (size_t i = 0; i < cpu.objective[k].size(); ++i)
      EXPECT_NEAR(gpu.objective[k][i], cpu.objective[k][i], 1e-3 * std::abs(cpu.objective[k][i]) + 1e-6) << k << "," << i;
}

viz::StyleOptions small_style() {
  viz::StyleOptions o;
  o.content_layer = "features.6";
  o.style_layers = {"features.2", "features.6"};
  o.style_weight = 1e3;
  o.steps = 15;
  return o;
}

TEST(StyleTransfer, StyleLossOfAnImageAgainstItselfIsZero) {
  models::Model m = models::build_model(models::load_net_spec("fashion-cnn"), 2);
  const Tensor image = testing::random_tensor({1, 28, 28}, testing::seed_for(), -1, 1);
  const viz::StyleLosses l = viz::style_losses(*m.net, image, image, image, small_style());
  EXPECT_EQ(l.style, 0.0);
  EXPECT_EQ(l.content, 0.0);
  EXPECT_GT(l.tv, 0.0);
}

TEST(StyleTransfer, StyleLossFallsWhileContentStaysBounded) {
  models::Model m = models::build_model(models::load_net_spec("fashion-cnn"), 2);
  const Tensor content = testing::random_tensor({1, 28, 28}, testing::seed_for("content"), -1, 1);
  const Tensor style = testing::random_tensor({1, 20, 20}, testing::seed_for("style"), -2, 2);
  for (const char* optimizer : {"lbfgs", "adam"}) {
    SCOPED_TRACE(optimizer);
    viz::StyleOptions o = small_style();
    o.optimizer = optimizer;
    o.frame_every = 5;
    const viz::StyleResult r = viz::style_transfer(*m.net, content, style, o);
    ASSERT_FALSE(r.history.empty());
    const viz::StyleLosses start = viz::style_losses(*m.net, content, content, style, o);
    EXPECT_LT(r.history.back().style, start.style / 3) << "style loss falls by 3x";
    EXPECT_LT(r.history.back().content, start.style) << "content stays bounded";
    EXPECT_EQ(r.image.shape(), (Shape{1, 28, 28}));
    EXPECT_FALSE(r.frames.empty());
    // Deterministic.
    const viz::StyleResult again = viz::style_transfer(*m.net, content, style, o);
    EXPECT_BITWISE_EQ(again.image, r.image);
  }
}

}  // namespace
}  // namespace cs
