// End-to-end training on real FashionMNIST data (a subset, so it runs in CI),
// determinism, exact resume, divergence handling, and one training step on
// the GPU against the CPU.
#include <filesystem>

#include "autograd/ops.h"
#include "layers/dropout.h"
#include "models/data.h"
#include "models/netspec.h"
#include "models/optimizer.h"
#include "models/trainer.h"
#include "runtime/file_io.h"
#include "runtime/idx.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

bool have_fashion_mnist() {
  return file_exists(default_fashion_mnist_dir() + "/train-images-idx3-ubyte.gz") ||
         file_exists(default_fashion_mnist_dir() + "/train-images-idx3-ubyte");
}

#define REQUIRE_DATA()                                                                 \
  if (!have_fashion_mnist()) GTEST_SKIP() << "FashionMNIST is not installed (apt-get " \
                                             "install dataset-fashion-mnist)"

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "convscope-" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

models::TrainRequest small_request(const std::string& dir, int64_t train, int64_t test, int epochs) {
  models::TrainRequest r;
  r.model = "fashion-cnn";
  r.device = "cpu";
  r.out_dir = dir;
  r.progress = false;
  r.settings = {{"max_train", std::to_string(train)}, {"max_test", std::to_string(test)},
                {"epochs", std::to_string(epochs)},   {"batch_size", "64"},
                {"eval_batch_size", "500"}};
  return r;
}

TEST(Training, LearnsFashionMnistWellAboveChance) {
  REQUIRE_DATA();
  const std::string dir = fresh_dir("learns");
  models::TrainResult r = models::train(small_request(dir, 6000, 1000, 2));
  ASSERT_EQ(r.history.size(), 2u);
  // Chance is 10%; a working CNN passes 75% after two epochs on 6000 images.
  EXPECT_GT(r.final_test.accuracy, 0.75) << "test accuracy " << r.final_test.accuracy;
  EXPECT_LT(r.history[1].train_loss, r.history[0].train_loss);
  for (const char* file : {"config.json", "model.spec", "summary.txt", "metrics.jsonl",
                           "checkpoint.safetensors", "train_state.safetensors"})
    EXPECT_TRUE(file_exists(dir + "/" + file)) << file;
  const std::vector<models::EpochRecord> metrics = models::read_metrics(dir);
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_DOUBLE_EQ(metrics[1].test_accuracy, r.history[1].test_accuracy);
  EXPECT_EQ(metrics[1].per_class_accuracy.size(), 10u);
}

TEST(Training, SameSeedGivesIdenticalMetrics) {
  REQUIRE_DATA();
  models::TrainResult a = models::train(small_request(fresh_dir("det-a"), 1000, 300, 1));
  models::TrainResult b = models::train(small_request(fresh_dir("det-b"), 1000, 300, 1));
  EXPECT_EQ(a.history[0].train_loss, b.history[0].train_loss);
  EXPECT_EQ(a.history[0].test_loss, b.history[0].test_loss);
  models::TrainRequest other = small_request(fresh_dir("det-c"), 1000, 300, 1);
  other.settings["seed"] = "2";
  models::TrainResult c = models::train(other);
  EXPECT_NE(a.history[0].train_loss, c.history[0].train_loss);
}

TEST(Training, ResumeContinuesExactly) {
  REQUIRE_DATA();
  models::TrainResult straight = models::train(small_request(fresh_dir("straight"), 800, 200, 2));
  const std::string dir = fresh_dir("resumed");
  models::TrainRequest first = small_request(dir, 800, 200, 2);
  first.stop_after_epochs = 1;  // as if interrupted after the first epoch
  EXPECT_EQ(models::train(first).history.size(), 1u);
  models::TrainRequest resume;
  resume.out_dir = dir;
  resume.resume = true;
  resume.device = "cpu";
  resume.progress = false;
  models::TrainResult resumed = models::train(resume);
  ASSERT_EQ(resumed.history.size(), 2u);
  EXPECT_EQ(resumed.history[1].train_loss, straight.history[1].train_loss);
  EXPECT_EQ(resumed.history[1].test_loss, straight.history[1].test_loss);
  // A fresh run refuses to overwrite; a resume refuses other settings.
  EXPECT_THROW(models::train(small_request(dir, 800, 200, 1)), Error);
  resume.settings = {{"lr", "0.1"}};
  EXPECT_THROW(models::train(resume), Error);
}

TEST(Training, DivergenceStopsWithAMessageAboutTheLearningRate) {
  REQUIRE_DATA();
  models::TrainRequest r = small_request(fresh_dir("diverge"), 640, 100, 1);
  r.settings["lr"] = "1e8";
  r.settings["weight_decay"] = "0";
  try {
    models::train(r);
    FAIL() << "training with lr 1e8 did not stop";
  } catch (const Error& e) {
    const std::string msg = e.message();
    EXPECT_NE(msg.find("learning rate"), std::string::npos) << msg;
    EXPECT_NE(msg.find("step"), std::string::npos) << msg;
  }
}

TEST(Training, BadSettingsAreOneLineErrors) {
  models::TrainRequest r = small_request(fresh_dir("bad"), 100, 100, 1);
  r.settings["lerning_rate"] = "0.1";
  try {
    models::train(r);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("unknown setting 'lerning_rate'"), std::string::npos) << e.message();
  }
  r.settings.erase("lerning_rate");
  r.settings["optimizer"] = "rmsprop";
  EXPECT_THROW(models::train(r), Error);
}

// One whole training step on the GPU against the CPU: the loss, every
// parameter gradient and every updated weight.
TEST(TrainingCuda, OneStepMatchesTheCpu) {
  CS_REQUIRE_CUDA();
  REQUIRE_DATA();
  models::DataConfig data_config;
  data_config.max_train = 256;
  data_config.max_test = 10;
  models::DataSource data_cpu = models::load_dataset(data_config, Device::cpu());
  models::DataSource data_gpu = models::load_dataset(data_config, Device::cuda());
  // The simulator takes a batch of 32: every convolution pass keeps its tile
  // and its float4 stores, backward-weight and the bias gradient still split
  // (conv1 49 ways instead of 128, conv3's large tile 4 instead of 13), the
  // first linear layer still splits K, and the batch norms of conv1 and conv2
  // still split their reductions (conv3's, 1568 values per channel, no longer).
  const int64_t batch_size = testing::full_gpu_shapes() ? 128 : 32;
  struct Side {
    models::Model model;
    std::unique_ptr<models::Optimizer> optimizer;
    ag::Variable loss;
  };
  auto run = [&](Device device, models::DataSource& data) {
    Side side{models::build_model(models::load_net_spec("fashion-cnn"), 3), nullptr, {}};
    side.model.net->to(device);
    side.model.net->train();
    models::OptimizerConfig oc;
    oc.nesterov = true;
    oc.weight_decay = 5e-4;
    side.optimizer = std::make_unique<models::Optimizer>(side.model.net->named_parameters(), oc);
    models::BatchIterator batches(data.train, data, batch_size, true, 5, side.model.input_shape);
    Tensor x, y;
    batches.next(x, y);
    nn::set_dropout_step(11, 0);
    side.loss = ag::cross_entropy((*side.model.net)(ag::Variable(x)), y);
    ag::backward(side.loss);
    return side;
  };
  Side cpu = run(Device::cpu(), data_cpu);
  Side gpu = run(Device::cuda(), data_gpu);
  EXPECT_CLOSE(gpu.loss.value(), cpu.loss.value(), 1e-5, 1e-4);
  auto cpu_params = cpu.model.net->named_parameters();
  auto gpu_params = gpu.model.net->named_parameters();
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    SCOPED_TRACE(cpu_params[i].first);
    EXPECT_CLOSE(gpu_params[i].second.grad(), cpu_params[i].second.grad(), 2e-5, 2e-3);
  }
  cpu.optimizer->step(0.05);
  gpu.optimizer->step(0.05);
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    SCOPED_TRACE(cpu_params[i].first);
    EXPECT_CLOSE(gpu_params[i].second.value(), cpu_params[i].second.value(), 1e-5, 1e-4);
  }
}

}  // namespace
}  // namespace cs
