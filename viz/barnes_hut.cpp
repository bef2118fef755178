#include "viz/barnes_hut.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cs::viz {

namespace {

constexpr int kMaxDepth = 48;  // deeper than float precision can separate

template <int D>
struct Tree {
  struct Node {
    double center[D];
    double half;         // half the side of the cell
    double mass_center[D] = {};
    int64_t count = 0;
    int64_t first_child = -1;  // 2^D children from here, or -1 for a leaf
    int64_t point = -1;        // the point in a one-point leaf
  };
  std::vector<Node> nodes;
  const float* y;

  explicit Tree(const float* points, int64_t n) : y(points) {
    double lo[D], hi[D];
    for (int k = 0; k < D; ++k) lo[k] = hi[k] = n ? points[k] : 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int k = 0; k < D; ++k) {
        lo[k] = std::min(lo[k], static_cast<double>(points[i * D + k]));
        hi[k] = std::max(hi[k], static_cast<double>(points[i * D + k]));
      }
    Node root;
    double half = 0;
    for (int k = 0; k < D; ++k) {
      root.center[k] = (lo[k] + hi[k]) / 2;
      half = std::max(half, (hi[k] - lo[k]) / 2);
    }
    root.half = half * (1 + 1e-5) + 1e-5;
    nodes.push_back(root);
    for (int64_t i = 0; i < n; ++i) insert(0, i, 0);
  }

  int child_of(const Node& node, const float* p) const {
    int c = 0;
    for (int k = 0; k < D; ++k)
      if (p[k] > node.center[k]) c |= 1 << k;
    return c;
  }

  void split(int64_t index) {
    const int64_t first = static_cast<int64_t>(nodes.size());
    for (int c = 0; c < (1 << D); ++c) {
      Node child;
      child.half = nodes[index].half / 2;
      for (int k = 0; k < D; ++k)
        child.center[k] = nodes[index].center[k] + ((c >> k) & 1 ? child.half : -child.half);
      nodes.push_back(child);
    }
    nodes[index].first_child = first;
  }

  void insert(int64_t index, int64_t i, int depth) {
    const float* p = y + i * D;
    // Update this cell's mass and centre of mass.
    Node& node = nodes[index];
    for (int k = 0; k < D; ++k)
      node.mass_center[k] = (node.mass_center[k] * node.count + p[k]) / (node.count + 1);
    node.count += 1;
    if (node.count == 1) {
      node.point = i;
      return;
    }
    if (depth >= kMaxDepth) return;  // coincident points stay together in one leaf
    if (nodes[index].first_child < 0) {
      const int64_t previous = nodes[index].point;
      nodes[index].point = -1;
      split(index);
      const int64_t c = nodes[index].first_child + child_of(nodes[index], y + previous * D);
      insert(c, previous, depth + 1);
    }
    const int64_t c = nodes[index].first_child + child_of(nodes[index], p);
    insert(c, i, depth + 1);
  }

  // Accumulates the forces on point i (iterative, in a fixed child order).
  void forces(int64_t i, double theta, double* rep, double& z) const {
    const float* p = y + i * D;
    std::vector<int64_t> stack = {0};
    while (!stack.empty()) {
      const Node& node = nodes[stack.back()];
      stack.pop_back();
      if (node.count == 0 || (node.count == 1 && node.point == i)) continue;
      double diff[D], sq = 0;
      for (int k = 0; k < D; ++k) {
        diff[k] = p[k] - node.mass_center[k];
        sq += diff[k] * diff[k];
      }
      const bool leaf = node.first_child < 0;
      if (leaf || (2 * node.half) * (2 * node.half) < theta * theta * sq) {
        // One body: the cell's points at their centre of mass (a coincident
        // leaf holding i counts its other points only).
        const double count = static_cast<double>(node.count) - (leaf && node.point == i ? 1 : 0);
        if (count <= 0) continue;
        const double w = 1.0 / (1.0 + sq);
        z += count * w;
        for (int k = 0; k < D; ++k) rep[k] += count * w * w * diff[k];
        continue;
      }
      for (int c = (1 << D) - 1; c >= 0; --c) stack.push_back(node.first_child + c);
    }
  }
};

template <int D>
void run(const Tensor& y, double theta, Tensor& rep, Tensor& z) {
  const int64_t n = y.dim(0);
  const Tree<D> tree(y.data<float>(), n);
  float* out = rep.data<float>();
  float* zs = z.data<float>();
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t i = 0; i < n; ++i) {
    double acc[D] = {}, zi = 0;
    tree.forces(i, theta, acc, zi);
    for (int k = 0; k < D; ++k) out[i * D + k] = static_cast<float>(acc[k]);
    zs[i] = static_cast<float>(zi);
  }
}

}  // namespace

void barnes_hut_repulsion(const Tensor& y, double theta, Tensor& rep, Tensor& z) {
  CS_CHECK(y.device().is_cpu() && y.dtype() == DType::F32 && y.ndim() == 2 &&
               (y.dim(1) == 2 || y.dim(1) == 3),
           "Barnes-Hut: the embedding must be an f32 (N, 2) or (N, 3) CPU tensor, got "
               << shape_str(y.shape()));
  CS_CHECK(theta >= 0, "Barnes-Hut: theta must be >= 0, got " << theta);
  check_shape(rep, y.shape(), "Barnes-Hut: repulsion");
  check_shape(z, {y.dim(0)}, "Barnes-Hut: z");
  if (y.dim(1) == 2)
    run<2>(y, theta, rep, z);
  else
    run<3>(y, theta, rep, z);
}

}  // namespace cs::viz
