// Seeing inside a CNN: receptive fields, top-k patches on planted patterns,
// deconvnet projections against hand-built expectations.
#include "layers/activation.h"
#include "runtime/philox.h"
#include "layers/conv2d.h"
#include "layers/sequential.h"
#include "models/netspec.h"
#include "tests/common/test_util.h"
#include "viz/feature_maps.h"
#include "viz/filters.h"
#include "viz/projection.h"
#include "viz/receptive_field.h"
#include "viz/top_patches.h"

namespace cs {
namespace {

std::map<std::string, int64_t> field_sizes(const std::string& model) {
  models::Model m = models::build_model(models::load_net_spec(model), 1);
  std::map<std::string, int64_t> out;
  for (const auto& [path, rf] : viz::receptive_fields(*m.net)) {
    EXPECT_EQ(rf.size_h, rf.size_w) << path;
    out[path] = rf.size_h;
  }
  return out;
}

TEST(ReceptiveField, AlexNetMatchesHandComputedSizes) {
  auto s = field_sizes("alexnet");
  EXPECT_EQ(s["features.0"], 11);   // conv1
  EXPECT_EQ(s["features.3"], 51);   // conv2
  EXPECT_EQ(s["features.6"], 99);   // conv3
  EXPECT_EQ(s["features.8"], 131);  // conv4
  EXPECT_EQ(s["features.10"], 163); // conv5
  EXPECT_EQ(s["features.12"], 195); // pool5
  models::Model m = models::build_model(models::load_net_spec("alexnet"), 1);
  const viz::ReceptiveField conv2 = viz::receptive_field(*m.net, "features.3");
  EXPECT_EQ(conv2.jump_h, 8);
  EXPECT_EQ(conv2.first_h, -2 - 2 * 8);  // conv1 pads 2, conv2 pads 2 at jump 8
  EXPECT_THROW(viz::receptive_field(*m.net, "classifier.1"), Error);
}

TEST(ReceptiveField, ZfnetAndFashionCnn) {
  auto z = field_sizes("zfnet");
  EXPECT_EQ(z["features.0"], 7);
  EXPECT_EQ(z["features.2"], 7 + 2 * 2);           // 3x3/2 pool at jump 2
  EXPECT_EQ(z["features.4"], 11 + 4 * 4);          // 5x5/2 conv at jump 4
  EXPECT_EQ(z["features.6"], 27 + 2 * 8);          // pool at jump 8
  EXPECT_EQ(z["features.8"], 43 + 2 * 16);         // 3x3 conv at jump 16
  EXPECT_EQ(z["features.10"], 75 + 2 * 16);
  EXPECT_EQ(z["features.12"], 107 + 2 * 16);
  auto f = field_sizes("fashion-cnn");
  EXPECT_EQ(f["features.0"], 3);
  EXPECT_EQ(f["features.3"], 4);    // 2x2 pool
  EXPECT_EQ(f["features.4"], 8);    // 3x3 at jump 2
  EXPECT_EQ(f["features.7"], 10);
  EXPECT_EQ(f["features.8"], 18);   // 3x3 at jump 4
  EXPECT_EQ(f["features.11"], 22);
}

TEST(ReceptiveField, BoxesClipAtBorders) {
  viz::ReceptiveField rf{11, 11, 4, 4, -2, -2};
  const viz::Box b = viz::unit_field(rf, 0, 3);
  EXPECT_EQ(b.top, -2);
  EXPECT_EQ(b.left, 10);
  EXPECT_EQ(b.bottom, 9);
  const viz::Box c = viz::clip(b, 8, 12);
  EXPECT_EQ(c.top, 0);
  EXPECT_EQ(c.bottom, 8);
  EXPECT_EQ(c.right, 12);
}

// A conv net whose single unit detects a plus sign: its top-k images must be
// exactly the ones where the plus was planted, at the planted positions.
TEST(TopPatches, FindThePlantedPatternsAndCropThem) {
  const int64_t n = 40, size = 12;
  std::vector<uint8_t> pixels(static_cast<size_t>(n * size * size));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(philox::word(5, 0, i) % 20);
  struct Plant { int64_t image, top, left; int strength; };
  const std::vector<Plant> plants = {{3, 0, 0, 250}, {17, 5, 6, 240}, {8, 9, 9, 230},  {30, 2, 7, 220},
                                     {21, 4, 1, 210}, {11, 7, 3, 200}, {39, 1, 4, 190}, {0, 6, 8, 180},
                                     {25, 3, 3, 170}};
  const int plus[3][3] = {{0, 1, 0}, {1, 1, 1}, {0, 1, 0}};
  for (const Plant& p : plants)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c)
        if (plus[r][c]) pixels[static_cast<size_t>((p.image * size + p.top + r) * size + p.left + c)] = static_cast<uint8_t>(p.strength);
  models::DataSplit split;
  split.images = Tensor::from_vector(pixels, {n, 1, size, size});
  split.labels = Tensor::zeros({n}, Device::cpu(), DType::I32);
  split.labels_host.assign(n, 0);
  models::DataSource source;
  source.mean = {0.0f};
  source.std = {1.0f};

  auto net = std::make_shared<nn::Sequential>();
  nn::Conv2dOptions o;
  o.kernel_h = o.kernel_w = 3;
  o.bias = false;
  auto conv = std::make_shared<nn::Conv2d>(o);
  conv->weight().value().copy_from(Tensor::from_vector(std::vector<float>{-1, 1, -1, 1, 1, 1, -1, 1, -1}, {1, 1, 3, 3}));
  net->add(conv);
  net->add(std::make_shared<nn::ReLU>());

  viz::ScanOptions options;
  options.k = 9;
  options.batch_size = 7;  // batches that do not divide the dataset
  const viz::TopActivations top = viz::scan_top_activations(*net, split, source, {1, size, size}, "1", options);
  ASSERT_EQ(top.units.size(), 1u);
  ASSERT_EQ(top.units[0].size(), 9u);
  for (size_t r = 0; r < plants.size(); ++r) {
    EXPECT_EQ(top.units[0][r].image, plants[r].image) << "rank " << r;
    EXPECT_EQ(top.units[0][r].p, plants[r].top) << "rank " << r;
    EXPECT_EQ(top.units[0][r].q, plants[r].left) << "rank " << r;
  }
  const auto patches = viz::patches_and_projections(*net, top, split, source, {1, size, size}, {0},
                                                    ag::ReluRule::Deconvnet);
  ASSERT_EQ(patches.size(), 1u);
  const std::vector<float> crop = patches[0].patches[0].to_vector<float>();
  ASSERT_EQ(crop.size(), 9u);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(crop[i] > 0.5f, plus[i / 3][i % 3] == 1) << i;
  EXPECT_EQ(patches[0].boxes[1].top, 5);
  EXPECT_EQ(patches[0].boxes[1].left, 6);
}

std::shared_ptr<nn::Conv2d> conv_with(int in, int out, int k, const std::vector<float>& w) {
  nn::Conv2dOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel_h = o.kernel_w = k;
  o.bias = false;
  auto conv = std::make_shared<nn::Conv2d>(o);
  conv->weight().value().copy_from(Tensor::from_vector(w, {out, in, k, k}));
  return conv;
}

// conv1 (2 filters) -> ReLU -> 1x1 conv (weights +1, -1) -> ReLU. Projecting
// the top unit: the deconvnet rectifies the -1 signal at the first ReLU, so
// the projection is filter 0 alone, placed at the unit's field. The true
// gradient (both units active) is filter 0 minus filter 1.
TEST(Deconvnet, RectifiesOnTheWayDownAndPlacesTheFilter) {
  const std::vector<float> w1 = {1, -2, 3, 0, 1, 0, -1, 2, 1,   // filter 0
                                 2, 1, 0, 1, -1, 1, 0, 0, 3};   // filter 1
  auto net = std::make_shared<nn::Sequential>();
  net->add(conv_with(1, 2, 3, w1));
  net->add(std::make_shared<nn::ReLU>());
  net->add(conv_with(2, 1, 1, {1, -1}));
  net->add(std::make_shared<nn::ReLU>());
  // An image on which both first-layer units at (1, 2) are active.
  Tensor image = Tensor::full({1, 1, 5, 6}, 1.0);
  const std::vector<viz::UnitRef> unit = {{0, 0, 1, 2}};
  const Tensor deconv = viz::project_units(*net, image, "3", unit, ag::ReluRule::Deconvnet);
  const Tensor standard = viz::project_units(*net, image, "1", {{0, 1, 1, 2}}, ag::ReluRule::Standard);
  std::vector<float> expected(30, 0.0f), expected_f1(30, 0.0f);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      expected[(1 + r) * 6 + 2 + c] = w1[r * 3 + c];
      expected_f1[(1 + r) * 6 + 2 + c] = w1[9 + r * 3 + c];
    }
  EXPECT_EQ(deconv.to_vector<float>(), expected);
  EXPECT_EQ(standard.to_vector<float>(), expected_f1) << "a single unit's gradient is its filter";
}

TEST(FeatureMapsAndFilters, ShapesFollowTheLayer) {
  models::Model m = models::build_model(models::load_net_spec("fashion-cnn"), 1);
  EXPECT_EQ(viz::first_conv_layer(*m.net), "features.0");
  EXPECT_EQ(viz::conv_layers(*m.net).size(), 3u);
  EXPECT_EQ(viz::conv_filters(*m.net, "features.4").shape(), (Shape{64, 32, 3, 3}));
  EXPECT_THROW(viz::conv_filters(*m.net, "features.1"), Error);
  const Tensor maps = viz::feature_maps(*m.net, testing::random_tensor({1, 28, 28}, testing::seed_for()), "features.6");
  EXPECT_EQ(maps.shape(), (Shape{64, 14, 14}));
}

TEST(DeconvnetCuda, ProjectionsMatchTheCpu) {
  CS_REQUIRE_CUDA();
  models::Model m = models::build_model(models::load_net_spec("fashion-cnn"), 4);
  const Tensor images = testing::random_tensor({3, 1, 28, 28}, testing::seed_for(), -1, 2);
  const std::vector<viz::UnitRef> units = {{0, 5, 3, 4}, {1, 17, 6, 6}, {2, 63, 0, 13}};
  for (ag::ReluRule rule : {ag::ReluRule::Deconvnet, ag::ReluRule::Guided}) {
    const Tensor cpu = viz::project_units(*m.net, images, "features.6", units, rule);
    m.net->to(Device::cuda());
    const Tensor gpu = viz::project_units(*m.net, images.to(Device::cuda()), "features.6", units, rule);
    m.net->to(Device::cpu());
    EXPECT_CLOSE(gpu, cpu, 1e-5, 1e-4);
  }
}

}  // namespace
}  // namespace cs
