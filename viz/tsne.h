// t-SNE (van der Maaten & Hinton 2008) of feature vectors into 2-D or 3-D.
//
// Affinities: per-point precision by binary search to the target perplexity,
// symmetrised P = (P_{j|i} + P_{i|j}) / 2N. Optimisation as in the paper and
// scikit-learn: PCA initialisation (scaled to std 1e-4), early exaggeration
// (12 for 250 iterations), momentum 0.5 then 0.8, per-coordinate gains,
// learning rate max(N / 12 / 4, 50). Four methods:
//   exact       dense P and exact O(N^2) gradients (CPU or GPU; N up to ~10k)
//   sparse      P over the 3*perplexity nearest neighbours, exact O(N^2)
//               repulsion (CPU or GPU)
//   barnes-hut  sparse P and Barnes-Hut repulsion, O(N log N) (CPU)
//   fft         sparse P and FFT-accelerated interpolation of the repulsion
//               (FIt-SNE), O(N) plus a grid FFT (CPU or GPU; the GPU's way
//               to the full 70k)
// auto: exact up to 10k points, then fft on the GPU, barnes-hut on the CPU.
// Deterministic: the same input and options give the same embedding.
#pragma once

#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace cs::viz {

struct TsneOptions {
  int dims = 2;
  double perplexity = 30;
  int iterations = 1000;
  double early_exaggeration = 12;
  int exaggeration_iterations = 250;
  double learning_rate = 0;  // 0: max(N / early_exaggeration / 4, 50)
  double theta = 0.5;        // Barnes-Hut accuracy
  std::string method = "auto";  // auto | exact | sparse | barnes-hut | fft
  int pca_dims = 50;            // reduce higher-dimensional inputs first (0: never)
  int report_every = 50;        // KL divergence every n iterations (0: only at the end)
};

struct TsneResult {
  Tensor embedding;  // (N, dims) on the CPU
  std::string method;
  double kl_divergence = 0;
  std::vector<std::pair<int, double>> kl_history;
  std::vector<float> perplexities;  // achieved per point
  double seconds = 0;
};

// The method names tsne() takes ("auto" first), and a check of one that
// names them all: callers that do expensive work first check early.
const std::vector<std::string>& tsne_methods();
void check_tsne_method(const std::string& method, const char* what = "t-SNE method");

// x: (N, D) on any device; the work runs there (Barnes-Hut on the CPU).
TsneResult tsne(const Tensor& x, const TsneOptions& options);

}  // namespace cs::viz
