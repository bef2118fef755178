#include "layers/batchnorm.h"

#include <sstream>

#include "autograd/ops.h"

namespace cs::nn {

BatchNorm::BatchNorm(int channels, int dims, double eps, double momentum)
    : Module(dims == 2 ? "BatchNorm2d" : "BatchNorm1d"),
      channels_(channels),
      dims_(dims),
      eps_(eps),
      momentum_(momentum) {
  CS_CHECK(channels > 0, "BatchNorm: channels must be positive, got " << channels);
  CS_CHECK(dims == 1 || dims == 2, "BatchNorm: dims must be 1 or 2, got " << dims);
  CS_CHECK(eps > 0, "BatchNorm: eps must be positive, got " << eps);
  CS_CHECK(momentum >= 0 && momentum <= 1, "BatchNorm: momentum " << momentum << " outside [0, 1]");
  gamma_ = register_parameter("weight", Tensor::full({channels}, 1.0));
  beta_ = register_parameter("bias", Tensor::zeros({channels}));
  running_mean_ = &register_buffer("running_mean", Tensor::zeros({channels}));
  running_var_ = &register_buffer("running_var", Tensor::full({channels}, 1.0));
}

void BatchNorm::reset_parameters(uint64_t) {
  gamma_.value().copy_from(Tensor::full({channels_}, 1.0, gamma_.device(), gamma_.dtype()));
  beta_.value().zero_();
  running_mean_->zero_();
  running_var_->copy_from(Tensor::full({channels_}, 1.0, running_var_->device(), running_var_->dtype()));
}

Variable BatchNorm::forward(const Variable& x) {
  output_shape(x.shape());
  return ag::batch_norm(x, gamma_, beta_, *running_mean_, *running_var_, training(), momentum_,
                        eps_);
}

std::string BatchNorm::describe() const {
  std::ostringstream out;
  out << type() << "(" << channels_;
  if (eps_ != 1e-5) out << ", eps=" << eps_;
  if (momentum_ != 0.1) out << ", momentum=" << momentum_;
  out << ")";
  return out.str();
}

Shape BatchNorm::output_shape(const Shape& input) const {
  const size_t rank = dims_ == 2 ? 4 : 2;
  CS_CHECK(input.size() == rank, type() << " expects an input of rank " << rank << " ("
                                        << (dims_ == 2 ? "N, C, H, W" : "N, C") << "), got "
                                        << shape_str(input));
  CS_CHECK(input[1] == channels_, type() << " expects " << channels_ << " channels, got "
                                         << input[1]);
  return input;
}

}  // namespace cs::nn
