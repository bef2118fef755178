// Seeded random fills from the Philox stream (runtime/philox.h). Element i of
// x receives the i-th draw of the stream (seed, offset), on any device, so
// CPU and GPU produce bit-identical tensors.
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

// x (i32): the raw 32-bit words, reinterpreted as int32.
void random_words(Tensor& x, uint64_t seed, uint64_t offset);
// x (f32/f64): low + (high - low) * u, u uniform in [0, 1).
void uniform_(Tensor& x, uint64_t seed, uint64_t offset, double low, double high);
// x (f32/f64): mean + stddev * z, z standard normal (uses words 2i, 2i+1).
void normal_(Tensor& x, uint64_t seed, uint64_t offset, double mean, double stddev);
// x (f32/f64): 1 with probability p, else 0.
void bernoulli_(Tensor& x, uint64_t seed, uint64_t offset, double p);

struct RandomImpl {
  void (*words)(Tensor& x, uint64_t seed, uint64_t offset);
  void (*uniform)(Tensor& x, uint64_t seed, uint64_t offset, double low, double high);
  void (*normal)(Tensor& x, uint64_t seed, uint64_t offset, double mean, double stddev);
  void (*bernoulli)(Tensor& x, uint64_t seed, uint64_t offset, double p);
};
OpRegistry<RandomImpl>& random_registry();

}  // namespace cs::kernels
