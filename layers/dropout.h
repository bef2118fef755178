// Dropout, as torch.nn.Dropout (inverted: scaled by 1/(1-p) in training,
// identity in eval). Masks come from the Philox stream keyed by the run's
// dropout seed, the training step and the layer's path (set_dropout_step), so
// a resumed run draws exactly the masks it would have drawn.
#pragma once

#include "layers/module.h"

namespace cs::nn {

// Sets the (seed, step) used by every Dropout forward on this thread.
void set_dropout_step(uint64_t seed, uint64_t step);

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Variable forward(const Variable& x) override;
  std::string describe() const override;
  double p() const { return p_; }

 private:
  double p_;
};

}  // namespace cs::nn
