#include "layers/dropout.h"

#include <sstream>

#include "autograd/ops.h"

namespace cs::nn {

namespace {
thread_local uint64_t t_dropout_seed = 0;
thread_local uint64_t t_dropout_step = 0;
}  // namespace

void set_dropout_step(uint64_t seed, uint64_t step) {
  t_dropout_seed = seed;
  t_dropout_step = step;
}

Dropout::Dropout(double p) : Module("Dropout"), p_(p) {
  CS_CHECK(p >= 0 && p < 1, "Dropout: probability " << p << " outside [0, 1)");
}

Variable Dropout::forward(const Variable& x) {
  const uint64_t seed = mix_seed(mix_seed(t_dropout_seed, t_dropout_step), hash_string(path()));
  return ag::dropout(x, p_, seed, training());
}

std::string Dropout::describe() const {
  std::ostringstream out;
  out << "Dropout(p=" << p_ << ")";
  return out.str();
}

}  // namespace cs::nn
