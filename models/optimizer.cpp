#include "models/optimizer.h"

#include <cmath>

#include "kernels/optimizer.h"

namespace cs::models {

void check_optimizer_config(const OptimizerConfig& c) {
  CS_CHECK(c.name == "sgd" || c.name == "adam" || c.name == "adamw",
           "unknown optimizer '" << c.name << "' (expected sgd, adam or adamw)");
  CS_CHECK(c.lr > 0 && std::isfinite(c.lr), "learning rate must be positive, got " << c.lr);
  CS_CHECK(c.momentum >= 0 && c.momentum < 1, "momentum must be in [0, 1), got " << c.momentum);
  CS_CHECK(c.weight_decay >= 0, "weight decay must be >= 0, got " << c.weight_decay);
  CS_CHECK(!c.nesterov || (c.momentum > 0 && c.dampening == 0),
           "Nesterov momentum needs momentum > 0 and no dampening");
  CS_CHECK(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1,
           "Adam betas must be in [0, 1), got " << c.beta1 << ", " << c.beta2);
}

void check_schedule_config(const ScheduleConfig& s) {
  CS_CHECK(s.name == "constant" || s.name == "step" || s.name == "cosine",
           "unknown schedule '" << s.name << "' (expected constant, step or cosine)");
  CS_CHECK(s.warmup_epochs >= 0, "warm-up epochs must be >= 0, got " << s.warmup_epochs);
  CS_CHECK(s.step_epochs > 0, "step_epochs must be positive, got " << s.step_epochs);
  CS_CHECK(s.gamma > 0 && s.gamma <= 1, "step gamma must be in (0, 1], got " << s.gamma);
}

double learning_rate_at(double base_lr, const ScheduleConfig& s, double epoch, double total) {
  if (s.warmup_epochs > 0 && epoch < s.warmup_epochs)
    return base_lr * (0.1 + 0.9 * epoch / s.warmup_epochs);
  if (s.name == "step") return base_lr * std::pow(s.gamma, std::floor(epoch / s.step_epochs));
  if (s.name == "cosine") {
    const double span = std::max(1e-9, total - s.warmup_epochs);
    const double t = std::min(1.0, std::max(0.0, (epoch - s.warmup_epochs) / span));
    return base_lr * 0.5 * (1.0 + std::cos(M_PI * t));
  }
  return base_lr;
}

Optimizer::Optimizer(std::vector<std::pair<std::string, ag::Variable>> params,
                     OptimizerConfig config)
    : config_(std::move(config)) {
  check_optimizer_config(config_);
  for (auto& [name, p] : params) slots_.push_back(Slot{name, p, Tensor(), Tensor()});
}

void Optimizer::zero_grad() {
  for (Slot& s : slots_) s.param.zero_grad();
}

void Optimizer::step(double lr) {
  ++steps_;
  for (Slot& s : slots_) {
    if (!s.param.has_grad()) continue;
    Tensor& value = s.param.value();
    const Tensor& grad = s.param.grad();
    if (config_.name == "sgd") {
      kernels::SgdArgs a;
      a.lr = lr;
      a.momentum = config_.momentum;
      a.dampening = config_.dampening;
      a.weight_decay = config_.weight_decay;
      a.nesterov = config_.nesterov;
      a.first_step = !s.buffer_a.defined();
      if (config_.momentum > 0 && !s.buffer_a.defined()) s.buffer_a = Tensor::empty_like(value);
      kernels::sgd_step(value, grad, s.buffer_a, a);
    } else {
      if (!s.buffer_a.defined()) {
        s.buffer_a = Tensor::zeros_like(value);
        s.buffer_b = Tensor::zeros_like(value);
      }
      kernels::AdamArgs a;
      a.lr = lr;
      a.beta1 = config_.beta1;
      a.beta2 = config_.beta2;
      a.eps = config_.eps;
      a.weight_decay = config_.weight_decay;
      a.decoupled_weight_decay = config_.name == "adamw";
      a.step = steps_;
      kernels::adam_step(value, grad, s.buffer_a, s.buffer_b, a);
    }
  }
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> out;
  const bool sgd = config_.name == "sgd";
  for (const Slot& s : slots_) {
    if (s.buffer_a.defined()) out[s.name + (sgd ? ".momentum" : ".exp_avg")] = s.buffer_a;
    if (s.buffer_b.defined()) out[s.name + ".exp_avg_sq"] = s.buffer_b;
  }
  out["optimizer.steps"] =
      Tensor::from_vector(std::vector<double>{static_cast<double>(steps_)}, {1});
  return out;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
  auto it = state.find("optimizer.steps");
  CS_CHECK(it != state.end(), "optimizer state has no 'optimizer.steps' entry");
  steps_ = static_cast<int64_t>(it->second.item());
  const bool sgd = config_.name == "sgd";
  for (Slot& s : slots_) {
    const Device d = s.param.device();
    auto a = state.find(s.name + (sgd ? ".momentum" : ".exp_avg"));
    s.buffer_a = a == state.end() ? Tensor() : a->second.to(s.param.dtype()).to(d).clone();
    auto b = state.find(s.name + ".exp_avg_sq");
    s.buffer_b = b == state.end() ? Tensor() : b->second.to(s.param.dtype()).to(d).clone();
    if (!sgd && steps_ > 0)
      CS_CHECK(s.buffer_a.defined() && s.buffer_b.defined(),
               "optimizer state lacks the Adam moments of '" << s.name << "'");
    if (s.buffer_a.defined())
      CS_CHECK(s.buffer_a.shape() == s.param.shape(), "optimizer state for '" << s.name
                                                          << "' has the wrong shape");
  }
}

}  // namespace cs::models
