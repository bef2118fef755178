#include "layers/flatten.h"

#include "autograd/ops.h"

namespace cs::nn {

Variable Flatten::forward(const Variable& x) { return ag::flatten(x); }

Shape Flatten::output_shape(const Shape& input) const {
  CS_CHECK(!input.empty(), "Flatten of a 0-d input");
  int64_t rest = 1;
  for (size_t i = 1; i < input.size(); ++i) rest *= input[i];
  return {input[0], rest};
}

}  // namespace cs::nn
