// Activations and dropout on the tape.
#include "autograd/ops.h"
#include "kernels/dropout.h"

namespace cs::ag {

Variable relu(const Variable& x) {
  const Tensor xv = x.value();
  Tensor y = Tensor::empty_like(xv);
  kernels::relu_forward(xv, y);
  return record("relu", {x}, y, [xv](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor gx = Tensor::empty_like(xv);
    // The rule is read now, at backward time: that is what makes it switchable.
    kernels::relu_backward(xv, g[0], gx, current_relu_rule());
    return std::vector<Tensor>{gx};
  });
}

Variable leaky_relu(const Variable& x, double slope) {
  const Tensor xv = x.value();
  Tensor y = Tensor::empty_like(xv);
  kernels::leaky_relu_forward(xv, slope, y);
  return record("leaky_relu", {x}, y,
                [xv, slope](const std::vector<Tensor>& g, const std::vector<bool>&) {
                  Tensor gx = Tensor::empty_like(xv);
                  kernels::leaky_relu_backward(xv, g[0], slope, gx);
                  return std::vector<Tensor>{gx};
                });
}

Variable dropout(const Variable& x, double p, uint64_t seed, bool training) {
  CS_CHECK(p >= 0 && p <= 1, "dropout: probability " << p << " outside [0, 1]");
  if (!training || p == 0) return x;
  const Tensor xv = x.value();
  Tensor y = Tensor::empty_like(xv);
  Tensor mask = Tensor::empty(xv.shape(), xv.device(), DType::U8);
  kernels::dropout_forward(xv, p, seed, 0, y, mask);
  return record("dropout", {x}, y, [mask, p](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor gx = Tensor::empty_like(g[0]);
    kernels::dropout_backward(g[0], mask, p, gx);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace cs::ag
