// t-SNE (van der Maaten & Hinton 2008) building blocks. Y is (N, d), d = 2
// or 3; w_ij = 1 / (1 + |y_i - y_j|^2) is the Student-t kernel, Z = sum_{i!=j}
// w_ij, and the gradient is
//   dC/dy_i = 4 (exaggeration * sum_j p_ij w_ij (y_i - y_j) - sum_j w_ij^2 (y_i - y_j) / Z).
// Every sum is taken in a fixed order: same input, same bits.
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

// Perplexity calibration, row by row: a binary search for the precision
// beta_i with exp(H(P_i)) = perplexity, P_{j|i} = exp(-beta_i d_ij) / sum.
// sq_dist (R, M): squared distances of row i to M candidates (with
// skip_self, candidate i of row i is the point itself and gets 0).
// p (R, M) receives P_{j|i}; achieved (R) the perplexity reached.
void tsne_conditional_p(const Tensor& sq_dist, double perplexity, bool skip_self, Tensor& p,
                        Tensor& achieved);

// Dense P (N, N), in place: P = (P + P^T) / (2N).
void tsne_symmetrize_dense(Tensor& p);

// attr (N, d): sum_j P_ij w_ij (y_i - y_j), with dense P (N, N).
void tsne_attraction_dense(const Tensor& y, const Tensor& p, Tensor& attr);
// The same over a sparse P in CSR form: rows (N + 1), cols (nnz) int32, vals (nnz).
void tsne_attraction_sparse(const Tensor& y, const Tensor& rows, const Tensor& cols,
                            const Tensor& vals, Tensor& attr);
// Exact repulsion, O(N^2): rep (N, d) = sum_j w_ij^2 (y_i - y_j); z (N) = sum_{j != i} w_ij.
void tsne_repulsion_exact(const Tensor& y, Tensor& rep, Tensor& z);
// The same sums by FFT-accelerated interpolation (kernels/tsne_interp.h),
// O(N + L^d log L). With boxes at most 1 wide (FIt-SNE's setting) Z is within
// about 1e-3 of exact and each point's sums within a few percent of the
// largest; the error falls with the cube of max_box_width. The CPU reference
// works in double with a radix-2 FFT of its own; the GPU spreads and
// interpolates with our kernels and convolves with cuFFT. Deterministic on both.
void tsne_repulsion_fft(const Tensor& y, Tensor& rep, Tensor& z, double max_box_width = 1.0);

struct TsneStep {
  double exaggeration = 1.0;
  double inv_z = 1.0;  // 1 / Z
  double momentum = 0.5;
  double learning_rate = 200.0;
  double min_gain = 0.01;
};
// grad = 4 (exaggeration attr - rep inv_z); gains grow by 0.2 where the
// gradient's sign differs from the last update's, else shrink by 0.8;
// update = momentum update - lr gains grad; y += update. grad is written out.
void tsne_update(Tensor& y, const Tensor& attr, const Tensor& rep, Tensor& update, Tensor& gains,
                 Tensor& grad, const TsneStep& step);

// sum_ij P_ij log w_ij for dense P (N, N) (out: one element), for the KL divergence.
void tsne_p_log_w_dense(const Tensor& y, const Tensor& p, Tensor& out);
void tsne_p_log_w_sparse(const Tensor& y, const Tensor& rows, const Tensor& cols,
                         const Tensor& vals, Tensor& out);

struct TsneImpl {
  void (*conditional_p)(const Tensor& sq_dist, double perplexity, bool skip_self, Tensor& p,
                        Tensor& achieved);
  void (*symmetrize_dense)(Tensor& p);
  void (*attraction_dense)(const Tensor& y, const Tensor& p, Tensor& attr);
  void (*attraction_sparse)(const Tensor& y, const Tensor& rows, const Tensor& cols,
                            const Tensor& vals, Tensor& attr);
  void (*repulsion_exact)(const Tensor& y, Tensor& rep, Tensor& z);
  void (*update)(Tensor& y, const Tensor& attr, const Tensor& rep, Tensor& update, Tensor& gains,
                 Tensor& grad, const TsneStep& step);
  void (*p_log_w_dense)(const Tensor& y, const Tensor& p, Tensor& out);
  void (*p_log_w_sparse)(const Tensor& y, const Tensor& rows, const Tensor& cols,
                         const Tensor& vals, Tensor& out);
};
OpRegistry<TsneImpl>& tsne_registry();

struct TsneFftImpl {
  void (*repulsion_fft)(const Tensor& y, Tensor& rep, Tensor& z, double max_box_width);
};
OpRegistry<TsneFftImpl>& tsne_fft_registry();

}  // namespace cs::kernels
