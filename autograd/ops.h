// Differentiable ops on Variables. Each runs its kernels forward and, when
// recording, leaves a backward closure on the tape that calls the backward
// kernels. Shapes as in the kernel headers.
#pragma once

#include <cstdint>

#include "autograd/tape.h"
#include "kernels/conv2d.h"
#include "kernels/lrn.h"
#include "kernels/pool.h"

namespace cs::ag {

// ---- convolution and linear --------------------------------------------------------
// x (N, C, H, W), w (K, C/groups, R, S), bias (K) or undefined -> (N, K, P, Q)
Variable conv2d(const Variable& x, const Variable& w, const Variable& bias,
                const kernels::Conv2dArgs& args);
// x (N, in), w (out, in), bias (out) or undefined -> (N, out) = x w^T + bias
Variable linear(const Variable& x, const Variable& w, const Variable& bias);

// ---- activations ----------------------------------------------------------------------
// Backward honours the ReLU rule in force when backward runs (ReluRuleGuard).
Variable relu(const Variable& x);
Variable leaky_relu(const Variable& x, double slope);

// ---- pooling ----------------------------------------------------------------------------
// Backward routes gradients through the argmax switches saved in forward.
Variable max_pool2d(const Variable& x, const kernels::Pool2dArgs& args);
Variable avg_pool2d(const Variable& x, const kernels::Pool2dArgs& args);
Variable adaptive_avg_pool2d(const Variable& x, int out_h, int out_w);

// ---- normalization and regularization ---------------------------------------------------
// x (N, C, H, W) or (N, C). Training: batch statistics, running_* updated in
// place. Eval: running statistics.
Variable batch_norm(const Variable& x, const Variable& gamma, const Variable& beta,
                    Tensor& running_mean, Tensor& running_var, bool training, double momentum,
                    double eps);
Variable lrn(const Variable& x, const kernels::LrnArgs& args);
// Inverted dropout with the Philox stream (seed, 0); identity when !training or p == 0.
Variable dropout(const Variable& x, double p, uint64_t seed, bool training);

// ---- shape ------------------------------------------------------------------------------
Variable reshape(const Variable& x, const Shape& shape);
// (N, ...) -> (N, rest)
Variable flatten(const Variable& x);
// out (N, C, out_h, out_w): bilinear, align_corners = false.
Variable resize_bilinear(const Variable& x, int out_h, int out_w);

// ---- losses and probabilities ----------------------------------------------------------
// logits (N, K), labels (N) int32 on the same device -> mean loss (1).
Variable cross_entropy(const Variable& logits, const Tensor& labels, double label_smoothing = 0.0);
Variable softmax(const Variable& x);      // rows of (N, K)
Variable log_softmax(const Variable& x);  // rows of (N, K)

// ---- arithmetic -------------------------------------------------------------------------
Variable add(const Variable& a, const Variable& b);  // same shapes
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable scale(const Variable& x, double alpha);
Variable sum(const Variable& x);          // -> (1)
Variable mean(const Variable& x);         // -> (1)
Variable sum_squares(const Variable& x);  // -> (1): sum of x^2
// F (N, C, H, W) -> G (N, C, C) = F F^T / (H W) per image.
Variable gram(const Variable& f);
// (1): sum of squared differences of vertically and horizontally adjacent pixels.
Variable total_variation(const Variable& x);

}  // namespace cs::ag
