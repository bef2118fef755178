// Parameter counts and output shapes of the built-in ImageNet models
// (alexnet, alexnet-2012, zfnet) at 1000 and 10 classes and with 1 input
// channel. The expected counts are worked out by hand from the papers' layer
// sizes below, not read back from the code, so a wrong layer shows up here.
#include <cmath>
#include <map>

#include "autograd/ops.h"
#include "models/netspec.h"
#include "models/summary.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

// conv: out * (in / groups) * k * k weights + out biases; linear: in * out + out.
constexpr int64_t conv_params(int64_t in, int64_t out, int64_t k, int64_t groups = 1) {
  return out * (in / groups) * k * k + out;
}
constexpr int64_t linear_params(int64_t in, int64_t out) { return in * out + out; }

// The classifier all three share: 256 * 6 * 6 = 9216 features ->
// 4096 -> 4096 -> classes (dropout, ReLU, flatten and pooling hold none).
//   fc6 9216 * 4096 + 4096 = 37,752,832
//   fc7 4096 * 4096 + 4096 = 16,781,312
//   fc8 4096 * 1000 + 1000 =  4,097,000 at 1000 classes; 4096 * 10 + 10 = 40,970 at 10
constexpr int64_t classifier_params(int64_t classes) {
  return linear_params(256 * 6 * 6, 4096) + linear_params(4096, 4096) + linear_params(4096, classes);
}
static_assert(classifier_params(1000) == 37752832 + 16781312 + 4097000);
static_assert(classifier_params(10) == 37752832 + 16781312 + 40970);

// torchvision's AlexNet, 64-192-384-256-256:
//   conv1 64 * 3 * 11 * 11 + 64  =    23,296   (1 channel: 64 * 121 + 64 = 7,808)
//   conv2 192 * 64 * 5 * 5 + 192 =   307,392
//   conv3 384 * 192 * 9 + 384    =   663,936
//   conv4 256 * 384 * 9 + 256    =   884,992
//   conv5 256 * 256 * 9 + 256    =   590,080
//   features 2,469,696 + classifier 58,631,144 = 61,100,840 (torchvision's number)
constexpr int64_t alexnet_params(int64_t channels, int64_t classes) {
  return conv_params(channels, 64, 11) + conv_params(64, 192, 5) + conv_params(192, 384, 3) +
         conv_params(384, 256, 3) + conv_params(256, 256, 3) + classifier_params(classes);
}
static_assert(alexnet_params(3, 1000) == 61100840);
static_assert(alexnet_params(3, 10) == 57044810);
static_assert(alexnet_params(1, 1000) == 61100840 - 23296 + 7808);

// The original AlexNet (227 x 227 input), 96-256-384-384-256, conv2/4/5 in
// 2 groups (each half sees half of the previous layer's maps):
//   conv1 96 * 3 * 11 * 11 + 96        =    34,944   (1 channel: 96 * 121 + 96 = 11,712)
//   conv2 256 * (96/2) * 5 * 5 + 256   =   307,456
//   conv3 384 * 256 * 3 * 3 + 384      =   885,120   (not grouped: the GPUs talk here)
//   conv4 384 * (384/2) * 3 * 3 + 384  =   663,936
//   conv5 256 * (384/2) * 3 * 3 + 256  =   442,624
//   features 2,334,080 + classifier 58,631,144 = 60,965,224 (the paper's "60 million")
// Spatially 227 -> 55 -> 27 (pool) -> 27 -> 13 (pool) -> 13 -> 13 -> 13 -> 6 (pool).
constexpr int64_t alexnet2012_params(int64_t channels, int64_t classes) {
  return conv_params(channels, 96, 11) + conv_params(96, 256, 5, 2) + conv_params(256, 384, 3) +
         conv_params(384, 384, 3, 2) + conv_params(384, 256, 3, 2) + classifier_params(classes);
}
static_assert(alexnet2012_params(3, 1000) == 60965224);
static_assert(alexnet2012_params(3, 10) == 56909194);
static_assert(alexnet2012_params(1, 1000) == 60965224 - 34944 + 11712);

// ZFNet (224 x 224 input), 96 7x7/2 - 256 5x5/2 - 384 - 384 - 256, no groups:
//   conv1 96 * 3 * 7 * 7 + 96     =    14,208   (1 channel: 96 * 49 + 96 = 4,800)
//   conv2 256 * 96 * 5 * 5 + 256  =   614,656
//   conv3 384 * 256 * 9 + 384     =   885,120
//   conv4 384 * 384 * 9 + 384     = 1,327,488
//   conv5 256 * 384 * 9 + 256     =   884,992
//   features 3,726,464 + classifier 58,631,144 = 62,357,608
constexpr int64_t zfnet_params(int64_t channels, int64_t classes) {
  return conv_params(channels, 96, 7) + conv_params(96, 256, 5) + conv_params(256, 384, 3) +
         conv_params(384, 384, 3) + conv_params(384, 256, 3) + classifier_params(classes);
}
static_assert(zfnet_params(3, 1000) == 62357608);
static_assert(zfnet_params(3, 10) == 58301578);
static_assert(zfnet_params(1, 1000) == 62357608 - 14208 + 4800);

models::Model build(const std::string& name, const std::map<std::string, std::string>& overrides) {
  models::NetSpec spec = models::load_net_spec(name);
  const std::vector<std::string> unknown = models::apply_overrides(spec, overrides);
  EXPECT_TRUE(unknown.empty()) << name << ": unknown override " << unknown.front();
  return models::build_model(spec, 1);
}

struct Case {
  const char* name;
  int64_t channels, classes, size;
  int64_t parameters;
};

TEST(ModelShapes, ParameterCountsAndOutputShapesMatchThePapers) {
  // Each build initialises ~60M weights on the CPU, so the grid stays small:
  // 1000 and 10 classes with RGB input, 10 classes with gray input.
  const Case cases[] = {
      {"alexnet", 3, 1000, 224, alexnet_params(3, 1000)},
      {"alexnet", 3, 10, 224, alexnet_params(3, 10)},
      {"alexnet", 1, 10, 224, alexnet_params(1, 10)},
      {"alexnet-2012", 3, 1000, 227, alexnet2012_params(3, 1000)},
      {"alexnet-2012", 3, 10, 227, alexnet2012_params(3, 10)},
      {"alexnet-2012", 1, 10, 227, alexnet2012_params(1, 10)},
      {"zfnet", 3, 1000, 224, zfnet_params(3, 1000)},
      {"zfnet", 3, 10, 224, zfnet_params(3, 10)},
      {"zfnet", 1, 10, 224, zfnet_params(1, 10)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.name) + " channels=" + std::to_string(c.channels) +
                 " classes=" + std::to_string(c.classes));
    models::Model m = build(c.name, {{"channels", std::to_string(c.channels)},
                                     {"classes", std::to_string(c.classes)}});
    EXPECT_EQ(m.net->parameter_count(), c.parameters);
    EXPECT_EQ(m.classes, c.classes);
    EXPECT_EQ(m.input_shape, (Shape{c.channels, c.size, c.size}));
    const models::ModelSummary s = models::summarize(m);
    EXPECT_EQ(s.total_parameters, c.parameters);
    ASSERT_FALSE(s.rows.empty());
    EXPECT_EQ(s.rows.back().output, (Shape{1, c.classes}));
  }
}

TEST(ModelShapes, AlexNet2012HasThePaperSizes) {
  models::Model m = build("alexnet-2012", {});
  std::map<std::string, Shape> out;
  for (const auto& row : models::summarize(m).rows) out[row.path] = row.output;
  EXPECT_EQ(out["features.0"], (Shape{1, 96, 55, 55}));
  EXPECT_EQ(out["features.3"], (Shape{1, 96, 27, 27}));
  EXPECT_EQ(out["features.4"], (Shape{1, 256, 27, 27}));
  EXPECT_EQ(out["features.7"], (Shape{1, 256, 13, 13}));
  EXPECT_EQ(out["features.13"], (Shape{1, 256, 13, 13}));
  EXPECT_EQ(out["features.14"], (Shape{1, 256, 6, 6}));
  EXPECT_EQ(out["flatten"], (Shape{1, 9216}));
  EXPECT_EQ(m.net->find("features.4")->parameter_count(), 307456);  // grouped: half of 256 * 96 * 25
  EXPECT_EQ(m.net->find("features.10")->parameter_count(), 663936);
}

TEST(ModelShapes, AlexNetAdaptsToOtherInputSizesWithoutChangingItsParameters) {
  // The adaptive 6x6 average pool keeps the classifier at 9216 inputs.
  for (int64_t size : {63, 256}) {
    models::Model m = build("alexnet", {{"size", std::to_string(size)}, {"classes", "10"}});
    EXPECT_EQ(m.net->parameter_count(), alexnet_params(3, 10)) << size;
    EXPECT_EQ(models::summarize(m).rows.back().output, (Shape{1, 10})) << size;
  }
}

TEST(ModelShapes, ZfnetAtASmallerInputHasASmallerClassifier) {
  // 64: conv1 (64 + 2 - 7) / 2 + 1 = 30, ceil pool 15, conv2 (15 - 5) / 2 + 1 = 6,
  // ceil pool 3, three 3x3 convs 3, pool (3 - 3) / 2 + 1 = 1: 256 features.
  models::Model m = build("zfnet", {{"size", "64"}, {"classes", "10"}});
  std::map<std::string, Shape> out;
  for (const auto& row : models::summarize(m).rows) out[row.path] = row.output;
  EXPECT_EQ(out["features.0"], (Shape{1, 96, 30, 30}));
  EXPECT_EQ(out["features.6"], (Shape{1, 256, 3, 3}));
  EXPECT_EQ(out["flatten"], (Shape{1, 256}));
  EXPECT_EQ(m.net->parameter_count(),
            zfnet_params(3, 10) - classifier_params(10) + linear_params(256, 4096) +
                linear_params(4096, 4096) + linear_params(4096, 10));
}

TEST(ModelShapes, ARealForwardPassGivesOneRowOfLogitsPerImage) {
  // The summary's shapes are inferred; this runs the layers (batch 2, one
  // channel, 10 classes) and checks the logits are finite and differ per image.
  for (const char* name : {"alexnet", "alexnet-2012", "zfnet"}) {
    SCOPED_TRACE(name);
    models::Model m = build(name, {{"channels", "1"}, {"classes", "10"}});
    m.net->eval();
    const Shape& in = m.input_shape;
    const Tensor x = testing::random_tensor({2, in[0], in[1], in[2]}, testing::seed_for(name));
    ag::NoGradGuard no_grad;
    const Tensor logits = (*m.net)(ag::Variable(x)).value();
    ASSERT_EQ(logits.shape(), (Shape{2, 10}));
    const std::vector<float> v = logits.to_vector<float>();
    bool differ = false;
    for (size_t i = 0; i < 10; ++i) {
      EXPECT_TRUE(std::isfinite(v[i]) && std::isfinite(v[10 + i])) << i;
      differ = differ || v[i] != v[10 + i];
    }
    EXPECT_TRUE(differ) << "both images gave the same logits";
  }
}

}  // namespace
}  // namespace cs
