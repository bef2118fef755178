#include "models/train_config.h"

#include <cmath>
#include <sstream>

#include "runtime/error.h"

namespace cs::models {

const std::vector<SettingInfo>& train_settings() {
  static const std::vector<SettingInfo> settings = {
      {"epochs", "10", "passes over the training set"},
      {"batch_size", "128", "examples per training step"},
      {"eval_batch_size", "1000", "examples per evaluation batch"},
      {"optimizer", "sgd", "sgd, adam or adamw"},
      {"lr", "0.05", "base learning rate"},
      {"momentum", "0.9", "SGD momentum (0 = plain SGD)"},
      {"nesterov", "false", "Nesterov momentum (SGD)"},
      {"dampening", "0", "SGD momentum dampening"},
      {"weight_decay", "0", "L2 penalty (decoupled for adamw)"},
      {"beta1", "0.9", "Adam first-moment decay"},
      {"beta2", "0.999", "Adam second-moment decay"},
      {"eps", "1e-8", "Adam epsilon"},
      {"schedule", "cosine", "learning-rate schedule: constant, step or cosine"},
      {"warmup_epochs", "0", "linear warm-up from lr/10 over this many epochs"},
      {"step_epochs", "3", "step schedule: epochs between decays"},
      {"gamma", "0.1", "step schedule: decay factor"},
      {"label_smoothing", "0", "cross-entropy label smoothing in [0, 1)"},
      {"seed", "1", "seed of initialisation, shuffling and dropout"},
      {"dataset", "fashion-mnist", "fashion-mnist, mnist or folder (one subfolder of images per class)"},
      {"data_dir", "", "dataset folder (default: the dataset's package folder)"},
      {"augment", "false", "random crops and mirrored images while training"},
      {"image_size", "0", "folder datasets: stored image side (0: the model's input + 1/8)"},
      {"max_train", "0", "use only the first N training examples (0 = all)"},
      {"max_test", "0", "use only the first N test examples (0 = all)"},
  };
  return settings;
}

bool is_train_setting(const std::string& key) {
  for (const SettingInfo& s : train_settings())
    if (s.key == key) return true;
  return false;
}

namespace {

int64_t to_integer(const std::string& key, const std::string& text, int64_t minimum) {
  int64_t v = 0;
  try {
    size_t used = 0;
    v = std::stoll(text, &used);
    CS_CHECK(used == text.size(), "");
  } catch (...) {
    CS_FAIL("setting " << key << " must be a whole number, got '" << text << "'");
  }
  CS_CHECK(v >= minimum, "setting " << key << " must be at least " << minimum << ", got " << v);
  return v;
}

double to_real(const std::string& key, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    CS_CHECK(used == text.size() && std::isfinite(v), "");
    return v;
  } catch (...) {
    CS_FAIL("setting " << key << " must be a number, got '" << text << "'");
  }
}

bool to_bool(const std::string& key, const std::string& text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  CS_FAIL("setting " << key << " must be true or false, got '" << text << "'");
}

}  // namespace

TrainConfig make_train_config(const std::map<std::string, std::string>& values) {
  std::map<std::string, std::string> v;
  for (const SettingInfo& s : train_settings()) v[s.key] = s.default_value;
  for (const auto& [key, value] : values) {
    if (!is_train_setting(key)) {
      std::ostringstream valid;
      for (const SettingInfo& s : train_settings()) valid << " " << s.key;
      CS_FAIL("unknown setting '" << key << "'; training settings are:" << valid.str()
                                  << " (model params are listed by `convscope summary`)");
    }
    v[key] = value;
  }
  TrainConfig c;
  c.epochs = to_integer("epochs", v["epochs"], 1);
  c.batch_size = to_integer("batch_size", v["batch_size"], 1);
  c.eval_batch_size = to_integer("eval_batch_size", v["eval_batch_size"], 1);
  c.label_smoothing = to_real("label_smoothing", v["label_smoothing"]);
  CS_CHECK(c.label_smoothing >= 0 && c.label_smoothing < 1,
           "setting label_smoothing must be in [0, 1), got " << c.label_smoothing);
  c.seed = static_cast<uint64_t>(to_integer("seed", v["seed"], 0));
  c.optimizer.name = v["optimizer"];
  c.optimizer.lr = to_real("lr", v["lr"]);
  c.optimizer.momentum = to_real("momentum", v["momentum"]);
  c.optimizer.nesterov = to_bool("nesterov", v["nesterov"]);
  c.optimizer.dampening = to_real("dampening", v["dampening"]);
  c.optimizer.weight_decay = to_real("weight_decay", v["weight_decay"]);
  c.optimizer.beta1 = to_real("beta1", v["beta1"]);
  c.optimizer.beta2 = to_real("beta2", v["beta2"]);
  c.optimizer.eps = to_real("eps", v["eps"]);
  if (c.optimizer.name != "sgd") c.optimizer.nesterov = false;
  check_optimizer_config(c.optimizer);
  c.schedule.name = v["schedule"];
  c.schedule.warmup_epochs = to_real("warmup_epochs", v["warmup_epochs"]);
  c.schedule.step_epochs = to_real("step_epochs", v["step_epochs"]);
  c.schedule.gamma = to_real("gamma", v["gamma"]);
  check_schedule_config(c.schedule);
  c.data.dataset = v["dataset"];
  c.data.dir = v["data_dir"];
  c.data.max_train = to_integer("max_train", v["max_train"], 0);
  c.data.max_test = to_integer("max_test", v["max_test"], 0);
  c.data.augment = to_bool("augment", v["augment"]);
  c.data.image_size = to_integer("image_size", v["image_size"], 0);
  return c;
}

std::map<std::string, std::string> train_config_values(const TrainConfig& c) {
  auto num = [](double x) {
    std::ostringstream out;
    out << x;
    return out.str();
  };
  return {
      {"epochs", std::to_string(c.epochs)},
      {"batch_size", std::to_string(c.batch_size)},
      {"eval_batch_size", std::to_string(c.eval_batch_size)},
      {"optimizer", c.optimizer.name},
      {"lr", num(c.optimizer.lr)},
      {"momentum", num(c.optimizer.momentum)},
      {"nesterov", c.optimizer.nesterov ? "true" : "false"},
      {"dampening", num(c.optimizer.dampening)},
      {"weight_decay", num(c.optimizer.weight_decay)},
      {"beta1", num(c.optimizer.beta1)},
      {"beta2", num(c.optimizer.beta2)},
      {"eps", num(c.optimizer.eps)},
      {"schedule", c.schedule.name},
      {"warmup_epochs", num(c.schedule.warmup_epochs)},
      {"step_epochs", num(c.schedule.step_epochs)},
      {"gamma", num(c.schedule.gamma)},
      {"label_smoothing", num(c.label_smoothing)},
      {"seed", std::to_string(c.seed)},
      {"dataset", c.data.dataset},
      {"data_dir", c.data.dir},
      {"max_train", std::to_string(c.data.max_train)},
      {"max_test", std::to_string(c.data.max_test)},
      {"augment", c.data.augment ? "true" : "false"},
      {"image_size", std::to_string(c.data.image_size)},
  };
}

}  // namespace cs::models
