// Why did it decide that: ground truth from constructed networks.
#include "layers/activation.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "models/netspec.h"
#include "tests/common/test_util.h"
#include "viz/attribution.h"
#include "viz/class_model.h"
#include "viz/occlusion.h"

namespace cs {
namespace {

constexpr int64_t kSize = 8;  // images 1 x 8 x 8; the top-left 4 x 4 quadrant matters

bool in_quadrant(int64_t h, int64_t w) { return h < kSize / 2 && w < kSize / 2; }

// 1x1 conv (2 channels) -> ReLU -> flatten -> linear (3 classes) whose
// weights are zero outside the top-left quadrant: the scores see only it.
std::shared_ptr<nn::Sequential> quadrant_net() {
  auto net = std::make_shared<nn::Sequential>();
  nn::Conv2dOptions o;
  o.out_channels = 2;
  o.kernel_h = o.kernel_w = 1;
  o.bias = false;
  auto conv = std::make_shared<nn::Conv2d>(o);
  conv->weight().value().copy_from(Tensor::from_vector(std::vector<float>{1.0f, 0.5f}, {2, 1, 1, 1}));
  auto linear = std::make_shared<nn::Linear>(2 * kSize * kSize, 3, false);
  std::vector<float> w(static_cast<size_t>(3 * 2 * kSize * kSize), 0.0f);
  for (int k = 0; k < 3; ++k)
    for (int c = 0; c < 2; ++c)
      for (int64_t h = 0; h < kSize; ++h)
        for (int64_t x = 0; x < kSize; ++x)
          if (in_quadrant(h, x))
            w[static_cast<size_t>(((k * 2 + c) * kSize + h) * kSize + x)] = 0.1f * (k + 1) * ((h + x) % 3 + 1) * (c ? -1.0f : 1.0f);
  linear->weight().value().copy_from(Tensor::from_vector(w, {3, 2 * kSize * kSize}));
  net->add("conv", conv);
  net->add("relu", std::make_shared<nn::ReLU>());
  net->add("flatten", std::make_shared<nn::Flatten>());
  net->add("fc", linear);
  return net;
}

// Positive pixels inside the quadrant, zero elsewhere.
Tensor quadrant_image(uint64_t seed) {
  std::vector<float> v(kSize * kSize, 0.0f);
  const Tensor r = testing::random_tensor({kSize * kSize}, seed, 0.2, 1.0);
  const std::vector<float> rv = r.to_vector<float>();
  for (int64_t h = 0; h < kSize; ++h)
    for (int64_t w = 0; w < kSize; ++w)
      if (in_quadrant(h, w)) v[h * kSize + w] = rv[h * kSize + w];
  return Tensor::from_vector(v, {1, 1, kSize, kSize});
}

TEST(Attribution, SaliencyAndGradCamLiveInTheQuadrant) {
  auto net = quadrant_net();
  const Tensor image = quadrant_image(testing::seed_for());
  const viz::InputGradients s = viz::class_gradients(*net, image, {2}, ag::ReluRule::Standard);
  const viz::GradCam cam = viz::grad_cam(*net, image, {2}, "relu");
  const std::vector<float> maps = s.maps.to_vector<float>(), cams = cam.maps.to_vector<float>();
  for (int64_t h = 0; h < kSize; ++h)
    for (int64_t w = 0; w < kSize; ++w) {
      const size_t i = static_cast<size_t>(h * kSize + w);
      if (in_quadrant(h, w)) {
        EXPECT_GT(maps[i], 0.0f) << h << "," << w;
      } else {
        EXPECT_EQ(maps[i], 0.0f) << h << "," << w;
        EXPECT_EQ(cams[i], 0.0f) << h << "," << w;
      }
    }
  float cam_inside = 0;
  for (int64_t h = 0; h < kSize / 2; ++h)
    for (int64_t w = 0; w < kSize / 2; ++w) cam_inside += cams[static_cast<size_t>(h * kSize + w)];
  EXPECT_GT(cam_inside, 0.0f);
  EXPECT_EQ(s.classes, std::vector<int>{2});
}

TEST(Attribution, OcclusionOutsideTheQuadrantChangesNothing) {
  auto net = quadrant_net();
  const Tensor image = quadrant_image(testing::seed_for()).reshape({1, kSize, kSize});
  models::DataSource source;
  source.mean = {0.3f};
  source.std = {0.5f};
  viz::OcclusionOptions o;
  o.window = 2;
  o.stride = 2;
  o.batch_size = 5;
  const viz::OcclusionResult r = viz::occlusion(*net, image, 1, source, o);
  ASSERT_EQ(r.rows, 4);
  ASSERT_EQ(r.cols, 4);
  const std::vector<float> p = r.true_class_probability.to_vector<float>();
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      const float v = p[static_cast<size_t>(i * 4 + j)];
      if (i < 2 && j < 2)
        EXPECT_NE(v, r.clean_probability) << i << "," << j;
      else
        EXPECT_FLOAT_EQ(v, r.clean_probability) << i << "," << j;
    }
}

TEST(Attribution, APatchThatChangesNothingGivesAFlatMap) {
  auto net = quadrant_net();
  // A constant image occluded with the "mean" fill of a source whose mean is
  // that constant: every copy equals the original.
  const Tensor image = Tensor::zeros({1, kSize, kSize});
  models::DataSource source;
  source.mean = {0.0f};
  source.std = {1.0f};
  viz::OcclusionOptions o;
  o.fill = viz::OcclusionFill::Mean;
  o.window = 3;
  o.stride = 2;
  const viz::OcclusionResult r = viz::occlusion(*net, image, 0, source, o);
  for (float v : r.true_class_probability.to_vector<float>()) EXPECT_EQ(v, r.clean_probability);
}

// Saliency on a tiny network worked out by hand: y = w2 . relu(W1 x).
TEST(Attribution, HandComputedSaliencyGuidedAndSigns) {
  auto net = std::make_shared<nn::Sequential>();
  auto l1 = std::make_shared<nn::Linear>(3, 2, false);
  auto l2 = std::make_shared<nn::Linear>(2, 1, false);
  l1->weight().value().copy_from(Tensor::from_vector(std::vector<float>{1, -1, 2, -2, 1, 1}, {2, 3}));
  l2->weight().value().copy_from(Tensor::from_vector(std::vector<float>{3, -4}, {1, 2}));
  auto image_net = std::make_shared<nn::Sequential>();
  image_net->add("flatten", std::make_shared<nn::Flatten>());
  image_net->add("l1", l1);
  image_net->add("relu", std::make_shared<nn::ReLU>());
  image_net->add("l2", l2);
  // x = (1, 0.5, 2): h = W1 x = (4.5, 0.5), both units active.
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 0.5f, 2}, {1, 1, 1, 3});
  // Standard: W1^T (3, -4) = (3 + 8, -3 - 4, 6 - 4) = (11, -7, 2).
  const viz::InputGradients s = viz::class_gradients(*image_net, x, {0}, ag::ReluRule::Standard);
  EXPECT_EQ(s.gradients.to_vector<float>(), (std::vector<float>{11, -7, 2}));
  EXPECT_EQ(s.maps.to_vector<float>(), (std::vector<float>{11, 7, 2}));
  EXPECT_FLOAT_EQ(s.scores[0], 3 * 4.5f - 4 * 0.5f);
  // Guided and deconvnet stop the negative -4 going down: W1^T (3, 0) = (3, -3, 6).
  const viz::InputGradients g = viz::class_gradients(*image_net, x, {0}, ag::ReluRule::Guided);
  EXPECT_EQ(g.gradients.to_vector<float>(), (std::vector<float>{3, -3, 6}));
  const viz::InputGradients d = viz::class_gradients(*image_net, x, {0}, ag::ReluRule::Deconvnet);
  EXPECT_EQ(d.gradients.to_vector<float>(), (std::vector<float>{3, -3, 6}));
  // Now unit 2 is inactive (x = (1, 0.5, 1): h = (2.5, -0.5)) and its upstream
  // weight positive: standard and guided block it, deconvnet passes it.
  l2->weight().value().copy_from(Tensor::from_vector(std::vector<float>{3, 4}, {1, 2}));
  const Tensor x2 = Tensor::from_vector(std::vector<float>{1, 0.5f, 1}, {1, 1, 1, 3});
  EXPECT_EQ(viz::class_gradients(*image_net, x2, {0}, ag::ReluRule::Standard).gradients.to_vector<float>(),
            (std::vector<float>{3, -3, 6}));
  EXPECT_EQ(viz::class_gradients(*image_net, x2, {0}, ag::ReluRule::Guided).gradients.to_vector<float>(),
            (std::vector<float>{3, -3, 6}));
  // Deconvnet: W1^T (3, 4) = (3 - 8, -3 + 4, 6 + 4) = (-5, 1, 10).
  EXPECT_EQ(viz::class_gradients(*image_net, x2, {0}, ag::ReluRule::Deconvnet).gradients.to_vector<float>(),
            (std::vector<float>{-5, 1, 10}));
}

TEST(Attribution, ABatchGivesTheSameMapsAsOneByOne) {
  models::Model m = models::build_model(models::load_net_spec("fashion-cnn"), 3);
  const Tensor images = testing::random_tensor({3, 1, 28, 28}, testing::seed_for(), -1, 2);
  const viz::InputGradients batch = viz::class_gradients(*m.net, images, {}, ag::ReluRule::Guided);
  const viz::GradCam cams = viz::grad_cam(*m.net, images, {}, "features.10");
  for (int64_t i = 0; i < 3; ++i) {
    const viz::InputGradients one = viz::class_gradients(*m.net, images.narrow(i, 1), {}, ag::ReluRule::Guided);
    EXPECT_EQ(one.classes[0], batch.classes[i]);
    EXPECT_CLOSE(one.gradients, batch.gradients.narrow(i, 1), 1e-6, 1e-4);
    const viz::GradCam cam = viz::grad_cam(*m.net, images.narrow(i, 1), {}, "features.10");
    EXPECT_CLOSE(cam.maps, cams.maps.narrow(i, 1), 1e-6, 1e-4);
  }
}

TEST(Attribution, SmoothGradAveragesNoisySaliency) {
  auto net = quadrant_net();
  const Tensor image = quadrant_image(testing::seed_for());
  viz::SmoothGradOptions o;
  o.samples = 10;
  const viz::InputGradients s = viz::smooth_grad(*net, image, {1}, o);
  EXPECT_EQ(s.maps.shape(), (Shape{1, kSize, kSize}));
  // The model is linear in the quadrant where the ReLUs stay active, so the
  // noisy gradients stay zero outside the quadrant.
  const std::vector<float> maps = s.maps.to_vector<float>();
  for (int64_t h = 0; h < kSize; ++h)
    for (int64_t w = 0; w < kSize; ++w)
      if (!in_quadrant(h, w)) {
        EXPECT_EQ(maps[static_cast<size_t>(h * kSize + w)], 0.0f);
      }
  o.samples = 0;
  EXPECT_THROW(viz::smooth_grad(*net, image, {1}, o), Error);
}

TEST(ClassModel, TheObjectiveRises) {
  models::Model m = models::build_model(models::load_net_spec("fashion-cnn"), 5);
  viz::ClassModelOptions o;
  o.steps = 30;
  o.jitter = 0;
  o.blur_every = 0;
  const viz::ClassModelResult r = viz::class_model_image(*m.net, m.input_shape, 7, Tensor(), o);
  ASSERT_EQ(r.objective.size(), 30u);
  EXPECT_GT(r.objective.back(), r.objective.front()) << "gradient ascent maximises";
  int rises = 0;
  for (size_t i = 1; i < r.objective.size(); ++i) rises += r.objective[i] > r.objective[i - 1];
  EXPECT_GE(rises, 25);
  EXPECT_EQ(r.image.shape(), (Shape{1, 28, 28}));
  // With jitter and blur it still climbs.
  o.jitter = 2;
  o.blur_every = 5;
  const viz::ClassModelResult j = viz::class_model_image(*m.net, m.input_shape, 7, Tensor(), o);
  EXPECT_GT(j.objective.back(), j.objective.front());
}

// The same maps on the GPU as on the CPU: the same tape, the CUDA kernels
// underneath (guided ReLU, conv backward, softmax, occlusion batches).
TEST(AttributionCuda, SaliencyGuidedGradcamSmoothgradOcclusionMatchTheCpu) {
  CS_REQUIRE_CUDA();
  models::Model m = models::build_model(models::load_net_spec("fashion-cnn"), 6);
  m.net->eval();
  const Tensor images = testing::random_tensor({3, 1, 28, 28}, testing::seed_for(), -1, 2);
  const std::vector<int> classes = {1, 7, 4};  // fixed, so near-ties of a random net cannot differ
  // The simulator takes 3 SmoothGrad samples instead of 6 (still one batch of
  // noisy copies) and an occlusion stride of 7 instead of 5 (16 windows, not
  // 36: batches of 9 and 7).
  const bool full = testing::full_gpu_shapes();
  viz::SmoothGradOptions sg;
  sg.samples = full ? 6 : 3;
  sg.seed = 11;  // the same noise on both devices (counter-based generator)
  viz::OcclusionOptions occ;
  occ.window = 7;
  occ.stride = full ? 5 : 7;
  occ.batch_size = 9;  // several batches, the last one partial
  occ.unit_layer = "features.6";
  occ.unit_channel = 5;
  models::DataSource source;
  source.mean = {0.29f};
  source.std = {0.35f};
  auto run = [&](Device device) {
    m.net->to(device);
    const Tensor x = images.to(device);
    struct Maps {
      viz::InputGradients saliency, guided, smooth;
      viz::GradCam cam;
      viz::OcclusionResult occlusion;
    } r;
    r.saliency = viz::class_gradients(*m.net, x, classes, ag::ReluRule::Standard);
    r.guided = viz::class_gradients(*m.net, x, classes, ag::ReluRule::Guided);
    r.cam = viz::grad_cam(*m.net, x, classes, "features.10");
    r.smooth = viz::smooth_grad(*m.net, x, classes, sg);
    r.occlusion = viz::occlusion(*m.net, x.narrow(1, 1).reshape({1, 28, 28}), 3, source, occ);
    m.net->to(Device::cpu());
    return r;
  };
  const auto cpu = run(Device::cpu());
  const auto gpu = run(Device::cuda());
  EXPECT_CLOSE(gpu.saliency.gradients, cpu.saliency.gradients, 1e-5, 1e-4);
  EXPECT_CLOSE(gpu.saliency.maps, cpu.saliency.maps, 1e-5, 1e-4);
  EXPECT_CLOSE(gpu.guided.gradients, cpu.guided.gradients, 1e-5, 1e-4);
  EXPECT_CLOSE(gpu.cam.maps, cpu.cam.maps, 1e-5, 1e-4);
  EXPECT_CLOSE(gpu.cam.raw, cpu.cam.raw, 1e-5, 1e-4);
  EXPECT_CLOSE(gpu.smooth.maps, cpu.smooth.maps, 1e-5, 1e-3);
  for (size_t i = 0; i < classes.size(); ++i) EXPECT_NEAR(gpu.saliency.scores[i], cpu.saliency.scores[i], 1e-4);
  ASSERT_EQ(gpu.occlusion.rows, cpu.occlusion.rows);
  ASSERT_EQ(gpu.occlusion.cols, cpu.occlusion.cols);
  EXPECT_CLOSE(gpu.occlusion.true_class_probability, cpu.occlusion.true_class_probability, 1e-6, 1e-4);
  EXPECT_CLOSE(gpu.occlusion.top_class_probability, cpu.occlusion.top_class_probability, 1e-6, 1e-4);
  EXPECT_CLOSE(gpu.occlusion.unit_activation, cpu.occlusion.unit_activation, 1e-5, 1e-4);
  EXPECT_NEAR(gpu.occlusion.clean_probability, cpu.occlusion.clean_probability, 1e-6);
}

}  // namespace
}  // namespace cs
