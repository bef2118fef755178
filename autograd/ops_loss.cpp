// Losses and probabilities on the tape.
#include "autograd/ops.h"
#include "kernels/softmax.h"

namespace cs::ag {

Variable cross_entropy(const Variable& logits, const Tensor& labels, double label_smoothing) {
  const Tensor lv = logits.value();
  CS_CHECK(lv.ndim() == 2, "cross_entropy: logits must be (N, classes), got "
                               << shape_str(lv.shape()));
  Tensor loss = Tensor::empty({1}, lv.device(), lv.dtype());
  Tensor probs = Tensor::empty_like(lv);
  kernels::softmax_cross_entropy_forward(lv, labels, label_smoothing, loss, probs);
  return record("cross_entropy", {logits}, loss,
                [probs, labels, label_smoothing](const std::vector<Tensor>& g,
                                                 const std::vector<bool>&) {
                  Tensor glogits = Tensor::empty_like(probs);
                  kernels::softmax_cross_entropy_backward(probs, labels, label_smoothing, g[0],
                                                          glogits);
                  return std::vector<Tensor>{glogits};
                });
}

Variable softmax(const Variable& x) {
  Tensor y = Tensor::empty_like(x.value());
  kernels::softmax_forward(x.value(), y);
  return record("softmax", {x}, y, [y](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor gx = Tensor::empty_like(y);
    kernels::softmax_backward(y, g[0], gx);
    return std::vector<Tensor>{gx};
  });
}

Variable log_softmax(const Variable& x) {
  Tensor y = Tensor::empty_like(x.value());
  kernels::log_softmax_forward(x.value(), y);
  return record("log_softmax", {x}, y, [y](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor gx = Tensor::empty_like(y);
    kernels::log_softmax_backward(y, g[0], gx);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace cs::ag
