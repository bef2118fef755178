// The training loop: shuffled mini-batches from a dataset resident on the
// device, forward, cross-entropy, backward, optimizer step; evaluation on the
// test set after every epoch; metrics, config and checkpoints written to the
// run folder atomically; exact resume.
//
// Run folder (runs/<name>/):
//   config.json                 model, params, every training setting, device
//   model.spec                  the net spec that built the model
//   summary.txt                 the layer table
//   metrics.jsonl               one JSON object per epoch
//   checkpoint.safetensors      model weights (PyTorch names) + spec metadata
//   train_state.safetensors     optimizer state, epoch and step, for --resume
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/data.h"
#include "models/evaluate.h"
#include "models/netspec.h"
#include "models/train_config.h"

namespace cs::models {

struct EpochRecord {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0;
  double train_accuracy = 0;  // on the augmented, dropout-on training batches
  double test_loss = 0;
  double test_accuracy = 0;
  std::vector<double> per_class_accuracy;
  double lr = 0;  // at the end of the epoch
  double seconds = 0;
  double images_per_second = 0;
};

struct TrainRequest {
  std::string model = "fashion-cnn";            // built-in name or spec file
  std::map<std::string, std::string> settings;  // model params and training settings
  std::string device = "auto";
  std::string out_dir;                          // default: runs/<model>-<date-time>
  bool resume = false;
  bool progress = true;                         // live progress line on a terminal
  int64_t stop_after_epochs = 0;                // stop early (resume later); 0 = run all
  // Called after each epoch's files are written (pictures, reports, tests).
  std::function<void(const std::string& run_dir, const std::vector<EpochRecord>& history,
                     const Evaluation& test, const DataSource& data, const Model& model)>
      on_epoch;
};

struct TrainResult {
  std::string run_dir;
  std::vector<EpochRecord> history;
  Evaluation final_test;
};

TrainResult train(const TrainRequest& request);

// Reads metrics.jsonl of a run folder.
std::vector<EpochRecord> read_metrics(const std::string& run_dir);

}  // namespace cs::models
