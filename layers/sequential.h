// Sequential: children run in order, named "0", "1", ... unless given names.
#pragma once

#include "layers/module.h"

namespace cs::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  // Appends a child named by its index (PyTorch's numbering).
  Sequential& add(std::shared_ptr<Module> child);
  // Appends a child with an explicit name ("features", "classifier").
  Sequential& add(const std::string& name, std::shared_ptr<Module> child);

  Variable forward(const Variable& x) override;
  Shape output_shape(const Shape& input) const override;
  int64_t flops(const Shape& input) const override;
  size_t size() const { return children().size(); }
};

}  // namespace cs::nn
