// Principal component analysis: centre, covariance through convscope's GEMM,
// eigen-decomposition by a well-kept solver (LAPACK / cuSOLVER), projection.
#pragma once

#include <vector>

#include "runtime/tensor.h"

namespace cs::viz {

struct Pca {
  Tensor mean;                // (D)
  Tensor components;          // (k, D): principal directions, largest variance first
  std::vector<double> variances;           // of each component
  std::vector<double> explained_ratio;     // variance / total variance
  Tensor projection;          // (N, k): the data in the components' coordinates
};

// x: (N, D) on any device; 1 <= k <= D.
Pca pca(const Tensor& x, int k);

}  // namespace cs::viz
