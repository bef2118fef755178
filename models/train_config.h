// Training settings: every hyperparameter has a name, a default, and a
// one-line description; values come from the model spec's `train` line,
// then command-line flags and --set key=value, and are validated together.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/data.h"
#include "models/optimizer.h"

namespace cs::models {

struct TrainConfig {
  int64_t epochs = 10;
  int64_t batch_size = 128;
  int64_t eval_batch_size = 1000;
  double label_smoothing = 0.0;
  uint64_t seed = 1;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  DataConfig data;
};

struct SettingInfo {
  std::string key;
  std::string default_value;
  std::string help;
};

// Every training setting, with its built-in default and meaning.
const std::vector<SettingInfo>& train_settings();
bool is_train_setting(const std::string& key);

// Builds the config from defaults overlaid with `values` (key -> text);
// throws on unknown keys (listing the valid ones) and bad values.
TrainConfig make_train_config(const std::map<std::string, std::string>& values);
// The config as key -> text (for config.json and resume checks).
std::map<std::string, std::string> train_config_values(const TrainConfig& config);

}  // namespace cs::models
