#include "layers/lrn.h"

#include <sstream>

#include "autograd/ops.h"

namespace cs::nn {

LocalResponseNorm::LocalResponseNorm(const kernels::LrnArgs& args)
    : Module("LocalResponseNorm"), args_(args) {
  CS_CHECK(args.size > 0, "LocalResponseNorm: size must be positive, got " << args.size);
}

Variable LocalResponseNorm::forward(const Variable& x) { return ag::lrn(x, args_); }

std::string LocalResponseNorm::describe() const {
  std::ostringstream out;
  out << "LocalResponseNorm(size=" << args_.size << ", alpha=" << args_.alpha
      << ", beta=" << args_.beta << ", k=" << args_.k << ")";
  return out.str();
}

Shape LocalResponseNorm::output_shape(const Shape& input) const {
  CS_CHECK(input.size() == 4, "LocalResponseNorm expects an (N, C, H, W) input, got "
                                  << shape_str(input));
  return input;
}

int64_t LocalResponseNorm::flops(const Shape& input) const {
  return shape_numel(input) * (args_.size + 3);
}

}  // namespace cs::nn
