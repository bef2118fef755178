// End-to-end: training steps and inference of whole models, the numbers a
// user of `convscope train` sees, to set beside PyTorch's on the same GPU
// (bench/pytorch_baseline.py writes the same fields).
//
//   BM_Train/<model>/n<batch>/<dev>   one timed repeat = `steps` training steps:
//       the batch pipeline (Philox-shuffled gather from uint8 images resident
//       on the device, normalisation: models/data.h BatchIterator), forward,
//       cross-entropy, backward, the optimizer step the model's spec names
//       (SGD with momentum / Nesterov / weight decay)
//   BM_Infer/<model>/n<batch>/<dev>   `steps` eval-mode forward passes, no tape
//
// Models and sizes: fashion-cnn at batch 64 and 256, AlexNet and ZFNet at
// batch 128 (224x224) on the GPU; fashion-cnn at batch 16 on the CPU.
// Synthetic images and labels (throughput does not depend on the values);
// no per-step host synchronization (the loss is not read back), so the host
// can run ahead as in a real epoch; L2 is not flushed.
//
// Counters: step_ms (median over repeats / steps), images_per_s,
// epoch_images (60000 for FashionMNIST's training set, 1281167 for
// ImageNet's) and epoch_s = epoch_images / images_per_s (projected from the
// step time, not a timed epoch), peak_MB (device memory high-water mark).
#include <sstream>

#include "autograd/ops.h"
#include "autograd/tape.h"
#include "bench/bench_util.h"
#include "layers/dropout.h"
#include "models/data.h"
#include "models/netspec.h"
#include "models/optimizer.h"
#include "models/train_config.h"
#include "runtime/memory.h"

namespace cs::bench {
namespace {

struct E2eCase {
  std::string model;  // built-in spec name
  int64_t batch;
  Device device;
  int steps;  // per timed repeat
};

int64_t epoch_images(const std::string& model) { return model == "fashion-cnn" ? 60000 : 1281167; }

// Synthetic uint8 images (pool of `batches` batches) and labels, on `device`.
models::DataSource synthetic_data(const models::Model& m, int64_t batch, int batches, Device device) {
  const int64_t n = batch * batches, c = m.input_shape[0], h = m.input_shape[1], w = m.input_shape[2];
  std::vector<uint8_t> pixels(static_cast<size_t>(n * c * h * w));
  uint32_t state = 12345;  // a cheap LCG: the values do not matter
  for (uint8_t& p : pixels) p = static_cast<uint8_t>((state = state * 1664525u + 1013904223u) >> 24);
  std::vector<int32_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = static_cast<int32_t>(i % m.classes);
  models::DataSource d;
  d.name = "synthetic";
  d.train.images = Tensor::from_vector(pixels, {n, c, h, w}, device);  // (N, C, H, W) uint8
  d.train.labels = Tensor::from_vector(labels, {n}, device);           // (N) int32
  d.train.labels_host = labels;
  for (int i = 0; i < m.classes; ++i) d.class_names.push_back(std::to_string(i));
  d.mean.assign(static_cast<size_t>(c), 0.5f);
  d.std.assign(static_cast<size_t>(c), 0.25f);
  return d;
}

void report_e2e(benchmark::State& state, const E2eCase& c, double ms) {
  if (ms <= 0) return;
  const double step_ms = ms / c.steps;
  const double images_per_s = static_cast<double>(c.batch) / (step_ms * 1e-3);
  state.counters["step_ms"] = step_ms;
  state.counters["images_per_s"] = images_per_s;
  state.counters["epoch_images"] = static_cast<double>(epoch_images(c.model));
  state.counters["epoch_s"] = static_cast<double>(epoch_images(c.model)) / images_per_s;
  state.counters["peak_MB"] = static_cast<double>(memory_stats(c.device).peak_bytes) / (1 << 20);
}

void BM_Train(benchmark::State& state, const E2eCase& c) {
  if (!device_available(state, c.device)) return;
  guarded(state, [&] {
    const models::NetSpec spec = models::load_net_spec(c.model);
    const models::TrainConfig cfg = models::make_train_config(spec.train);  // the spec's optimizer
    models::Model m = models::build_model(spec, cfg.seed);
    m.net->to(c.device);
    m.net->train();
    const models::DataSource data = synthetic_data(m, c.batch, 4, c.device);
    models::BatchIterator batches(data.train, data, c.batch, true, cfg.seed, m.input_shape);
    models::Optimizer optimizer(m.net->named_parameters(), cfg.optimizer);
    int64_t epoch = 0;
    uint64_t step = 0;
    batches.start_epoch(epoch);
    auto train_step = [&] {
      Tensor images, labels;
      if (!batches.next(images, labels)) {
        batches.start_epoch(++epoch);
        batches.next(images, labels);
      }
      nn::set_dropout_step(cfg.seed, step++);
      optimizer.zero_grad();
      const ag::Variable logits = (*m.net)(ag::Variable(images));
      const ag::Variable loss = ag::cross_entropy(logits, labels, cfg.label_smoothing);
      ag::backward(loss);
      optimizer.step(cfg.optimizer.lr);
    };
    reset_peak_memory(c.device);
    const double ms = timed_repeats(state, c.device, [&] {
      for (int i = 0; i < c.steps; ++i) train_step();
    }, 1, false);
    report_e2e(state, c, ms);
    std::ostringstream label;  // the optimizer, for comparing with the PyTorch baseline's
    label << cfg.optimizer.name << " lr " << cfg.optimizer.lr << " momentum " << cfg.optimizer.momentum
          << (cfg.optimizer.nesterov ? " nesterov" : "") << " wd " << cfg.optimizer.weight_decay;
    state.SetLabel(label.str());
  });
}

void BM_Infer(benchmark::State& state, const E2eCase& c) {
  if (!device_available(state, c.device)) return;
  guarded(state, [&] {
    models::Model m = models::build_model(models::load_net_spec(c.model), 1);
    m.net->to(c.device);
    m.net->eval();
    const models::DataSource data = synthetic_data(m, c.batch, 1, c.device);
    const Tensor x = models::prepare_images(data.train.images, data, m.input_shape);  // (B, C, H, W)
    ag::NoGradGuard no_grad;
    reset_peak_memory(c.device);
    const double ms = timed_repeats(state, c.device, [&] {
      for (int i = 0; i < c.steps; ++i) (*m.net)(ag::Variable(x));
    }, 1, false);
    report_e2e(state, c, ms);
  });
}

std::string row_name(const char* family, const E2eCase& c) {
  return std::string(family) + c.model + "/n" + std::to_string(c.batch) + "/" +
         (c.device.is_cuda() ? "cuda" : "cpu");
}

[[maybe_unused]] const bool registered = [] {
  const Device gpu = Device::cuda(), cpu = Device::cpu();
  // One warm-up repeat (timed_repeats' warm-up) precedes the timing.
  const std::vector<E2eCase> cases = {{"fashion-cnn", 64, gpu, 20}, {"fashion-cnn", 256, gpu, 20},
                                      {"alexnet", 128, gpu, 5},     {"zfnet", 128, gpu, 5},
                                      {"fashion-cnn", 16, cpu, 2}};
  for (const E2eCase& c : cases) {
    add_row(row_name("BM_Train/", c), [c](benchmark::State& s) { BM_Train(s, c); });
    add_row(row_name("BM_Infer/", c), [c](benchmark::State& s) { BM_Infer(s, c); });
  }
  return true;
}();

}  // namespace
}  // namespace cs::bench
