// Modules: names, state dicts, modes, capture, and a whole network's gradients.
#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "layers/activation.h"
#include "layers/batchnorm.h"
#include "layers/capture.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/pooling.h"
#include "layers/sequential.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using ag::Variable;

std::shared_ptr<nn::Sequential> small_net(double dropout_p = 0.0) {
  auto features = std::make_shared<nn::Sequential>();
  nn::Conv2dOptions conv;
  conv.in_channels = 2;
  conv.out_channels = 3;
  conv.args.pad_h = conv.args.pad_w = 1;
  features->add(std::make_shared<nn::Conv2d>(conv));
  features->add(std::make_shared<nn::BatchNorm>(3, 2));
  features->add(std::make_shared<nn::ReLU>());
  features->add(std::make_shared<nn::MaxPool2d>(kernels::Pool2dArgs{2, 2, 2, 2, 0, 0, false, true}));
  auto classifier = std::make_shared<nn::Sequential>();
  classifier->add(std::make_shared<nn::Dropout>(dropout_p));
  classifier->add(std::make_shared<nn::Linear>(3 * 3 * 3, 4));
  auto net = std::make_shared<nn::Sequential>();
  net->add("features", features);
  net->add("flatten", std::make_shared<nn::Flatten>());
  net->add("classifier", classifier);
  net->reset_parameters(7);
  return net;
}

TEST(Modules, NamesFollowPyTorch) {
  auto net = small_net();
  std::vector<std::string> names;
  for (auto& [name, v] : net->named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"features.0.weight", "features.0.bias",
                                             "features.1.weight", "features.1.bias",
                                             "classifier.1.weight", "classifier.1.bias"}));
  std::vector<std::string> buffers;
  for (auto& [name, t] : net->named_buffers()) buffers.push_back(name);
  EXPECT_EQ(buffers, (std::vector<std::string>{"features.1.running_mean", "features.1.running_var"}));
  EXPECT_EQ(net->parameter_count(), 3 * 2 * 9 + 3 + 3 + 3 + 27 * 4 + 4);
  EXPECT_EQ(net->find("features.3")->type(), "MaxPool2d");
  EXPECT_EQ(net->find("features.3")->path(), "features.3");
  EXPECT_EQ(net->find("nothing.here"), nullptr);
}

TEST(Modules, InitialisationIsSeededAndFollowsKaimingBounds) {
  auto a = small_net(), b = small_net();
  EXPECT_BITWISE_EQ(a->state_dict()["features.0.weight"], b->state_dict()["features.0.weight"]);
  const std::vector<float> w = a->state_dict()["classifier.1.weight"].to_vector<float>();
  const float bound = 1.0f / std::sqrt(27.0f);
  float max_abs = 0;
  for (float v : w) max_abs = std::max(max_abs, std::abs(v));
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.8f * bound);
  a->reset_parameters(8);
  EXPECT_FALSE(testing::all_equal(a->state_dict()["features.0.weight"],
                                  b->state_dict()["features.0.weight"]));
}

TEST(Modules, StateDictRoundTripsAndLoadErrorsListNames) {
  auto a = small_net(), b = small_net();
  b->reset_parameters(99);
  b->load_state_dict(a->state_dict());
  for (auto& [name, t] : a->state_dict()) EXPECT_BITWISE_EQ(b->state_dict()[name], t);
  auto state = a->state_dict();
  state.erase("features.0.bias");
  state["extra.weight"] = Tensor::zeros({1});
  try {
    b->load_state_dict(state);
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("missing (1): features.0.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected (1): extra.weight"), std::string::npos) << msg;
  }
  b->load_state_dict(state, false);  // non-strict loads what matches
  auto bad = a->state_dict();
  bad["features.0.weight"] = Tensor::zeros({3, 2, 5, 5});
  EXPECT_THROW(b->load_state_dict(bad), Error);
  auto with_counter = a->state_dict();
  with_counter["features.1.num_batches_tracked"] = Tensor::zeros({1});
  b->load_state_dict(with_counter);  // PyTorch's BatchNorm counter is accepted
}

TEST(Modules, CaptureByNameAndStopEarly) {
  auto net = small_net();
  net->eval();
  Variable x(testing::random_tensor({2, 2, 6, 6}, testing::seed_for()));
  {
    nn::ActivationCapture capture({"features.2", "flatten"});
    Variable y = (*net)(x);
    EXPECT_EQ(y.shape(), (Shape{2, 4}));
    EXPECT_EQ(capture.get("features.2").shape(), (Shape{2, 3, 6, 6}));
    EXPECT_EQ(capture.get("flatten").shape(), (Shape{2, 27}));
    EXPECT_THROW(capture.get("features.9"), Error);
  }
  {
    nn::ActivationCapture capture({"features.0"}, true);
    Variable y = (*net)(x);
    EXPECT_EQ(y.shape(), (Shape{2, 3, 6, 6})) << "stopped after the captured layer";
  }
  EXPECT_EQ(nn::ActivationCapture::active(), nullptr);
}

TEST(Modules, TrainAndEvalModesDiffer) {
  auto net = small_net(0.5);
  Variable x(testing::random_tensor({4, 2, 6, 6}, testing::seed_for()));
  net->eval();
  const Tensor a = (*net)(x).value(), b = (*net)(x).value();
  EXPECT_BITWISE_EQ(a, b);
  net->train();
  nn::set_dropout_step(1, 0);
  const Tensor c = (*net)(x).value();
  EXPECT_FALSE(testing::all_equal(a, c));
  ag::clear_tape();
}

// The whole-network gradient check of the design: conv -> BN -> ReLU ->
// maxpool -> dropout(p=0) -> linear -> cross-entropy, in double, with respect
// to the input image and every parameter.
TEST(Modules, WholeNetworkGradcheckInDouble) {
  auto net = small_net(0.0);
  net->to(DType::F64);
  net->train();
  Variable x(testing::distinct_values({3, 2, 6, 6}, testing::seed_for("x")), true, "image");
  const Tensor labels = Tensor::from_vector(std::vector<int32_t>{1, 3, 0}, {3});
  std::vector<Variable> wrt = net->parameters();
  wrt.push_back(x);
  ag::GradcheckOptions options;
  options.eps = 1e-6;
  options.rtol = 1e-4;
  options.atol = 1e-7;
  const ag::GradcheckResult r =
      ag::gradcheck([&] { return ag::cross_entropy((*net)(x), labels); }, wrt, options);
  EXPECT_TRUE(r.ok) << r.failures << " of " << r.checked << " wrong:\n" << r.report;
  EXPECT_GT(r.checked, 200);
}

}  // namespace
}  // namespace cs
