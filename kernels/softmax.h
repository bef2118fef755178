// Softmax, log-softmax, and the fused, stable softmax cross-entropy loss.
// Rows of a (N, K) tensor; computed with the log-sum-exp shift.
//
// Cross-entropy with label smoothing eps (PyTorch's CrossEntropyLoss):
//   q[n] = (1 - eps) * onehot(label[n]) + eps / K
//   loss = mean over n of  -sum_k q[n,k] * log_softmax(x[n])[k]
//   d loss / d x[n] = (softmax(x[n]) - q[n]) / N
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

void softmax_forward(const Tensor& x, Tensor& y);
void log_softmax_forward(const Tensor& x, Tensor& y);
// gx = y * (gy - sum_k gy*y), y the softmax output.
void softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx);
// gx = gy - softmax * sum_k gy, y the log-softmax output.
void log_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx);

// logits (N, K); labels (N) int32 in [0, K) (checked); loss (1); probs (N, K)
// saved for backward.
void softmax_cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                   double label_smoothing, Tensor& loss, Tensor& probs);
// glogits (N, K) = gloss * (probs - q) / N; gloss: one element.
void softmax_cross_entropy_backward(const Tensor& probs, const Tensor& labels,
                                    double label_smoothing, const Tensor& gloss,
                                    Tensor& glogits);

struct SoftmaxImpl {
  void (*softmax)(const Tensor& x, Tensor& y);
  void (*log_softmax)(const Tensor& x, Tensor& y);
  void (*softmax_backward)(const Tensor& y, const Tensor& gy, Tensor& gx);
  void (*log_softmax_backward)(const Tensor& y, const Tensor& gy, Tensor& gx);
  void (*ce_forward)(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& loss,
                     Tensor& probs);
  void (*ce_backward)(const Tensor& probs, const Tensor& labels, double smoothing,
                      const Tensor& gloss, Tensor& glogits);
};
OpRegistry<SoftmaxImpl>& softmax_registry();

}  // namespace cs::kernels
