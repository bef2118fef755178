// FFT-accelerated interpolation of t-SNE's repulsion (Linderman et al. 2019,
// "Fast interpolation-based t-SNE", the method of FIt-SNE), shared by the CPU
// reference and the CUDA kernels.
//
// The repulsion needs, for every point i, sums over all points j of a smooth
// kernel of y_i - y_j:
//   phi_0(i) = sum_j w_ij^2          phi_k(i) = sum_j w_ij^2 y_jk      zeta(i) = sum_j w_ij
// with w = 1 / (1 + |d|^2). Then rep_i = y_i phi_0 - phi and z_i = zeta - 1
// (the self term w_ii = 1). Instead of N^2 kernel evaluations:
//   1. split the embedding's bounding cube into boxes, 3 equispaced nodes per
//      box and dimension (one equispaced grid of M nodes per dimension);
//   2. spread each point's charges (1, y_1 .. y_D) onto the 3^D nodes of its
//      box with Lagrange interpolation weights;
//   3. sum the kernel over node pairs: on an equispaced grid that is a
//      convolution, done by FFT on a grid padded to L >= 2M - 1 (no wrap);
//   4. interpolate the node potentials back to each point with the same weights.
// O(N 3^D + L^D log L) per iteration. Charges are taken relative to the
// grid's centre so float sums keep their precision far from the origin.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>

#include "runtime/philox.h"  // CS_HOST_DEVICE

namespace cs::kernels::tsne_interp {

constexpr int kNodesPerBox = 3;         // Lagrange nodes per box and dimension
constexpr double kMaxBoxWidth = 1.0;    // the kernel changes on the scale of 1
constexpr int kMinBoxes = 16;           // per dimension, however small the embedding
constexpr int kMaxFftSize2d = 4096;     // 682 boxes: box width <= 1 up to a range of 682
constexpr int kMaxFftSize3d = 256;      // 42 boxes: 16.7M grid points per charge

struct Grid {
  int dims = 2;
  int boxes = 0;     // per dimension
  int nodes = 0;     // per dimension: boxes * kNodesPerBox
  int fft_size = 0;  // per dimension: a power of two >= 2 nodes - 1
  double lo = 0;     // lower corner, the same in every dimension (square boxes)
  double box_width = 0;
  double spacing = 0;  // between neighbouring nodes: box_width / kNodesPerBox
  double center = 0;   // charges are y - center

  int64_t node_count() const { return power(nodes); }
  int64_t fft_count() const { return power(fft_size); }
  int64_t power(int64_t base) const {
    int64_t r = 1;
    for (int k = 0; k < dims; ++k) r *= base;
    return r;
  }
};

// The grid for a dims-dimensional embedding whose coordinates all lie in
// [lo, hi]. As many boxes as the padded FFT size holds, at least enough for
// boxes no wider than max_box_width (until the size cap for dims is reached).
// The interpolation error falls with the cube of the box width.
inline Grid plan_grid(double lo, double hi, int dims, double max_box_width = kMaxBoxWidth) {
  Grid g;
  g.dims = dims;
  const double range = std::max(hi - lo, 1e-12);
  const double margin = 1e-4 * range + 1e-12;  // no point sits on the far edge
  g.lo = lo - margin;
  const double width = range + 2 * margin;
  const int cap = dims == 2 ? kMaxFftSize2d : kMaxFftSize3d;
  const double wanted = std::max<double>(kMinBoxes, std::ceil(width / max_box_width));
  int size = 2;
  while (size < cap && size < 2 * kNodesPerBox * wanted - 1) size *= 2;
  g.fft_size = size;
  g.boxes = (size + 1) / (2 * kNodesPerBox);  // the most with 2 M - 1 <= L
  g.nodes = g.boxes * kNodesPerBox;
  g.box_width = width / g.boxes;
  g.spacing = g.box_width / kNodesPerBox;
  g.center = g.lo + width / 2;
  return g;
}

// The box of coordinate x and its position u in [0, 3] inside the box, in
// node spacings (nodes sit at u = 0.5, 1.5, 2.5).
template <typename T>
CS_HOST_DEVICE int box_of(T x, T lo, T box_width, int boxes, T& u) {
  const T t = (x - lo) / box_width;
  int b = static_cast<int>(floor(t));
  b = b < 0 ? 0 : (b >= boxes ? boxes - 1 : b);
  u = (t - static_cast<T>(b)) * static_cast<T>(kNodesPerBox);
  return b;
}

// Lagrange weights of the three nodes at u = 0.5, 1.5, 2.5.
template <typename T>
CS_HOST_DEVICE void lagrange_weights(T u, T w[kNodesPerBox]) {
  const T a = u - T(0.5), b = u - T(1.5), c = u - T(2.5);
  w[0] = b * c / T(2);
  w[1] = -(a * c);
  w[2] = a * b / T(2);
}

// The offset, in node spacings, that padded FFT index a stands for: 0..M-1
// forwards, L-M+1..L-1 backwards; other indices hold no pair (returns false).
CS_HOST_DEVICE bool fft_offset(int a, int nodes, int fft_size, int& offset) {
  if (a < nodes) {
    offset = a;
    return true;
  }
  if (a > fft_size - nodes) {
    offset = a - fft_size;
    return true;
  }
  return false;
}

// The CPU reference's FFT: an in-place radix-2 transform of a dims-dimensional
// array of size^dims complex values (row-major), one axis at a time. The
// inverse is unscaled (divide by size^dims). size must be a power of two.
void fft_cpu(std::complex<double>* data, int size, int dims, bool inverse);

}  // namespace cs::kernels::tsne_interp
