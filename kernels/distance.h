// Pairwise distances between rows, for nearest neighbours in pixel and
// feature space.
//   L2:     sqrt(sum (q - p)^2)  via  |q|^2 + |p|^2 - 2 q.p (a GEMM), clamped at 0
//   L1:     sum |q - p|          (a GEMM-shaped tiled kernel)
//   Cosine: 1 - q.p / (|q| |p|), clamped to [0, 2] against rounding (rows of
//           zero length count as distance 1)
#pragma once

#include <string>

#include "kernels/common.h"

namespace cs::kernels {

enum class Metric { L2, L1, Cosine };
Metric parse_metric(const std::string& name);  // "l2", "l1", "cosine"
const char* metric_name(Metric metric);

// queries (M, D), points (N, D) -> out (M, N).
void pairwise_distances(const Tensor& queries, const Tensor& points, Metric metric, Tensor& out);

struct DistanceImpl {
  // Squared row norms: x (R, D) -> out (R).
  void (*row_squared_norms)(const Tensor& x, Tensor& out);
  // out (M, N) = sqrt(max(qn[m] + pn[n] - 2 dot[m, n], 0)) for L2, or
  // 1 - dot / sqrt(qn pn) for cosine; `dot` is overwritten by the result.
  void (*finish)(const Tensor& qn, const Tensor& pn, Tensor& dot, Metric metric);
  void (*l1)(const Tensor& queries, const Tensor& points, Tensor& out);
};
OpRegistry<DistanceImpl>& distance_registry();

}  // namespace cs::kernels
