// Barnes-Hut approximation of t-SNE's repulsive forces (van der Maaten 2014):
// a quadtree (2-D) or octree (3-D) over the embedding; a cell far enough
// from a point (cell size / distance < theta) acts as one body at its centre
// of mass. O(N log N) per iteration instead of O(N^2). CPU, parallel over
// points, each point's sum taken in the same tree order every time.
#pragma once

#include "runtime/tensor.h"

namespace cs::viz {

// y: (N, 2) or (N, 3) on the CPU. rep (N, d) = sum_j w_ij^2 (y_i - y_j) and
// z (N) = sum_j w_ij, both approximated.
void barnes_hut_repulsion(const Tensor& y, double theta, Tensor& rep, Tensor& z);

}  // namespace cs::viz
