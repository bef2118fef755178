// Module: the building block of networks, in PyTorch's image.
//
// A module has a forward pass, named parameters (Variables that require a
// gradient) and buffers (running statistics), children with dotted names
// ("features.3.weight"), and a train/eval mode. Calling a module runs forward
// and offers the output to the active ActivationCapture (capture.h), which is
// how feature maps, top patches, DeepDream and style losses reach inside any
// network without hooks.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"

namespace cs::nn {

using ag::Variable;

// Spatial geometry of a layer, for receptive-field arithmetic.
struct LayerGeometry {
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
};

class Module {
 public:
  explicit Module(std::string type) : type_(std::move(type)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // forward(x), then the output is offered to the active capture.
  Variable operator()(const Variable& x);
  virtual Variable forward(const Variable& x) = 0;

  const std::string& type() const { return type_; }
  // Dotted path from the root ("features.3"); "" for the root itself.
  std::string path() const;
  const std::string& local_name() const { return local_name_; }

  // ---- parameters, buffers, state ----
  std::vector<std::pair<std::string, Variable>> named_parameters() const;
  std::vector<Variable> parameters() const;
  std::vector<std::pair<std::string, Tensor*>> named_buffers();
  int64_t parameter_count() const;
  // Parameters and buffers by full name (copies share storage).
  std::map<std::string, Tensor> state_dict();
  // Copies values in (converting device and dtype). strict: every name must
  // match both ways; the error lists the missing and unexpected names.
  // PyTorch's BatchNorm "num_batches_tracked" entries are accepted and ignored.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
  void zero_grad();

  // ---- mode and placement ----
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }
  void to(Device device);
  void to(DType dtype);
  Device device() const;

  // ---- structure ----
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }
  // The module at a dotted path below this one, or nullptr.
  std::shared_ptr<Module> find(const std::string& path) const;
  // Every module below this one in forward order (depth first), with paths.
  std::vector<std::pair<std::string, Module*>> leaves();

  // (Re)initialises parameters from the Philox stream (PyTorch's defaults):
  // each layer mixes `seed` with its own path, so inits do not depend on
  // which other layers exist.
  virtual void reset_parameters(uint64_t seed);

  // ---- description, shapes, cost (summaries, net-spec checks) ----
  virtual std::string describe() const { return type_; }
  // Throws a one-line error when `input` does not suit this layer.
  virtual Shape output_shape(const Shape& input) const { return input; }
  // Floating-point operations of one forward pass on `input` (2 per multiply-add).
  virtual int64_t flops(const Shape& input) const;
  // Set for layers that move a spatial window (conv, pooling).
  virtual std::optional<LayerGeometry> geometry() const { return std::nullopt; }

 protected:
  Variable& register_parameter(const std::string& name, Tensor value);
  Tensor& register_buffer(const std::string& name, Tensor value);
  void register_module(const std::string& name, std::shared_ptr<Module> child);
  // A per-layer seed: `seed` mixed with this module's path.
  uint64_t seed_for_path(uint64_t seed) const;

 private:
  std::string type_;
  std::string local_name_;
  Module* parent_ = nullptr;
  bool training_ = true;
  std::deque<std::pair<std::string, Variable>> params_;  // deque: references stay valid
  std::deque<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// While alive, no parameter of `net` requires a gradient: backward passes for
// visualizations then reach the input without computing (or accumulating
// into) weight gradients. Restores each parameter's setting afterwards.
class FrozenParameters {
 public:
  explicit FrozenParameters(Module& net);
  ~FrozenParameters();
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<std::pair<Variable, bool>> saved_;
};

// splitmix64: mixes seeds and indices into well-spread 64-bit seeds.
uint64_t mix_seed(uint64_t a, uint64_t b);
uint64_t hash_string(const std::string& text);

}  // namespace cs::nn
