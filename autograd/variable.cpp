#include "autograd/variable.h"

namespace cs::ag {

Variable::Variable(Tensor value, bool requires_grad, std::string name)
    : impl_(std::make_shared<VariableImpl>()) {
  impl_->value = std::move(value);
  impl_->requires_grad = requires_grad;
  impl_->name = std::move(name);
}

const Tensor& Variable::value() const {
  CS_CHECK(impl_, "use of an undefined variable");
  return impl_->value;
}

Tensor& Variable::value() {
  CS_CHECK(impl_, "use of an undefined variable");
  return impl_->value;
}

const Tensor& Variable::grad() const {
  CS_CHECK(impl_, "grad() of an undefined variable");
  return impl_->grad;
}

void Variable::zero_grad() {
  if (impl_) impl_->grad = Tensor();
}

void Variable::set_grad(const Tensor& grad) {
  CS_CHECK(impl_, "set_grad on an undefined variable");
  if (grad.defined()) {
    CS_CHECK(grad.shape() == impl_->value.shape(),
             "gradient of shape " << shape_str(grad.shape()) << " for variable '" << impl_->name
                                  << "' of shape " << shape_str(impl_->value.shape()));
  }
  impl_->grad = grad;
}

void Variable::set_requires_grad(bool value) {
  CS_CHECK(impl_, "set_requires_grad on an undefined variable");
  CS_CHECK(impl_->is_leaf, "only leaf variables can change requires_grad ('" << impl_->name
                                                                             << "' is an op output)");
  impl_->requires_grad = value;
}

void Variable::retain_grad() {
  CS_CHECK(impl_, "retain_grad on an undefined variable");
  impl_->retain_grad = true;
}

const std::string& Variable::name() const {
  static const std::string empty;
  return impl_ ? impl_->name : empty;
}

void Variable::set_name(const std::string& name) {
  CS_CHECK(impl_, "set_name on an undefined variable");
  impl_->name = name;
}

}  // namespace cs::ag
