// The FFT-accelerated t-SNE repulsion: its FFT against a plain DFT, its grid
// plan, its sums against the exact O(N^2) ones, and the GPU against the CPU.
#include <cmath>
#include <complex>

#include "kernels/tsne.h"
#include "kernels/tsne_interp.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using kernels::tsne_interp::Grid;

// The DFT written from its definition, over a dims-dimensional cube.
std::vector<std::complex<double>> naive_dft(const std::vector<std::complex<double>>& x, int size, int dims,
                                            bool inverse) {
  const int64_t total = static_cast<int64_t>(x.size());
  std::vector<std::complex<double>> out(x.size());
  const double sign = inverse ? 1.0 : -1.0;
  for (int64_t a = 0; a < total; ++a)
    for (int64_t b = 0; b < total; ++b) {
      double phase = 0;
      for (int64_t k = 0, ra = a, rb = b; k < dims; ++k, ra /= size, rb /= size)
        phase += static_cast<double>((ra % size) * (rb % size)) / size;
      out[a] += x[b] * std::polar(1.0, sign * 2 * M_PI * phase);
    }
  return out;
}

TEST(TsneFft, CpuFftMatchesTheDefinition) {
  for (auto [size, dims] : {std::pair{1, 1}, {2, 1}, {16, 1}, {8, 2}, {4, 3}}) {
    SCOPED_TRACE(::testing::Message() << size << "^" << dims);
    int64_t total = 1;
    for (int k = 0; k < dims; ++k) total *= size;
    const std::vector<float> re = testing::random_tensor({total}, testing::seed_for("re")).to_vector<float>();
    const std::vector<float> im = testing::random_tensor({total}, testing::seed_for("im")).to_vector<float>();
    std::vector<std::complex<double>> x(static_cast<size_t>(total));
    for (int64_t e = 0; e < total; ++e) x[e] = {re[e], im[e]};
    for (bool inverse : {false, true}) {
      std::vector<std::complex<double>> fast = x;
      kernels::tsne_interp::fft_cpu(fast.data(), size, dims, inverse);
      const std::vector<std::complex<double>> slow = naive_dft(x, size, dims, inverse);
      for (int64_t e = 0; e < total; ++e) EXPECT_LT(std::abs(fast[e] - slow[e]), 1e-12 * total) << e;
    }
    std::vector<std::complex<double>> round = x;
    kernels::tsne_interp::fft_cpu(round.data(), size, dims, false);
    kernels::tsne_interp::fft_cpu(round.data(), size, dims, true);
    for (int64_t e = 0; e < total; ++e) EXPECT_LT(std::abs(round[e] / static_cast<double>(total) - x[e]), 1e-14);
  }
  std::vector<std::complex<double>> odd(6);
  EXPECT_THROW(kernels::tsne_interp::fft_cpu(odd.data(), 6, 1, false), Error);
}

TEST(TsneFft, GridCoversTheEmbeddingWithoutWrapAround) {
  for (int dims : {2, 3})
    for (double range : {1e-6, 0.5, 7.0, 60.0, 300.0, 5000.0}) {
      SCOPED_TRACE(::testing::Message() << dims << "-D, range " << range);
      const Grid g = kernels::tsne_interp::plan_grid(-range / 3, 2 * range / 3, dims);
      EXPECT_EQ(g.fft_size & (g.fft_size - 1), 0) << "a power of two";
      EXPECT_LE(2 * g.nodes - 1, g.fft_size) << "no circular wrap-around";
      EXPECT_GT(2 * (g.nodes + kernels::tsne_interp::kNodesPerBox) - 1, g.fft_size) << "the padding is used";
      EXPECT_GE(g.boxes, kernels::tsne_interp::kMinBoxes);
      EXPECT_LT(g.lo, -range / 3);
      EXPECT_GT(g.lo + g.boxes * g.box_width, 2 * range / 3);
      EXPECT_NEAR(g.spacing * kernels::tsne_interp::kNodesPerBox, g.box_width, 1e-12 * g.box_width);
      const int cap = dims == 2 ? kernels::tsne_interp::kMaxFftSize2d : kernels::tsne_interp::kMaxFftSize3d;
      EXPECT_LE(g.fft_size, cap);
      if (g.fft_size < cap) {
        EXPECT_LE(g.box_width, kernels::tsne_interp::kMaxBoxWidth);
      }
    }
}

TEST(TsneFft, LagrangeWeightsReproduceQuadratics) {
  for (double u : {0.0, 0.3, 1.5, 2.2, 3.0}) {
    double w[3];
    kernels::tsne_interp::lagrange_weights(u, w);
    double one = 0, lin = 0, quad = 0;
    for (int k = 0; k < 3; ++k) {
      const double node = k + 0.5;
      one += w[k];
      lin += w[k] * node;
      quad += w[k] * node * node;
    }
    EXPECT_NEAR(one, 1.0, 1e-14);
    EXPECT_NEAR(lin, u, 1e-14);
    EXPECT_NEAR(quad, u * u, 1e-13);
  }
}

// n points in clusters of a given spread: a t-SNE-like embedding.
Tensor embedding(int64_t n, int dims, double spread, const std::string& tag, DType dtype = DType::F64) {
  const std::vector<float> centres = testing::random_tensor({8, dims}, testing::seed_for(tag + "c")).to_vector<float>();
  const std::vector<float> offsets = testing::random_tensor({n, dims}, testing::seed_for(tag + "o")).to_vector<float>();
  std::vector<double> v(static_cast<size_t>(n * dims));
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < dims; ++k) v[i * dims + k] = spread * (centres[(i % 8) * dims + k] + 0.15 * offsets[i * dims + k]);
  return Tensor::from_vector(v, {n, static_cast<int64_t>(dims)}).to(dtype);
}

// max |a - b| / max |b| over all elements.
double relative_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to(DType::F64).to_vector<double>(), r = b.to(DType::F64).to_vector<double>();
  double err = 0, scale = 0;
  for (size_t e = 0; e < x.size(); ++e) {
    err = std::max(err, std::abs(x[e] - r[e]));
    scale = std::max(scale, std::abs(r[e]));
  }
  return err / scale;
}

struct FftErrors {
  double rep, z, z_total;  // max-relative for rep and z; |Z / Z_exact - 1|
};

FftErrors fft_errors(const Tensor& y, double max_box_width) {
  const int64_t n = y.dim(0);
  Tensor rep = Tensor::empty_like(y), z = Tensor::empty({n}, Device::cpu(), DType::F64);
  Tensor rep_exact = Tensor::empty_like(y), z_exact = Tensor::empty_like(z);
  kernels::tsne_repulsion_fft(y, rep, z, max_box_width);
  kernels::tsne_repulsion_exact(y, rep_exact, z_exact);
  const std::vector<double> zv = z.to_vector<double>(), ze = z_exact.to_vector<double>();
  double total = 0, total_exact = 0;
  for (int64_t i = 0; i < n; ++i) total += zv[i], total_exact += ze[i];
  return {relative_error(rep, rep_exact), relative_error(z, z_exact), std::abs(total / total_exact - 1)};
}

// At FIt-SNE's setting (boxes <= 1 wide, 3 nodes each) the worst point is off
// by a few percent of the largest sum and Z by ~1e-3 (measured: rep 0.057 /
// 0.067, z 0.009 / 0.027, Z 1e-3 / 4e-3 at spread 10 / 40 in 2-D); quartering
// the box width must shrink the error as a cubic interpolation does (~95x at
// spread 10; >= 10x required).
TEST(TsneFft, MatchesTheExactRepulsionAndConvergesWithTheBoxWidth) {
  for (int dims : {2, 3})
    for (double spread : {1e-3, 2.0, 10.0, 40.0}) {
      if (dims == 3 && spread > 10) continue;  // a 256^3 grid: the GPU test covers it
      SCOPED_TRACE(::testing::Message() << dims << "-D, spread " << spread);
      const Tensor y = embedding(dims == 2 ? 600 : 300, dims, spread, "y");
      const FftErrors coarse = fft_errors(y, 1.0);
      EXPECT_LT(coarse.rep, 0.1);
      EXPECT_LT(coarse.z, 0.04);
      EXPECT_LT(coarse.z_total, 6e-3);
      if (spread < 5) continue;  // the minimum grid is already finer than 0.25
      const FftErrors fine = fft_errors(y, 0.25);
      EXPECT_LT(fine.rep, coarse.rep / 10);
      EXPECT_LT(fine.z, coarse.z / 10);
    }
}

// A range of 400 (the 4096 grid, 682 boxes of 0.59) with half the points in
// one box (measured: rep 2.3e-3, z 8e-4, Z 7e-4).
TEST(TsneFft, WideEmbeddingsAndCrowdedBoxes) {
  const int64_t n = 4000;
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) {
    const bool crowd = i % 2 == 0;
    v.push_back(crowd ? 0.25 + 1e-3 * static_cast<double>(i % 7) : static_cast<double>((i * 37) % 400) - 200.0);
    v.push_back(crowd ? -0.5 + 1e-3 * static_cast<double>(i % 5) : static_cast<double>((i * 91) % 400) - 200.0);
  }
  const Tensor y = Tensor::from_vector(v, {n, 2});
  const FftErrors e = fft_errors(y, 1.0);
  EXPECT_LT(e.rep, 0.01);
  EXPECT_LT(e.z, 0.005);
  EXPECT_LT(e.z_total, 5e-3);
}

TEST(TsneFft, IsDeterministicAndChecksItsArguments) {
  const Tensor y = embedding(500, 2, 5.0, "d", DType::F32);
  Tensor rep = Tensor::empty_like(y), z = Tensor::empty({500});
  Tensor rep2 = Tensor::empty_like(y), z2 = Tensor::empty({500});
  kernels::tsne_repulsion_fft(y, rep, z);
  kernels::tsne_repulsion_fft(y, rep2, z2);
  EXPECT_BITWISE_EQ(rep2, rep);
  EXPECT_BITWISE_EQ(z2, z);
  Tensor wrong = Tensor::empty({500, 4});
  EXPECT_THROW(kernels::tsne_repulsion_fft(wrong, wrong, z), Error);
  Tensor short_z = Tensor::empty({499});
  EXPECT_THROW(kernels::tsne_repulsion_fft(y, rep, short_z), Error);
  EXPECT_THROW(kernels::tsne_repulsion_fft(y, rep, z, 0.0), Error);
  std::vector<float> v = y.to_vector<float>();
  v[7] = std::nanf("");
  EXPECT_THROW(kernels::tsne_repulsion_fft(Tensor::from_vector(v, {500, 2}), rep, z), Error);
}

TEST(TsneFftCuda, MatchesTheCpu) {
  CS_REQUIRE_CUDA();
  for (int dims : {2, 3})
    for (double spread : {1e-3, 2.0, 10.0, 40.0}) {
      // 3-D: spreads 1e-3 and 2 take the smallest grid (128^3), 10 and 40 the
      // largest (256^3, boxes wider than 1 at 40), through the same kernels. A
      // 256^3 spread costs the simulator ~30 s (two device calls and the CPU
      // reference), so there 3-D keeps the 128^3 grid; 2-D keeps every grid.
      if (dims == 3 && spread > 5 && !testing::full_gpu_shapes()) continue;
      SCOPED_TRACE(::testing::Message() << dims << "-D, spread " << spread);
      const int64_t n = dims == 2 ? 5000 : 2000;
      const Tensor y = embedding(n, dims, spread, "g", DType::F32);
      Tensor rep = Tensor::empty({n, dims}, Device::cpu(), DType::F64), z = Tensor::empty({n}, Device::cpu(), DType::F64);
      kernels::tsne_repulsion_fft(y.to(DType::F64), rep, z);  // the CPU reference, in double
      const Tensor gy = y.to(Device::cuda());
      Tensor grep = Tensor::empty_like(gy), gz = Tensor::empty({n}, gy.device());
      kernels::tsne_repulsion_fft(gy, grep, gz);
      // float + cuFFT vs double: rep = y phi_0 - phi cancels up to ~100x, so 1e-3.
      EXPECT_LT(relative_error(grep.to(Device::cpu()), rep), 1e-3);
      EXPECT_LT(relative_error(gz.to(Device::cpu()), z), 2e-4);
      if (spread == 2.0) {  // a NaN is reported, not binned
        std::vector<float> bad = y.to_vector<float>();
        bad[3] = std::nanf("");
        Tensor gbad = Tensor::from_vector(bad, y.shape()).to(Device::cuda());
        EXPECT_THROW(kernels::tsne_repulsion_fft(gbad, grep, gz), Error);
      }
      Tensor grep2 = Tensor::empty_like(gy), gz2 = Tensor::empty({n}, gy.device());
      kernels::tsne_repulsion_fft(gy, grep2, gz2);
      EXPECT_BITWISE_EQ(grep2.to(Device::cpu()), grep.to(Device::cpu()));
      EXPECT_BITWISE_EQ(gz2.to(Device::cpu()), gz.to(Device::cpu()));
    }
}

TEST(TsneFftCuda, HandlesTheFullGridAndCrowdedBoxes) {
  CS_REQUIRE_CUDA();
  // A range of 400 (the 4096 grid) and half the points piled into one box.
  // The spread points repeat every 400 indices, so the simulator's 4000
  // points keep the range and the positions, with 2000 in the crowded box;
  // the exact O(N^2) sums and the per-point work shrink, the 4096^2 grid stays.
  const int64_t n = testing::full_gpu_shapes() ? 20000 : 4000;
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) {
    const bool crowd = i % 2 == 0;
    v.push_back(crowd ? 0.25f + 1e-5f * static_cast<float>(i % 7) : static_cast<float>((i * 37) % 400) - 200.0f);
    v.push_back(crowd ? -0.5f : static_cast<float>((i * 91) % 400) - 200.0f);
  }
  const Tensor y = Tensor::from_vector(v, {n, 2});
  Tensor rep = Tensor::empty({n, 2}, Device::cpu(), DType::F64), z = Tensor::empty({n}, Device::cpu(), DType::F64);
  kernels::tsne_repulsion_fft(y.to(DType::F64), rep, z);
  const Tensor gy = y.to(Device::cuda());
  Tensor grep = Tensor::empty_like(gy), gz = Tensor::empty({n}, Device::cuda());
  Tensor exact_rep = Tensor::empty_like(gy), exact_z = Tensor::empty({n}, Device::cuda());
  kernels::tsne_repulsion_fft(gy, grep, gz);
  kernels::tsne_repulsion_exact(gy, exact_rep, exact_z);
  EXPECT_LT(relative_error(grep.to(Device::cpu()), rep), 1e-3);
  EXPECT_LT(relative_error(gz.to(Device::cpu()), z), 2e-4);
  const std::vector<float> a = gz.to(Device::cpu()).to_vector<float>(), b = exact_z.to(Device::cpu()).to_vector<float>();
  double total = 0, total_exact = 0;
  for (int64_t i = 0; i < n; ++i) total += a[i], total_exact += b[i];
  EXPECT_NEAR(total / total_exact, 1.0, 5e-3) << "Z, the normaliser";
}

}  // namespace
}  // namespace cs
