#include "models/trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "autograd/ops.h"
#include "kernels/tensor_ops.h"
#include "layers/dropout.h"
#include "models/checkpoint.h"
#include "models/optimizer.h"
#include "models/summary.h"
#include "runtime/file_io.h"
#include "runtime/safetensors.h"

namespace cs::models {

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", std::localtime(&now));
  return text;
}

std::string join(const std::string& dir, const std::string& file) { return dir + "/" + file; }

// Splits settings into model params and training settings.
void split_settings(const NetSpec& spec, const std::map<std::string, std::string>& settings,
                    std::map<std::string, std::string>& params,
                    std::map<std::string, std::string>& training) {
  for (const auto& [key, value] : settings) {
    if (spec.params.count(key)) {
      params[key] = value;
    } else if (is_train_setting(key)) {
      training[key] = value;
    } else {
      std::ostringstream valid;
      for (const std::string& p : spec.param_order) valid << " " << p;
      valid << ";";
      for (const SettingInfo& s : train_settings()) valid << " " << s.key;
      CS_FAIL("unknown setting '" << key << "' for model " << spec.name
                                  << "; valid settings are:" << valid.str());
    }
  }
}

struct RunPlan {
  NetSpec spec;
  TrainConfig config;
  std::map<std::string, std::string> train_values;
  std::string run_dir;
  int64_t start_epoch = 0;  // epochs already done
};

RunPlan plan_fresh(const TrainRequest& request) {
  RunPlan plan;
  plan.spec = load_net_spec(request.model);
  std::map<std::string, std::string> params, training;
  split_settings(plan.spec, request.settings, params, training);
  apply_overrides(plan.spec, params);
  std::map<std::string, std::string> values = plan.spec.train;
  for (const auto& [k, v] : training) values[k] = v;
  plan.config = make_train_config(values);
  plan.train_values = train_config_values(plan.config);
  plan.run_dir = request.out_dir.empty() ? "runs/" + plan.spec.name + "-" + timestamp() : request.out_dir;
  CS_CHECK(!file_exists(join(plan.run_dir, "checkpoint.safetensors")) &&
               !file_exists(join(plan.run_dir, "config.json")),
           plan.run_dir << " already holds a run: use --resume to continue it, or choose another --out");
  return plan;
}

RunPlan plan_resume(const TrainRequest& request) {
  CS_CHECK(!request.out_dir.empty(), "--resume needs --out RUN_DIR, the folder of the run to continue");
  const std::string config_path = join(request.out_dir, "config.json");
  CS_CHECK(file_exists(config_path), "cannot resume: " << config_path << " does not exist");
  json config;
  try {
    config = json::parse(read_file_text(config_path));
  } catch (const json::exception& e) {
    CS_FAIL(config_path << " is not valid JSON: " << e.what());
  }
  RunPlan plan;
  plan.run_dir = request.out_dir;
  try {
    plan.spec = parse_net_spec(config.at("spec").get<std::string>(),
                               config.at("spec_source").get<std::string>());
    params_from_json(plan.spec, config.at("params").dump());
    std::map<std::string, std::string> values = config.at("settings").get<std::map<std::string, std::string>>();
    for (const auto& [key, value] : request.settings) {
      CS_CHECK(key == "epochs", "when resuming, settings come from " << config_path
                                    << "; only epochs can be changed (got '" << key << "')");
      values[key] = value;
    }
    plan.config = make_train_config(values);
    plan.train_values = train_config_values(plan.config);
  } catch (const json::exception& e) {
    CS_FAIL(config_path << " lacks a field convscope needs: " << e.what());
  }
  return plan;
}

void write_run_files(const RunPlan& plan, Model& model, Device device) {
  make_directories(plan.run_dir);
  json config;
  config["model"] = plan.spec.name;
  config["spec_source"] = plan.spec.source;
  config["spec"] = plan.spec.text;
  config["params"] = plan.spec.params;
  config["settings"] = plan.train_values;
  config["device"] = device.str();
  write_file_atomic(join(plan.run_dir, "config.json"), config.dump(2) + "\n");
  write_file_atomic(join(plan.run_dir, "model.spec"), plan.spec.text);
  write_file_atomic(join(plan.run_dir, "summary.txt"),
                    format_summary(summarize(model), plan.spec.name));
}

json record_to_json(const EpochRecord& r) {
  return json{{"epoch", r.epoch},
              {"train_loss", r.train_loss},
              {"train_accuracy", r.train_accuracy},
              {"test_loss", r.test_loss},
              {"test_accuracy", r.test_accuracy},
              {"per_class_accuracy", r.per_class_accuracy},
              {"lr", r.lr},
              {"seconds", r.seconds},
              {"images_per_second", r.images_per_second}};
}

void write_metrics(const std::string& run_dir, const std::vector<EpochRecord>& history) {
  std::string text;
  for (const EpochRecord& r : history) text += record_to_json(r).dump() + "\n";
  write_file_atomic(join(run_dir, "metrics.jsonl"), text);
}

// A one-line live display, redrawn in place on a terminal; elsewhere (a log
// file, CI) a plain line at every fifth of an epoch.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled), terminal_(isatty(STDERR_FILENO)) {}
  void update(int64_t epoch, int64_t epochs, int64_t batch, int64_t batches, double loss,
              double images_per_second, double elapsed_seconds) {
    if (!enabled_) return;
    const int eta = static_cast<int>(elapsed_seconds / std::max<int64_t>(1, batch) * (batches - batch));
    if (!terminal_) {
      const int64_t fifth = std::max<int64_t>(1, batches / 5);
      if (batch % fifth != 0 || batch == batches) return;
      std::fprintf(stderr, "  epoch %lld/%lld  batch %lld/%lld  loss %.4f  %.0f img/s  ETA %d:%02d\n",
                   static_cast<long long>(epoch), static_cast<long long>(epochs),
                   static_cast<long long>(batch), static_cast<long long>(batches), loss,
                   images_per_second, eta / 60, eta % 60);
      return;
    }
    const auto now = Clock::now();
    if (batch != batches && now - last_ < std::chrono::milliseconds(150)) return;
    last_ = now;
    const int width = 24;
    const int filled = static_cast<int>(width * batch / std::max<int64_t>(1, batches));
    std::fprintf(stderr, "\r  epoch %lld/%lld [%s%s] %lld/%lld  loss %.4f  %.0f img/s  ETA %d:%02d   ",
                 static_cast<long long>(epoch), static_cast<long long>(epochs),
                 std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                 static_cast<long long>(batch), static_cast<long long>(batches), loss,
                 images_per_second, eta / 60, eta % 60);
    std::fflush(stderr);
  }
  void finish() {
    if (!enabled_ || !terminal_) return;
    std::fprintf(stderr, "\r%s\r", std::string(100, ' ').c_str());
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  bool terminal_;
  Clock::time_point last_{};
};

// Test accuracy of every class, one line each, after training.
void print_per_class(const Evaluation& test, const std::vector<std::string>& class_names) {
  std::printf("per-class test accuracy:\n");
  for (size_t c = 0; c < test.per_class_accuracy.size(); ++c)
    std::printf("  %-14s %6.2f%%\n", c < class_names.size() ? class_names[c].c_str() : "?",
                100 * test.per_class_accuracy[c]);
}

}  // namespace

std::vector<EpochRecord> read_metrics(const std::string& run_dir) {
  const std::string path = join(run_dir, "metrics.jsonl");
  std::vector<EpochRecord> out;
  if (!file_exists(path)) return out;
  std::istringstream in(read_file_text(path));
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.empty()) continue;
    try {
      const json j = json::parse(line);
      EpochRecord r;
      r.epoch = j.at("epoch").get<int64_t>();
      r.train_loss = j.at("train_loss").get<double>();
      r.train_accuracy = j.value("train_accuracy", 0.0);
      r.test_loss = j.at("test_loss").get<double>();
      r.test_accuracy = j.at("test_accuracy").get<double>();
      r.per_class_accuracy = j.value("per_class_accuracy", std::vector<double>{});
      r.lr = j.value("lr", 0.0);
      r.seconds = j.value("seconds", 0.0);
      r.images_per_second = j.value("images_per_second", 0.0);
      out.push_back(r);
    } catch (const json::exception& e) {
      CS_FAIL(path << ":" << line_number << ": not a metrics record: " << e.what());
    }
  }
  return out;
}

TrainResult train(const TrainRequest& request) {
  RunPlan plan = request.resume ? plan_resume(request) : plan_fresh(request);
  const TrainConfig& cfg = plan.config;
  const Device device = parse_device(request.device);
  say_once_if_cpu_fallback(device, request.device);

  Model model = build_model(plan.spec, cfg.seed);
  model.net->to(device);
  const DataSource data = load_dataset(cfg.data, device, model.input_shape);
  CS_CHECK(static_cast<int>(data.class_names.size()) == model.classes,
           "the model has " << model.classes << " outputs but " << data.name << " has "
                            << data.class_names.size() << " classes (set classes="
                            << data.class_names.size() << ")");

  Optimizer optimizer(model.net->named_parameters(), cfg.optimizer);
  std::vector<EpochRecord> history;
  uint64_t global_step = 0;
  if (request.resume) {
    const std::string ckpt = join(plan.run_dir, "checkpoint.safetensors");
    const std::string state_path = join(plan.run_dir, "train_state.safetensors");
    CS_CHECK(file_exists(ckpt) && file_exists(state_path),
             "cannot resume " << plan.run_dir << ": it has no checkpoint yet (no epoch finished)");
    const SafetensorsFile weights = load_safetensors(ckpt);
    model.net->load_state_dict(weights.tensors, true);
    const SafetensorsFile state = load_safetensors(state_path);
    optimizer.load_state_dict(state.tensors);
    const auto epoch_of = [](const SafetensorsFile& f, const std::string& path) {
      auto it = f.metadata.find("convscope.epoch");
      CS_CHECK(it != f.metadata.end(), path << " does not say which epoch it holds");
      return std::stoll(it->second);
    };
    plan.start_epoch = epoch_of(state, state_path);
    CS_CHECK(epoch_of(weights, ckpt) == plan.start_epoch,
             "cannot resume: " << ckpt << " and " << state_path
                               << " hold different epochs (the run stopped while saving)");
    global_step = std::stoull(state.metadata.at("convscope.global_step"));
    history = read_metrics(plan.run_dir);
    history.resize(std::min<size_t>(history.size(), plan.start_epoch));
    CS_CHECK(plan.start_epoch < cfg.epochs, plan.run_dir << " already finished its "
                                                         << cfg.epochs << " epochs (raise them with --set epochs=N)");
    std::printf("resuming %s after epoch %lld\n", plan.run_dir.c_str(),
                static_cast<long long>(plan.start_epoch));
  }
  write_run_files(plan, model, device);  // on resume: the (possibly raised) epochs

  std::printf("%s", format_summary(summarize(model), plan.spec.name).c_str());
  std::printf("training on %s: %lld examples, %lld test examples, %lld epochs of batch %lld, "
              "%s lr %g; run folder %s\n",
              device.str().c_str(), static_cast<long long>(data.train.size()),
              static_cast<long long>(data.test.size()), static_cast<long long>(cfg.epochs),
              static_cast<long long>(cfg.batch_size), cfg.optimizer.name.c_str(), cfg.optimizer.lr,
              plan.run_dir.c_str());
  std::fflush(stdout);
  const Shape input = model.input_shape;
  BatchIterator batches(data.train, data, cfg.batch_size, true, cfg.seed, input, cfg.data.augment);
  ProgressLine progress(request.progress);
  TrainResult result;
  result.run_dir = plan.run_dir;
  Evaluation test;
  for (int64_t epoch = plan.start_epoch + 1; epoch <= cfg.epochs; ++epoch) {
    const auto start = Clock::now();
    model.net->train();
    batches.start_epoch(epoch - 1);
    const int64_t steps = batches.batches();
    double loss_sum = 0;
    int64_t seen = 0, step = 0, correct = 0;
    double lr = 0;
    Tensor images, labels;
    while (batches.next(images, labels)) {
      lr = learning_rate_at(cfg.optimizer.lr, cfg.schedule,
                            static_cast<double>(epoch - 1) + static_cast<double>(step) / steps,
                            static_cast<double>(cfg.epochs));
      nn::set_dropout_step(cfg.seed, global_step);
      optimizer.zero_grad();
      const ag::Variable logits = (*model.net)(ag::Variable(images));
      const ag::Variable loss = ag::cross_entropy(logits, labels, cfg.label_smoothing);
      const double loss_value = loss.value().item();
      if (!std::isfinite(loss_value)) {
        ag::clear_tape();
        CS_FAIL("the loss became " << loss_value << " at epoch " << epoch << ", step " << step + 1
                                   << " (learning rate " << lr
                                   << "): training diverged; try a lower learning rate, e.g. --lr "
                                   << cfg.optimizer.lr / 10);
      }
      Tensor predicted = Tensor::empty({labels.numel()}, labels.device(), DType::I32);  // (N)
      kernels::argmax_rows(logits.value(), predicted);
      ag::backward(loss);
      optimizer.step(lr);
      // One small read-back per step, beside the loss's; the truth is already on the host.
      const std::vector<int32_t> guess = predicted.to_vector<int32_t>();
      const std::vector<int32_t>& truth = batches.last_labels_host();
      CS_CHECK(truth.size() == guess.size(), "training data has no host copy of its labels");
      for (size_t i = 0; i < guess.size(); ++i) correct += guess[i] == truth[i];
      ++step;
      ++global_step;
      loss_sum += loss_value * static_cast<double>(labels.numel());
      seen += labels.numel();
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      progress.update(epoch, cfg.epochs, step, steps, loss_sum / seen, seen / std::max(elapsed, 1e-9),
                      elapsed);
    }
    synchronize(device);
    const double train_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    progress.finish();

    test = evaluate(*model.net, data.test, data, input, model.classes, cfg.eval_batch_size);
    EpochRecord record;
    record.epoch = epoch;
    record.train_loss = loss_sum / static_cast<double>(seen);
    record.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
    record.test_loss = test.loss;
    record.test_accuracy = test.accuracy;
    record.per_class_accuracy = test.per_class_accuracy;
    record.lr = lr;
    record.seconds = train_seconds;
    record.images_per_second = static_cast<double>(seen) / train_seconds;
    history.push_back(record);
    std::printf("epoch %lld/%lld  train loss %.4f (accuracy %.2f%%)  test loss %.4f  test accuracy %.2f%%  "
                "lr %.4g  %.1f s (%.0f img/s)\n",
                static_cast<long long>(epoch), static_cast<long long>(cfg.epochs),
                record.train_loss, 100 * record.train_accuracy, record.test_loss, 100 * record.test_accuracy, lr,
                train_seconds, record.images_per_second);
    std::fflush(stdout);

    // Weights first, then the optimizer state: resume checks that both hold the same epoch.
    const std::map<std::string, std::string> epoch_meta = {
        {"convscope.epoch", std::to_string(epoch)},
        {"convscope.global_step", std::to_string(global_step)},
        {"convscope.dataset", data.name},
        {"convscope.class_names", json(data.class_names).dump()},
        {"convscope.mean", json(data.mean).dump()},
        {"convscope.std", json(data.std).dump()}};
    save_checkpoint(join(plan.run_dir, "checkpoint.safetensors"), model, epoch_meta);
    save_safetensors(join(plan.run_dir, "train_state.safetensors"), optimizer.state_dict(), epoch_meta);
    write_metrics(plan.run_dir, history);
    if (request.on_epoch) request.on_epoch(plan.run_dir, history, test, data, model);
    if (request.stop_after_epochs > 0 && epoch - plan.start_epoch >= request.stop_after_epochs) {
      std::printf("stopping after epoch %lld as asked; continue with --resume --out %s\n",
                  static_cast<long long>(epoch), plan.run_dir.c_str());
      break;
    }
  }
  if (test.examples == 0)  // nothing left to train: report the checkpoint as it is
    test = evaluate(*model.net, data.test, data, input, model.classes, cfg.eval_batch_size);
  print_per_class(test, data.class_names);
  result.history = history;
  result.final_test = test;
  return result;
}

}  // namespace cs::models
