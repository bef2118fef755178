#include "layers/linear.h"

#include <cmath>
#include <sstream>

#include "autograd/ops.h"

namespace cs::nn {

Linear::Linear(int in_features, int out_features, bool bias)
    : Module("Linear"), in_(in_features), out_(out_features) {
  CS_CHECK(in_features > 0 && out_features > 0,
           "Linear: feature counts must be positive, got " << in_features << " -> " << out_features);
  weight_ = register_parameter("weight", Tensor::zeros({out_features, in_features}));
  if (bias) bias_ = register_parameter("bias", Tensor::zeros({out_features}));
  reset_parameters(0);
}

void Linear::reset_parameters(uint64_t seed) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
  const uint64_t s = seed_for_path(seed);
  const Device d = weight_.device();
  weight_.value().copy_from(
      Tensor::uniform(weight_.shape(), -bound, bound, mix_seed(s, 1), d, weight_.dtype()));
  if (bias_.defined())
    bias_.value().copy_from(
        Tensor::uniform(bias_.shape(), -bound, bound, mix_seed(s, 2), d, bias_.dtype()));
}

Variable Linear::forward(const Variable& x) { return ag::linear(x, weight_, bias_); }

std::string Linear::describe() const {
  std::ostringstream out;
  out << "Linear(" << in_ << ", " << out_ << (bias_.defined() ? "" : ", bias=false") << ")";
  return out.str();
}

Shape Linear::output_shape(const Shape& input) const {
  CS_CHECK(input.size() == 2, "Linear expects an (N, features) input, got "
                                  << shape_str(input) << ": add `flatten` before it");
  CS_CHECK(input[1] == in_, "Linear expects " << in_ << " input features, got " << input[1]);
  return {input[0], out_};
}

int64_t Linear::flops(const Shape& input) const { return 2LL * input[0] * in_ * out_; }

}  // namespace cs::nn
