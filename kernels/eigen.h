// Symmetric eigen-decomposition, by well-kept solvers: LAPACK (dsyevd /
// ssyevd through LAPACKE) on the CPU and cuSOLVER (syevd) on the GPU. Used
// by PCA; not a kernel convscope teaches, so not hand-written.
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

// a: (D, D) symmetric (only its lower triangle is read).
// values: (D) ascending; vectors: (D, D), row i is the eigenvector of values[i].
void symmetric_eigen(const Tensor& a, Tensor& values, Tensor& vectors);

struct EigenImpl {
  void (*symmetric)(const Tensor& a, Tensor& values, Tensor& vectors);
};
OpRegistry<EigenImpl>& eigen_registry();

}  // namespace cs::kernels
