#include "layers/module.h"

#include <set>
#include <sstream>

#include "layers/capture.h"

namespace cs::nn {

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t hash_string(const std::string& text) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

Variable Module::operator()(const Variable& x) {
  Variable y = forward(x);
  if (ActivationCapture* capture = ActivationCapture::active()) capture->offer(path(), y);
  return y;
}

std::string Module::path() const {
  if (!parent_) return "";
  const std::string up = parent_->path();
  return up.empty() ? local_name_ : up + "." + local_name_;
}

Variable& Module::register_parameter(const std::string& name, Tensor value) {
  params_.emplace_back(name, Variable(std::move(value), true, name));
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  buffers_.emplace_back(name, std::move(value));
  return buffers_.back().second;
}

void Module::register_module(const std::string& name, std::shared_ptr<Module> child) {
  CS_CHECK(child != nullptr, "register_module: null module '" << name << "'");
  CS_CHECK(child->parent_ == nullptr, "module '" << name << "' already has a parent");
  for (const auto& [existing, m] : children_)
    CS_CHECK(existing != name, "two children named '" << name << "'");
  child->parent_ = this;
  child->local_name_ = name;
  child->training_ = training_;
  children_.emplace_back(name, std::move(child));
}

uint64_t Module::seed_for_path(uint64_t seed) const { return mix_seed(seed, hash_string(path())); }

std::vector<std::pair<std::string, Variable>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Variable>> out;
  for (const auto& [name, v] : params_) out.emplace_back(name, v);
  for (const auto& [child_name, child] : children_)
    for (auto& [name, v] : child->named_parameters()) out.emplace_back(child_name + "." + name, v);
  return out;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> out;
  for (auto& [name, v] : named_parameters()) out.push_back(v);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Module::named_buffers() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (auto& [name, t] : buffers_) out.emplace_back(name, &t);
  for (auto& [child_name, child] : children_)
    for (auto& [name, t] : child->named_buffers()) out.emplace_back(child_name + "." + name, t);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (const auto& [name, v] : named_parameters()) n += v.value().numel();
  return n;
}

std::map<std::string, Tensor> Module::state_dict() {
  std::map<std::string, Tensor> out;
  for (auto& [name, v] : named_parameters()) out[name] = v.value();
  for (auto& [name, t] : named_buffers()) out[name] = *t;
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  std::map<std::string, Tensor*> targets;
  for (auto& [name, v] : named_parameters()) targets[name] = &v.value();
  for (auto& [name, t] : named_buffers()) targets[name] = t;
  std::vector<std::string> missing, unexpected;
  for (const auto& [name, target] : targets)
    if (!state.count(name)) missing.push_back(name);
  for (const auto& [name, t] : state) {
    const bool ignorable = name.size() >= 19 && name.ends_with("num_batches_tracked");
    if (!targets.count(name) && !ignorable) unexpected.push_back(name);
  }
  if (strict && (!missing.empty() || !unexpected.empty())) {
    std::ostringstream msg;
    msg << "the weights do not match the model:";
    auto list = [&msg](const char* what, const std::vector<std::string>& names) {
      if (names.empty()) return;
      msg << " " << what << " (" << names.size() << "): ";
      for (size_t i = 0; i < names.size() && i < 12; ++i) msg << (i ? ", " : "") << names[i];
      if (names.size() > 12) msg << ", ...";
      msg << ";";
    };
    list("missing", missing);
    list("unexpected", unexpected);
    msg << " (use --non-strict to load the tensors that do match)";
    CS_FAIL(msg.str());
  }
  // Check every shape before changing anything: a failed load leaves the model as it was.
  for (const auto& [name, target] : targets) {
    auto it = state.find(name);
    if (it == state.end()) continue;
    CS_CHECK(it->second.shape() == target->shape(),
             "tensor '" << name << "' has shape " << shape_str(it->second.shape())
                        << " in the weights but " << shape_str(target->shape()) << " in the model");
  }
  for (auto& [name, target] : targets) {
    auto it = state.find(name);
    if (it == state.end()) continue;
    target->copy_from(it->second.to(target->dtype()).to(target->device()));
  }
}

void Module::zero_grad() {
  for (auto& [name, v] : named_parameters()) v.zero_grad();
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
  for (auto& [name, v] : params_) {
    v.value() = v.value().to(device);
    v.zero_grad();
  }
  for (auto& [name, t] : buffers_) t = t.to(device);
  for (auto& [name, child] : children_) child->to(device);
}

void Module::to(DType dtype) {
  for (auto& [name, v] : params_) {
    v.value() = v.value().to(dtype);
    v.zero_grad();
  }
  for (auto& [name, t] : buffers_)
    if (is_floating(t.dtype())) t = t.to(dtype);
  for (auto& [name, child] : children_) child->to(dtype);
}

Device Module::device() const {
  for (const auto& [name, v] : named_parameters()) return v.device();
  return Device::cpu();
}

std::shared_ptr<Module> Module::find(const std::string& path) const {
  const size_t dot = path.find('.');
  const std::string head = path.substr(0, dot);
  for (const auto& [name, child] : children_) {
    if (name != head) continue;
    if (dot == std::string::npos) return child;
    return child->find(path.substr(dot + 1));
  }
  return nullptr;
}

std::vector<std::pair<std::string, Module*>> Module::leaves() {
  std::vector<std::pair<std::string, Module*>> out;
  for (auto& [name, child] : children_) {
    if (child->children().empty()) {
      out.emplace_back(child->path(), child.get());
    } else {
      for (auto& leaf : child->leaves()) out.push_back(leaf);
    }
  }
  return out;
}

void Module::reset_parameters(uint64_t seed) {
  for (auto& [name, child] : children_) child->reset_parameters(seed);
}

int64_t Module::flops(const Shape&) const { return 0; }

FrozenParameters::FrozenParameters(Module& net) {
  for (auto& [name, v] : net.named_parameters()) {
    saved_.emplace_back(v, v.requires_grad());
    v.set_requires_grad(false);
  }
}

FrozenParameters::~FrozenParameters() {
  for (auto& [v, required] : saved_) v.set_requires_grad(required);
}

}  // namespace cs::nn
