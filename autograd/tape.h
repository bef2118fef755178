// The tape: reverse-mode automatic differentiation.
//
// While grad mode is on, every differentiable op whose inputs require a
// gradient appends a Node to the thread's tape: its inputs, its outputs and a
// backward closure (which holds the tensors it saved). backward(v, seed)
// walks the tape in reverse from any variable with any seed gradient, asks
// each reached node for its input gradients and accumulates them (+=) into
// the inputs. Then the tape is freed.
//
// Backward rules are data, not hooks: the ReLU rule in force *when backward
// runs* (ReluRuleGuard) decides how every ReLU on the tape passes gradients
// down - standard, guided or deconvnet. Saliency, deconvnet projections and
// guided backpropagation are the same backward pass under three rules.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "autograd/variable.h"
#include "kernels/activation.h"

namespace cs::ag {

// ---- scoped settings (thread-local) --------------------------------------------

bool grad_enabled();

// Ops run without recording while a NoGradGuard lives (evaluation, viz scans).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

using kernels::ReluRule;
ReluRule current_relu_rule();

// Every ReLU backward run while the guard lives uses `rule`.
class ReluRuleGuard {
 public:
  explicit ReluRuleGuard(ReluRule rule);
  ~ReluRuleGuard();
  ReluRuleGuard(const ReluRuleGuard&) = delete;
  ReluRuleGuard& operator=(const ReluRuleGuard&) = delete;

 private:
  ReluRule previous_;
};

// ---- recording ------------------------------------------------------------------

// Given the gradients of the outputs (all defined: missing ones are zeros)
// and which inputs need one, returns one gradient per input (undefined where
// not needed).
using BackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& grad_outputs,
                                                     const std::vector<bool>& needs_input_grad)>;

struct Node {
  const char* op = "";
  std::vector<std::shared_ptr<VariableImpl>> inputs;  // null for absent optional inputs
  std::vector<std::shared_ptr<VariableImpl>> outputs;
  BackwardFn backward;
};

// True when an op on these inputs must be recorded.
bool should_record(std::initializer_list<const Variable*> inputs);

// Wraps `output` as a Variable and, when should_record(inputs), records the
// node. `backward` is only called during backward(). Undefined inputs are
// allowed (optional arguments such as a missing bias).
Variable record(const char* op, const std::vector<Variable>& inputs, Tensor output,
                BackwardFn backward);

// ---- differentiation ---------------------------------------------------------------

struct BackwardOptions {
  // Keep the tape for another backward pass over the same forward (e.g.
  // Grad-CAM, then guided backprop). Gradients still accumulate.
  bool retain_tape = false;
};

// Backpropagates from `root`. `seed` is d(objective)/d(root), same shape as
// root; it may be omitted when root has one element (seed 1).
void backward(const Variable& root, const Tensor& seed = Tensor(),
              const BackwardOptions& options = {});

size_t tape_size();
// Drops every recorded node (and the tensors they saved).
void clear_tape();

}  // namespace cs::ag
