// Elementwise ops on tensors of any shape (treated as flat arrays).
// Outputs are allocated by the caller; an output may alias an input.
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

void fill(Tensor& x, double value);                           // x[i] = value
void copy(const Tensor& x, Tensor& y);                        // y[i] = x[i]
void add(const Tensor& a, const Tensor& b, Tensor& out);      // out = a + b
void sub(const Tensor& a, const Tensor& b, Tensor& out);      // out = a - b
void mul(const Tensor& a, const Tensor& b, Tensor& out);      // out = a * b
void div(const Tensor& a, const Tensor& b, Tensor& out);      // out = a / b
void scale(const Tensor& x, double alpha, Tensor& out);       // out = alpha * x
void axpy(double alpha, const Tensor& x, Tensor& y);          // y += alpha * x
void add_scalar(const Tensor& x, double c, Tensor& out);      // out = x + c
void abs(const Tensor& x, Tensor& out);                       // out = |x|
void clamp(const Tensor& x, double lo, double hi, Tensor& out);  // out = min(max(x, lo), hi)

struct ElementwiseImpl {
  void (*fill)(Tensor& x, double value);
  void (*add)(const Tensor& a, const Tensor& b, Tensor& out);
  void (*sub)(const Tensor& a, const Tensor& b, Tensor& out);
  void (*mul)(const Tensor& a, const Tensor& b, Tensor& out);
  void (*div)(const Tensor& a, const Tensor& b, Tensor& out);
  void (*scale)(const Tensor& x, double alpha, Tensor& out);
  void (*axpy)(double alpha, const Tensor& x, Tensor& y);
  void (*add_scalar)(const Tensor& x, double c, Tensor& out);
  void (*abs)(const Tensor& x, Tensor& out);
  void (*clamp)(const Tensor& x, double lo, double hi, Tensor& out);
};
OpRegistry<ElementwiseImpl>& elementwise_registry();

}  // namespace cs::kernels
