#include "layers/activation.h"

#include <sstream>

#include "autograd/ops.h"

namespace cs::nn {

Variable ReLU::forward(const Variable& x) { return ag::relu(x); }

LeakyReLU::LeakyReLU(double slope) : Module("LeakyReLU"), slope_(slope) {
  CS_CHECK(slope >= 0, "LeakyReLU: negative slope " << slope);
}

Variable LeakyReLU::forward(const Variable& x) { return ag::leaky_relu(x, slope_); }

std::string LeakyReLU::describe() const {
  std::ostringstream out;
  out << "LeakyReLU(" << slope_ << ")";
  return out.str();
}

}  // namespace cs::nn
