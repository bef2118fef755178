#include "viz/neighbors.h"

#include <algorithm>
#include <map>

#include "kernels/elementwise.h"
#include "kernels/tensor_ops.h"

namespace cs::viz {

Neighbors nearest_neighbors(const Tensor& queries, const Tensor& points, int k,
                            kernels::Metric metric, const std::vector<int64_t>& self_index,
                            int64_t chunk) {
  CS_CHECK(queries.ndim() == 2 && points.ndim() == 2 && queries.dim(1) == points.dim(1),
           "nearest_neighbors: queries " << shape_str(queries.shape()) << " and points "
                                         << shape_str(points.shape()) << " must be (Q, D) and (N, D)");
  const int64_t q = queries.dim(0), n = points.dim(0);
  const bool exclude = !self_index.empty();
  CS_CHECK(!exclude || static_cast<int64_t>(self_index.size()) == q,
           "nearest_neighbors: " << self_index.size() << " self indices for " << q << " queries");
  const int want = k + (exclude ? 1 : 0);
  CS_CHECK(k >= 1 && want <= n, "nearest_neighbors: k = " << k << " with " << n << " points");
  std::vector<int32_t> indices;
  std::vector<float> distances;
  for (int64_t start = 0; start < q; start += chunk) {
    const int64_t count = std::min(chunk, q - start);
    Tensor d = Tensor::empty({count, n}, queries.device());
    kernels::pairwise_distances(queries.narrow(start, count), points, metric, d);
    kernels::scale(d, -1.0, d);  // the k largest of -d are the k nearest
    Tensor values = Tensor::empty({count, want}, d.device());
    Tensor where = Tensor::empty({count, want}, d.device(), DType::I32);
    kernels::topk_rows(d, want, values, where);
    const std::vector<float> v = values.to_vector<float>();
    const std::vector<int32_t> w = where.to_vector<int32_t>();
    for (int64_t i = 0; i < count; ++i) {
      int taken = 0;
      for (int j = 0; j < want && taken < k; ++j) {
        const int32_t idx = w[i * want + j];
        if (exclude && idx == self_index[start + i]) continue;
        indices.push_back(idx);
        distances.push_back(-v[i * want + j]);
        ++taken;
      }
      // The query was not among its own nearest (duplicates at distance 0):
      // drop the farthest extra candidate instead.
      for (; taken < k; ++taken) {
        indices.push_back(w[i * want + want - 1]);
        distances.push_back(-v[i * want + want - 1]);
      }
    }
  }
  Neighbors out;
  out.indices = Tensor::from_vector(indices, {q, k});
  out.distances = Tensor::from_vector(distances, {q, k});
  return out;
}

LabelAgreement label_agreement(const Neighbors& n, const std::vector<int32_t>& query_labels,
                               const std::vector<int32_t>& point_labels) {
  const int64_t q = n.indices.dim(0), k = n.indices.dim(1);
  CS_CHECK(static_cast<int64_t>(query_labels.size()) == q, "label_agreement: labels for "
                                                               << query_labels.size() << " of " << q << " queries");
  const std::vector<int32_t> idx = n.indices.to_vector<int32_t>();
  int64_t agree = 0, correct = 0;
  for (int64_t i = 0; i < q; ++i) {
    std::map<int32_t, int> votes;
    for (int64_t j = 0; j < k; ++j) {
      const int32_t label = point_labels.at(static_cast<size_t>(idx[i * k + j]));
      agree += label == query_labels[i];
      ++votes[label];
    }
    // Majority vote; a tie goes to the label of the nearest tied neighbour.
    int best_votes = 0;
    for (const auto& [label, count] : votes) best_votes = std::max(best_votes, count);
    int32_t winner = -1;
    for (int64_t j = 0; j < k && winner < 0; ++j) {
      const int32_t label = point_labels[static_cast<size_t>(idx[i * k + j])];
      if (votes[label] == best_votes) winner = label;
    }
    correct += winner == query_labels[i];
  }
  LabelAgreement out;
  out.neighbour_agreement = static_cast<double>(agree) / static_cast<double>(q * k);
  out.knn_accuracy = static_cast<double>(correct) / static_cast<double>(q);
  return out;
}

}  // namespace cs::viz
