// Optimizers over a model's parameters: SGD (momentum, Nesterov, weight decay)
// and Adam/AdamW, with PyTorch's semantics, each parameter updated by one
// fused kernel (kernels/optimizer.h). State can be saved and restored, so a
// resumed run continues exactly.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace cs::models {

struct OptimizerConfig {
  std::string name = "sgd";  // sgd | adam | adamw
  double lr = 0.05;
  double momentum = 0.9;
  double dampening = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

class Optimizer {
 public:
  Optimizer(std::vector<std::pair<std::string, ag::Variable>> params, OptimizerConfig config);

  // Applies one update with learning rate `lr` to every parameter that has a gradient.
  void step(double lr);
  void zero_grad();
  int64_t steps() const { return steps_; }
  const OptimizerConfig& config() const { return config_; }

  // Buffers by name ("features.0.weight.momentum", ".exp_avg", ".exp_avg_sq")
  // plus the step count, for checkpoints.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& state);

 private:
  struct Slot {
    std::string name;
    ag::Variable param;
    Tensor buffer_a;  // momentum buffer (SGD) or first moment (Adam)
    Tensor buffer_b;  // second moment (Adam)
  };
  OptimizerConfig config_;
  std::vector<Slot> slots_;
  int64_t steps_ = 0;
};

// Validates the name and values; throws with the accepted choices.
void check_optimizer_config(const OptimizerConfig& config);

// Learning rate at a (fractional) epoch: warm-up from lr/10 over warmup_epochs, then
// constant, step (x gamma every step_epochs) or cosine (to 0 at total_epochs).
struct ScheduleConfig {
  std::string name = "cosine";  // constant | step | cosine
  double warmup_epochs = 0;
  double step_epochs = 3;
  double gamma = 0.1;
};
double learning_rate_at(double base_lr, const ScheduleConfig& schedule, double epoch,
                        double total_epochs);
void check_schedule_config(const ScheduleConfig& schedule);

}  // namespace cs::models
