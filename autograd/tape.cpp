#include "autograd/tape.h"

#include "kernels/elementwise.h"

namespace cs::ag {

namespace {

thread_local bool t_grad_enabled = true;
thread_local ReluRule t_relu_rule = ReluRule::Standard;
thread_local std::vector<std::unique_ptr<Node>> t_tape;

// Adds g into the variable's gradient. The first gradient is taken as is (no
// copy); later ones are summed into a fresh tensor, never in place, so a
// gradient that shares storage with another (a reshape's) stays intact.
void accumulate(VariableImpl& var, const Tensor& g) {
  CS_CHECK(g.shape() == var.value.shape(),
           "backward produced a gradient of shape " << shape_str(g.shape()) << " for '"
                                                    << var.name << "' of shape "
                                                    << shape_str(var.value.shape()));
  CS_CHECK(g.device() == var.value.device() && g.dtype() == var.value.dtype(),
           "backward produced a gradient on " << g.device() << " (" << dtype_name(g.dtype())
                                              << ") for '" << var.name << "' on "
                                              << var.value.device() << " ("
                                              << dtype_name(var.value.dtype()) << ")");
  if (!var.grad.defined()) {
    var.grad = g;
    return;
  }
  Tensor sum = Tensor::empty_like(var.grad);
  kernels::add(var.grad, g, sum);
  var.grad = sum;
}

}  // namespace

bool grad_enabled() { return t_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

ReluRule current_relu_rule() { return t_relu_rule; }

ReluRuleGuard::ReluRuleGuard(ReluRule rule) : previous_(t_relu_rule) { t_relu_rule = rule; }
ReluRuleGuard::~ReluRuleGuard() { t_relu_rule = previous_; }

bool should_record(std::initializer_list<const Variable*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Variable* v : inputs)
    if (v && v->defined() && v->requires_grad()) return true;
  return false;
}

Variable record(const char* op, const std::vector<Variable>& inputs, Tensor output,
                BackwardFn backward) {
  bool needed = false;
  if (t_grad_enabled)
    for (const Variable& v : inputs)
      if (v.defined() && v.requires_grad()) needed = true;
  Variable out(std::move(output), needed);
  if (!needed) return out;
  out.impl()->is_leaf = false;
  auto node = std::make_unique<Node>();
  node->op = op;
  for (const Variable& v : inputs) node->inputs.push_back(v.defined() ? v.impl() : nullptr);
  node->outputs.push_back(out.impl());
  node->backward = std::move(backward);
  t_tape.push_back(std::move(node));
  return out;
}

void backward(const Variable& root, const Tensor& seed, const BackwardOptions& options) {
  CS_CHECK(root.defined(), "backward from an undefined variable");
  CS_CHECK(root.requires_grad(),
           "backward from a variable that does not require a gradient: no recorded op leads to "
           "it (was grad mode off, or does no input require a gradient?)");
  Tensor start = seed;
  if (!start.defined()) {
    CS_CHECK(root.value().numel() == 1,
             "backward needs a seed gradient for a variable of shape "
                 << shape_str(root.shape()) << " (only one-element variables default to 1)");
    start = Tensor::full(root.shape(), 1.0, root.device(), root.dtype());
  }
  CS_CHECK(start.shape() == root.shape(), "backward seed of shape "
                                              << shape_str(start.shape()) << " for a variable of shape "
                                              << shape_str(root.shape()));
  CS_CHECK(start.device() == root.device() && start.dtype() == root.dtype(),
           "backward seed on " << start.device() << " (" << dtype_name(start.dtype())
                               << ") for a variable on " << root.device() << " ("
                               << dtype_name(root.dtype()) << ")");
  accumulate(*root.impl(), start);

  for (auto it = t_tape.rbegin(); it != t_tape.rend(); ++it) {
    Node& node = **it;
    bool reached = false;
    for (const auto& out : node.outputs) reached = reached || out->grad.defined();
    if (!reached) continue;
    std::vector<bool> needs(node.inputs.size());
    bool any_needed = false;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      needs[i] = node.inputs[i] && node.inputs[i]->requires_grad;
      any_needed = any_needed || needs[i];
    }
    std::vector<Tensor> grad_outputs;
    for (const auto& out : node.outputs)
      grad_outputs.push_back(out->grad.defined() ? out->grad : Tensor::zeros_like(out->value));
    if (any_needed) {
      const std::vector<Tensor> grads = node.backward(grad_outputs, needs);
      CS_CHECK(grads.size() == node.inputs.size(),
               "backward of '" << node.op << "' returned " << grads.size() << " gradients for "
                               << node.inputs.size() << " inputs");
      for (size_t i = 0; i < grads.size(); ++i)
        if (needs[i] && grads[i].defined()) accumulate(*node.inputs[i], grads[i]);
    }
    // Every consumer of these outputs came later on the tape and has run.
    for (const auto& out : node.outputs)
      if (!out->retain_grad && !out->is_leaf) out->grad = Tensor();
  }
  if (!options.retain_tape) t_tape.clear();
}

size_t tape_size() { return t_tape.size(); }

void clear_tape() { t_tape.clear(); }

}  // namespace cs::ag
