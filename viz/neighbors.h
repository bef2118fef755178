// Exact k nearest neighbours: distances through convscope's GEMM (or the L1
// kernel) in chunks of queries, then the k smallest per row with top-k.
// Ties go to the lower index.
#pragma once

#include <vector>

#include "kernels/distance.h"

namespace cs::viz {

struct Neighbors {
  Tensor indices;    // (Q, k) int32, nearest first, on the CPU
  Tensor distances;  // (Q, k), on the CPU
};

// queries (Q, D) and points (N, D) on one device. exclude_self: query i is
// point self_index[i] of `points` and must not be its own neighbour.
Neighbors nearest_neighbors(const Tensor& queries, const Tensor& points, int k,
                            kernels::Metric metric, const std::vector<int64_t>& self_index = {},
                            int64_t chunk = 1024);

// The fraction of all (query, neighbour) pairs whose labels agree, and the
// fraction of queries whose neighbours' majority label is the query's own
// (k-NN classification accuracy, ties to the nearest neighbour's label).
struct LabelAgreement {
  double neighbour_agreement = 0;
  double knn_accuracy = 0;
};
LabelAgreement label_agreement(const Neighbors& n, const std::vector<int32_t>& query_labels,
                               const std::vector<int32_t>& point_labels);

}  // namespace cs::viz
