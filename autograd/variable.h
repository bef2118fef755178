// Variable: a tensor that the tape can differentiate. It holds its value,
// whether it requires a gradient, and (after backward) its gradient.
//
// Leaves (parameters, input images) keep their gradients across backward
// passes until zero_grad(); gradients of intermediate variables are dropped
// after backward unless retain_grad() was called (Grad-CAM reads the gradient
// of an activation that way).
#pragma once

#include <memory>
#include <string>

#include "runtime/tensor.h"

namespace cs::ag {

struct VariableImpl {
  Tensor value;
  Tensor grad;                  // undefined until a backward pass reaches it
  bool requires_grad = false;
  bool is_leaf = true;          // false for outputs of recorded ops
  bool retain_grad = false;
  std::string name;             // for error messages ("features.0.weight")
};

class Variable {
 public:
  Variable() = default;
  explicit Variable(Tensor value, bool requires_grad = false, std::string name = "");

  bool defined() const { return impl_ != nullptr && impl_->value.defined(); }

  const Tensor& value() const;
  Tensor& value();
  const Tensor& grad() const;  // undefined when no gradient reached this variable
  bool has_grad() const { return impl_ && impl_->grad.defined(); }
  void zero_grad();            // drops the gradient (set to undefined)
  void set_grad(const Tensor& grad);

  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  // Only leaves may change this (an op's output requires grad by construction).
  void set_requires_grad(bool value);
  bool is_leaf() const { return !impl_ || impl_->is_leaf; }
  void retain_grad();

  const std::string& name() const;
  void set_name(const std::string& name);

  const Shape& shape() const { return value().shape(); }
  int64_t dim(int i) const { return value().dim(i); }
  int ndim() const { return value().ndim(); }
  Device device() const { return value().device(); }
  DType dtype() const { return value().dtype(); }

  const std::shared_ptr<VariableImpl>& impl() const { return impl_; }
  bool same_as(const Variable& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<VariableImpl> impl_;
};

}  // namespace cs::ag
