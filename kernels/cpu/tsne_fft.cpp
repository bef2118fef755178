// t-SNE repulsion by FFT-accelerated interpolation: the CPU reference
// (double throughout, a radix-2 FFT written out here). The steps
// are those of kernels/tsne_interp.h; the CUDA version follows them.
#include <cmath>
#include <complex>
#include <vector>

#include "kernels/tsne.h"
#include "kernels/tsne_interp.h"

namespace cs::kernels {

namespace tsne_interp {

namespace {

// One 1-D transform of `size` values, in place: bit-reversal permutation,
// then log2(size) rounds of butterflies.
void fft_line(std::complex<double>* v, int size, const std::vector<std::complex<double>>& twiddles) {
  for (int i = 1, j = 0; i < size; ++i) {
    int bit = size >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(v[i], v[j]);
  }
  for (int len = 2; len <= size; len <<= 1) {
    const int step = size / len;
    for (int start = 0; start < size; start += len)
      for (int k = 0; k < len / 2; ++k) {
        const std::complex<double> even = v[start + k];
        const std::complex<double> odd = v[start + k + len / 2] * twiddles[k * step];
        v[start + k] = even + odd;
        v[start + k + len / 2] = even - odd;
      }
  }
}

}  // namespace

void fft_cpu(std::complex<double>* data, int size, int dims, bool inverse) {
  CS_CHECK(size >= 1 && (size & (size - 1)) == 0, "fft_cpu: size " << size << " is not a power of two");
  const double sign = inverse ? 1.0 : -1.0;
  std::vector<std::complex<double>> twiddles(static_cast<size_t>(std::max(size / 2, 1)));
  for (int k = 0; k < size / 2; ++k)
    twiddles[k] = std::polar(1.0, sign * 2.0 * M_PI * k / size);
  int64_t total = 1;
  for (int d = 0; d < dims; ++d) total *= size;
  for (int axis = 0; axis < dims; ++axis) {
    int64_t stride = 1;  // between neighbours along this axis (row-major)
    for (int d = axis + 1; d < dims; ++d) stride *= size;
    const int64_t lines = total / size;
#pragma omp parallel
    {
      std::vector<std::complex<double>> line(static_cast<size_t>(size));
#pragma omp for schedule(static)
      for (int64_t l = 0; l < lines; ++l) {
        // Line l: `outer` blocks of size*stride, `inner` offset within a stride.
        const int64_t outer = l / stride, inner = l % stride;
        std::complex<double>* base = data + outer * size * stride + inner;
        for (int i = 0; i < size; ++i) line[i] = base[i * stride];
        fft_line(line.data(), size, twiddles);
        for (int i = 0; i < size; ++i) base[i * stride] = line[i];
      }
    }
  }
}

}  // namespace tsne_interp

namespace {

using tsne_interp::Grid;
using tsne_interp::kNodesPerBox;

// The 3^D nodes of one point's box and their interpolation weights.
struct Stencil {
  int64_t node[27];  // flat index on the M^D node grid
  double weight[27];
  int count = 0;
};

Stencil stencil_for(const double* point, const Grid& g) {
  int base[3] = {0, 0, 0};
  double w[3][kNodesPerBox];
  for (int k = 0; k < g.dims; ++k) {
    double u = 0;
    base[k] = tsne_interp::box_of(point[k], g.lo, g.box_width, g.boxes, u) * kNodesPerBox;
    tsne_interp::lagrange_weights(u, w[k]);
  }
  Stencil s;
  s.count = static_cast<int>(g.power(kNodesPerBox));
  for (int c = 0; c < s.count; ++c) {
    int64_t flat = 0;
    double weight = 1;
    for (int k = 0, rest = c; k < g.dims; ++k, rest /= kNodesPerBox) {
      const int local = rest % kNodesPerBox;
      flat = flat * g.nodes + base[k] + local;
      weight *= w[k][local];
    }
    s.node[c] = flat;
    s.weight[c] = weight;
  }
  return s;
}

// Padded FFT-grid index of a node, from its flat index on the node grid.
int64_t padded_index(int64_t node, const Grid& g) {
  int64_t index = 0, scale = 1;
  for (int k = 0; k < g.dims; ++k, node /= g.nodes, scale *= g.fft_size) index += (node % g.nodes) * scale;
  return index;
}

using Complex = std::complex<double>;

// Flat index of -e (every coordinate negated modulo L) on the padded grid.
int64_t negated_index(int64_t e, const Grid& g) {
  int64_t index = 0, scale = 1;
  for (int k = 0; k < g.dims; ++k, e /= g.fft_size, scale *= g.fft_size)
    index += ((g.fft_size - e % g.fft_size) % g.fft_size) * scale;
  return index;
}

// Two real arrays transformed by one complex FFT: in, packed = a + i b; out,
// packed = FFT(a) and second = FFT(b), from A[k] = (Z[k] + conj Z[-k]) / 2 and
// B[k] = (Z[k] - conj Z[-k]) / 2i. Halves the CPU reference's forward work.
void two_real_spectra(std::vector<Complex>& packed, std::vector<Complex>& second, const Grid& g) {
  tsne_interp::fft_cpu(packed.data(), g.fft_size, g.dims, false);
  const int64_t total = g.fft_count();
  second.resize(static_cast<size_t>(total));
  std::vector<Complex> first(static_cast<size_t>(total));
#pragma omp parallel for schedule(static)
  for (int64_t e = 0; e < total; ++e) {
    const Complex z = packed[e], mirror = std::conj(packed[negated_index(e, g)]);
    first[e] = (z + mirror) * 0.5;
    second[e] = (z - mirror) * Complex(0.0, -0.5);
  }
  packed.swap(first);
}

// The spectra of the kernels w^2 and w over the padded grid of node offsets.
void kernel_spectra(const Grid& g, std::vector<Complex>& squared, std::vector<Complex>& plain) {
  const int64_t total = g.fft_count();
  squared.assign(static_cast<size_t>(total), 0.0);  // packed: w^2 + i w
  for (int64_t e = 0; e < total; ++e) {
    double sq = 0;
    bool used = true;
    for (int64_t k = 0, rest = e; k < g.dims; ++k, rest /= g.fft_size) {
      int offset = 0;
      used = used && tsne_interp::fft_offset(static_cast<int>(rest % g.fft_size), g.nodes, g.fft_size, offset);
      sq += static_cast<double>(offset) * offset;
    }
    if (!used) continue;
    const double w = 1.0 / (1.0 + sq * g.spacing * g.spacing);
    squared[e] = Complex(w * w, w);
  }
  two_real_spectra(squared, plain, g);
}

void cpu_repulsion_fft(const Tensor& y, Tensor& rep, Tensor& z, double max_box_width) {
  dispatch_floating(y.dtype(), "tsne_repulsion_fft", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = y.dim(0);
    const int d = static_cast<int>(y.dim(1));
    std::vector<double> points(static_cast<size_t>(n * d));
    for (int64_t e = 0; e < n * d; ++e) points[e] = y.data<T>()[e];
    double lo = points[0], hi = points[0];
    for (int64_t e = 0; e < n * d; ++e) {
      CS_CHECK(std::isfinite(points[e]), "tsne_repulsion_fft: coordinate " << e % d << " of point " << e / d
                                             << " is not finite (NaN or infinity): the optimisation diverged");
      lo = std::min(lo, points[e]);
      hi = std::max(hi, points[e]);
    }
    const Grid g = tsne_interp::plan_grid(lo, hi, d, max_box_width);
    const int charges = d + 1;  // 1, y_1 .. y_d
    const int64_t node_count = g.node_count(), fft_count = g.fft_count();

    // Spread, point by point in index order.
    std::vector<Stencil> stencils(static_cast<size_t>(n));
    std::vector<double> spread(static_cast<size_t>(charges * node_count), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      stencils[i] = stencil_for(&points[i * d], g);
      const Stencil& s = stencils[i];
      for (int c = 0; c < s.count; ++c) {
        spread[s.node[c]] += s.weight[c];
        for (int k = 0; k < d; ++k)
          spread[(1 + k) * node_count + s.node[c]] += s.weight[c] * (points[i * d + k] - g.center);
      }
    }

    // Convolve: potentials[c] = w^2 * charge c; the last one = w * charge 0.
    // Real fields go through the complex FFT two at a time.
    std::vector<Complex> squared, plain;
    kernel_spectra(g, squared, plain);
    std::vector<std::vector<Complex>> spectra(static_cast<size_t>(charges));
    for (int c = 0; c < charges; c += 2) {
      std::vector<Complex>& packed = spectra[c];
      packed.assign(static_cast<size_t>(fft_count), 0.0);
      for (int64_t node = 0; node < node_count; ++node)
        packed[padded_index(node, g)] = Complex(spread[c * node_count + node],
                                                c + 1 < charges ? spread[(c + 1) * node_count + node] : 0.0);
      std::vector<Complex> second;
      two_real_spectra(packed, second, g);
      if (c + 1 < charges) spectra[c + 1].swap(second);
    }
    const int outputs = charges + 1;
    auto product = [&](int slot, int64_t e) {
      return slot < charges ? spectra[slot][e] * squared[e] : spectra[0][e] * plain[e];
    };
    std::vector<double> potentials(static_cast<size_t>(outputs * node_count));
    std::vector<Complex> packed(static_cast<size_t>(fft_count));
    for (int slot = 0; slot < outputs; slot += 2) {
      const bool pair = slot + 1 < outputs;
#pragma omp parallel for schedule(static)
      for (int64_t e = 0; e < fft_count; ++e)  // both inverses are real: IFFT(P + iQ) = p + iq
        packed[e] = product(slot, e) + (pair ? Complex(0.0, 1.0) * product(slot + 1, e) : Complex(0.0));
      tsne_interp::fft_cpu(packed.data(), g.fft_size, d, true);
      for (int64_t node = 0; node < node_count; ++node) {
        const Complex v = packed[padded_index(node, g)] / static_cast<double>(fft_count);
        potentials[slot * node_count + node] = v.real();
        if (pair) potentials[(slot + 1) * node_count + node] = v.imag();
      }
    }

    // Interpolate back and combine.
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const Stencil& s = stencils[i];
      double phi[4] = {0, 0, 0, 0}, zeta = 0;
      for (int c = 0; c < s.count; ++c) {
        for (int q = 0; q < charges; ++q) phi[q] += s.weight[c] * potentials[q * node_count + s.node[c]];
        zeta += s.weight[c] * potentials[charges * node_count + s.node[c]];
      }
      for (int k = 0; k < d; ++k)
        rep.data<T>()[i * d + k] = static_cast<T>((points[i * d + k] - g.center) * phi[0] - phi[1 + k]);
      z.data<T>()[i] = static_cast<T>(zeta - 1.0);
    }
  });
}

}  // namespace

CS_REGISTER_OP(tsne_fft_registry, DeviceType::CPU, (TsneFftImpl{&cpu_repulsion_fft}))

}  // namespace cs::kernels
