// Flatten: (N, ...) -> (N, features), as torch.nn.Flatten().
#pragma once

#include "layers/module.h"

namespace cs::nn {

class Flatten : public Module {
 public:
  Flatten() : Module("Flatten") {}
  Variable forward(const Variable& x) override;
  std::string describe() const override { return "Flatten()"; }
  Shape output_shape(const Shape& input) const override;
};

}  // namespace cs::nn
