// t-SNE repulsion by FFT-accelerated interpolation on the GPU (the steps of
// kernels/tsne_interp.h). Deterministic without atomics: the points are
// sorted by box (a stable radix sort), and each grid node gathers the charges
// of the points in its own box in that order; each point gathers its 3^D
// node potentials back in a fixed order. The convolution is cuFFT's
// real-to-complex transform over the padded grid, batched over the charges.
//
// The grid, the spectra and the potentials are double: a point's repulsion
// is (y - c) phi_0 - phi_1, two sums that cancel by up to 1e5 where points
// crowd into one box, and a float FFT's error (1e-7 of the largest
// potential) then swamps the difference (27% off in the crowded-box test).
#include <cub/device/device_radix_sort.cuh>
#include <cufft.h>

#include <algorithm>
#include <cfloat>
#include <map>
#include <mutex>
#include <tuple>

#include "kernels/tsne.h"
#include "kernels/tsne_interp.h"
#include "runtime/cuda/cuda_context.cuh"

#define CS_CUFFT_CHECK(expr)                                                                 \
  do {                                                                                       \
    const cufftResult cs_fft_status_ = (expr);                                               \
    CS_CHECK(cs_fft_status_ == CUFFT_SUCCESS, "cuFFT call failed with status "               \
                                                  << static_cast<int>(cs_fft_status_) << ": " \
                                                  << #expr);                                 \
  } while (0)

namespace cs::kernels {
namespace {

using tsne_interp::kNodesPerBox;

// The grid as the kernels see it. lo and box_width stay double: boxes are
// found in double arithmetic, as in the CPU reference, so a point within a
// float rounding of a box edge lands in the same box on both (the
// interpolant is piecewise, so a different box would change its sums by the
// interpolation error, not by a rounding).
struct GridArgs {
  int boxes, nodes, fft_size;
  double lo, box_width, center;
  int64_t fft_count;  // fft_size^D
};

__device__ __forceinline__ int box_index(float x, const GridArgs& g, double& u) {
  return tsne_interp::box_of(static_cast<double>(x), g.lo, g.box_width, g.boxes, u);
}

// The box of coordinate x and the Lagrange weights of its three nodes.
__device__ __forceinline__ int locate(float x, const GridArgs& g, double w[kNodesPerBox]) {
  double u;
  const int b = box_index(x, g, u);
  tsne_interp::lagrange_weights(u, w);
  return b;
}

constexpr int kRangeThreads = 1024;

// min and max that keep a NaN (fminf / fmaxf drop it), so a diverged
// embedding is reported instead of binned.
__device__ __forceinline__ float nan_min(float a, float b) { return a != a || b != b ? NAN : fminf(a, b); }
__device__ __forceinline__ float nan_max(float a, float b) { return a != a || b != b ? NAN : fmaxf(a, b); }

// Smallest and largest coordinate: one block (min and max need no fixed order).
__global__ void range_kernel(const float* y, int64_t count, float* out) {
  CS_SHARED(lo_s, float[kRangeThreads]);
  CS_SHARED(hi_s, float[kRangeThreads]);
  float lo = FLT_MAX, hi = -FLT_MAX;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    lo = nan_min(lo, y[e]);
    hi = nan_max(hi, y[e]);
  }
  lo_s[threadIdx.x] = lo;
  hi_s[threadIdx.x] = hi;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      lo_s[threadIdx.x] = nan_min(lo_s[threadIdx.x], lo_s[threadIdx.x + half]);
      hi_s[threadIdx.x] = nan_max(hi_s[threadIdx.x], hi_s[threadIdx.x + half]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    out[0] = lo_s[0];
    out[1] = hi_s[0];
  }
}

// keys[i] = the flat index of point i's box; order[i] = i (sorted along).
template <int D>
__global__ void box_keys_kernel(const float* y, int64_t n, GridArgs g, uint32_t* keys, int32_t* order) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  uint32_t key = 0;
  double u;
#pragma unroll
  for (int k = 0; k < D; ++k) key = key * g.boxes + box_index(y[i * D + k], g, u);
  keys[i] = key;
  order[i] = static_cast<int32_t>(i);
}

__device__ int64_t lower_bound(const uint32_t* sorted, int64_t n, uint32_t key) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (sorted[mid] < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// One thread per grid node: the charges (1, y - center) of the points in its
// box, weighted by the node's Lagrange weight. field: (D + 1, L^D), zeroed.
template <int D>
__global__ void spread_kernel(const float* y, const uint32_t* sorted_keys, const int32_t* sorted_points,
                              int64_t n, GridArgs g, int64_t node_count, double* field) {
  const int64_t node = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (node >= node_count) return;
  int coord[D];
  int64_t rest = node;
#pragma unroll
  for (int k = D - 1; k >= 0; --k) {
    coord[k] = static_cast<int>(rest % g.nodes);
    rest /= g.nodes;
  }
  uint32_t box = 0;
  int64_t padded = 0;
#pragma unroll
  for (int k = 0; k < D; ++k) {
    box = box * g.boxes + coord[k] / kNodesPerBox;
    padded = padded * g.fft_size + coord[k];
  }
  const int64_t first = lower_bound(sorted_keys, n, box), last = lower_bound(sorted_keys, n, box + 1);
  double acc[D + 1] = {};
  for (int64_t s = first; s < last; ++s) {
    const float* p = y + static_cast<int64_t>(sorted_points[s]) * D;
    double weight = 1.0;
#pragma unroll
    for (int k = 0; k < D; ++k) {
      double w[kNodesPerBox];
      locate(p[k], g, w);
      weight *= w[coord[k] % kNodesPerBox];
    }
    acc[0] += weight;
#pragma unroll
    for (int k = 0; k < D; ++k) acc[1 + k] += weight * (static_cast<double>(p[k]) - g.center);
  }
#pragma unroll
  for (int c = 0; c <= D; ++c) field[c * g.fft_count + padded] = acc[c];
}

// table: (2, L^D): the kernels w^2 and w at each padded index's node offset.
template <int D>
__global__ void kernel_table_kernel(GridArgs g, double spacing, double* table) {
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < g.fft_count;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    double sq = 0;
    bool used = true;
    int64_t rest = e;
#pragma unroll
    for (int k = 0; k < D; ++k) {
      int offset = 0;
      used = used && tsne_interp::fft_offset(static_cast<int>(rest % g.fft_size), g.nodes, g.fft_size, offset);
      rest /= g.fft_size;
      sq += static_cast<double>(offset) * offset;
    }
    const double w = used ? 1.0 / (1.0 + sq * spacing * spacing) : 0.0;
    table[e] = w * w;
    table[g.fft_count + e] = w;
  }
}

// products (charges + 1, S): charge c's spectrum times the w^2 spectrum, and
// last charge 0's spectrum times the w spectrum.
__global__ void multiply_spectra_kernel(const cufftDoubleComplex* charges_hat, const cufftDoubleComplex* kernels_hat,
                                        cufftDoubleComplex* products, int charges, int64_t spectrum) {
  const int64_t total = (charges + 1) * spectrum;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int c = static_cast<int>(e / spectrum);
    const int64_t s = e % spectrum;
    const cufftDoubleComplex a = charges_hat[(c < charges ? c : 0) * spectrum + s];
    const cufftDoubleComplex b = kernels_hat[(c < charges ? 0 : 1) * spectrum + s];
    products[e] = make_cuDoubleComplex(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
  }
}

// One thread per point: gather the 3^D node potentials (unscaled inverse
// FFTs, (D + 2, L^D)) and combine them into rep and z.
template <int D>
__global__ void interpolate_kernel(const float* y, int64_t n, GridArgs g, const double* potentials,
                                   double inv_count, float* rep, float* z) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  int base[D];
  double w[D][kNodesPerBox];
#pragma unroll
  for (int k = 0; k < D; ++k) base[k] = locate(y[i * D + k], g, w[k]) * kNodesPerBox;
  int stencil = 1;
#pragma unroll
  for (int k = 0; k < D; ++k) stencil *= kNodesPerBox;
  double phi[D + 2] = {};
  for (int c = 0; c < stencil; ++c) {
    int64_t padded = 0;
    double weight = 1.0;
    int rest = c;
#pragma unroll
    for (int k = 0; k < D; ++k) {
      const int local = rest % kNodesPerBox;
      rest /= kNodesPerBox;
      padded = padded * g.fft_size + base[k] + local;
      weight *= w[k][local];
    }
#pragma unroll
    for (int q = 0; q < D + 2; ++q) phi[q] += weight * potentials[q * g.fft_count + padded];
  }
#pragma unroll
  for (int k = 0; k < D; ++k)
    rep[i * D + k] =
        static_cast<float>((static_cast<double>(y[i * D + k]) - g.center) * (phi[0] * inv_count) - phi[1 + k] * inv_count);
  z[i] = static_cast<float>(phi[D + 1] * inv_count - 1.0);
}

// cuFFT plans for one device, stream, dimension and size, made once and
// kept. Their work areas are not cuFFT's own cudaMalloc: each call takes one
// from our stream-ordered pool (cufftSetWorkArea), so they count in memory
// stats and never outlive the call. A lock covers the executions, since
// plans carry state (stream, work area) between set and run.
struct FftPlan {
  cufftHandle handle = 0;
  size_t work_bytes = 0;
};
struct FftPlans {
  FftPlan kernels;  // D2Z, batch 2
  FftPlan forward;  // D2Z, batch D + 1
  FftPlan inverse;  // Z2D, batch D + 2
};

std::mutex& fft_mutex() {
  static std::mutex mutex;
  return mutex;
}

FftPlan make_plan(int dims, int size, cufftType type, int batch) {
  int shape[3] = {size, size, size};
  FftPlan p;
  CS_CUFFT_CHECK(cufftCreate(&p.handle));
  CS_CUFFT_CHECK(cufftSetAutoAllocation(p.handle, 0));
  CS_CUFFT_CHECK(cufftMakePlanMany(p.handle, dims, shape, nullptr, 1, 0, nullptr, 1, 0, type, batch, &p.work_bytes));
  return p;
}

// Call with fft_mutex() held.
const FftPlans& plans_for(int device, cudaStream_t stream, int dims, int size) {
  static std::map<std::tuple<int, cudaStream_t, int, int>, FftPlans> cache;
  const auto key = std::make_tuple(device, stream, dims, size);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  FftPlans p;
  p.kernels = make_plan(dims, size, CUFFT_D2Z, 2);
  p.forward = make_plan(dims, size, CUFFT_D2Z, dims + 1);
  p.inverse = make_plan(dims, size, CUFFT_Z2D, dims + 2);
  for (const FftPlan* plan : {&p.kernels, &p.forward, &p.inverse}) CS_CUFFT_CHECK(cufftSetStream(plan->handle, stream));
  return cache.emplace(key, p).first->second;
}

template <int D>
void repulsion_fft(const Tensor& y, Tensor& rep, Tensor& z, double max_box_width) {
  const int device = y.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  const int64_t n = y.dim(0);

  // The bounding cube, read back to size the grid.
  Tensor range = Tensor::empty({2}, y.device());
  cuda::launch(range_kernel, 1, kRangeThreads, 0, stream, y.data<float>(), y.numel(),
               range.data<float>());
  CS_CUDA_CHECK_LAUNCH("range_kernel");
  const std::vector<float> bounds = range.to_vector<float>();
  CS_CHECK(std::isfinite(bounds[0]) && std::isfinite(bounds[1]),
           "tsne_repulsion_fft: the embedding holds a non-finite coordinate (NaN or infinity): the "
           "optimisation diverged");
  const tsne_interp::Grid grid = tsne_interp::plan_grid(bounds[0], bounds[1], D, max_box_width);
  GridArgs g{grid.boxes, grid.nodes, grid.fft_size, grid.lo, grid.box_width, grid.center, grid.fft_count()};
  const int64_t node_count = grid.node_count();
  const int64_t spectrum = grid.fft_count() / grid.fft_size * (grid.fft_size / 2 + 1);  // complex per batch

  // Sort the points by box (stable: equal boxes keep index order).
  Tensor keys = Tensor::empty({n}, y.device(), DType::I32), order = Tensor::empty({n}, y.device(), DType::I32);
  Tensor sorted_keys = Tensor::empty({n}, y.device(), DType::I32),
         sorted_points = Tensor::empty({n}, y.device(), DType::I32);
  const unsigned point_blocks = static_cast<unsigned>((n + 255) / 256);
  cuda::launch(box_keys_kernel<D>, point_blocks, 256, 0, stream, y.data<float>(), n, g,
               reinterpret_cast<uint32_t*>(keys.data<int32_t>()), order.data<int32_t>());
  CS_CUDA_CHECK_LAUNCH("box_keys_kernel");
  int key_bits = 1;
  while ((int64_t{1} << key_bits) < grid.power(grid.boxes)) ++key_bits;
  size_t temp_bytes = 0;
  const auto* keys_in = reinterpret_cast<const uint32_t*>(keys.data<int32_t>());
  auto* keys_out = reinterpret_cast<uint32_t*>(sorted_keys.data<int32_t>());
  CS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys_in, keys_out, order.data<int32_t>(),
                                                sorted_points.data<int32_t>(), n, 0, key_bits, stream));
  Tensor temp = Tensor::empty({static_cast<int64_t>(std::max<size_t>(temp_bytes, 1))}, y.device(), DType::U8);
  CS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), temp_bytes, keys_in, keys_out,
                                                order.data<int32_t>(), sorted_points.data<int32_t>(), n, 0,
                                                key_bits, stream));

  // Spread the charges onto the padded grid.
  const int charges = D + 1;
  Tensor field = Tensor::zeros({charges, grid.fft_count()}, y.device(), DType::F64);
  cuda::launch(spread_kernel<D>, static_cast<unsigned>((node_count + 255) / 256), 256, 0, stream,
               y.data<float>(), keys_out, sorted_points.data<int32_t>(), n, g, node_count,
               field.data<double>());
  CS_CUDA_CHECK_LAUNCH("spread_kernel");

  // Convolve in frequency space.
  Tensor table = Tensor::empty({2, grid.fft_count()}, y.device(), DType::F64);
  cuda::launch(kernel_table_kernel<D>, cuda::grid_for(grid.fft_count(), 256), 256, 0, stream, g,
               grid.spacing, table.data<double>());
  CS_CUDA_CHECK_LAUNCH("kernel_table_kernel");
  Tensor kernels_hat = Tensor::empty({2, spectrum, 2}, y.device(), DType::F64);
  Tensor charges_hat = Tensor::empty({charges, spectrum, 2}, y.device(), DType::F64);
  Tensor products = Tensor::empty({charges + 1, spectrum, 2}, y.device(), DType::F64);
  Tensor potentials = Tensor::empty({charges + 1, grid.fft_count()}, y.device(), DType::F64);
  auto* kernels_c = reinterpret_cast<cufftDoubleComplex*>(kernels_hat.data<double>());
  auto* charges_c = reinterpret_cast<cufftDoubleComplex*>(charges_hat.data<double>());
  auto* products_c = reinterpret_cast<cufftDoubleComplex*>(products.data<double>());
  {
    std::lock_guard<std::mutex> lock(fft_mutex());
    const FftPlans& plans = plans_for(device, stream, D, grid.fft_size);
    const size_t work_bytes = std::max({plans.kernels.work_bytes, plans.forward.work_bytes, plans.inverse.work_bytes});
    Tensor work = Tensor::empty({static_cast<int64_t>(std::max<size_t>(work_bytes, 1))}, y.device(), DType::U8);
    for (const FftPlan* plan : {&plans.kernels, &plans.forward, &plans.inverse})
      CS_CUFFT_CHECK(cufftSetWorkArea(plan->handle, work.raw_data()));  // one area: the runs are in stream order
    CS_CUFFT_CHECK(cufftExecD2Z(plans.kernels.handle, table.data<double>(), kernels_c));
    CS_CUFFT_CHECK(cufftExecD2Z(plans.forward.handle, field.data<double>(), charges_c));
    cuda::launch(multiply_spectra_kernel, cuda::grid_for((charges + 1) * spectrum, 256), 256, 0,
                 stream, charges_c, kernels_c, products_c, charges, spectrum);
    CS_CUDA_CHECK_LAUNCH("multiply_spectra_kernel");
    CS_CUFFT_CHECK(cufftExecZ2D(plans.inverse.handle, products_c, potentials.data<double>()));
  }

  // Interpolate back to the points.
  cuda::launch(interpolate_kernel<D>, point_blocks, 256, 0, stream, y.data<float>(), n, g,
               potentials.data<double>(), 1.0 / static_cast<double>(grid.fft_count()),
               rep.data<float>(), z.data<float>());
  CS_CUDA_CHECK_LAUNCH("interpolate_kernel");
}

void cuda_repulsion_fft(const Tensor& y, Tensor& rep, Tensor& z, double max_box_width) {
  CS_CHECK(y.dtype() == DType::F32, "tsne_repulsion_fft on the GPU takes f32, got " << dtype_name(y.dtype()));
  if (y.dim(1) == 2)
    repulsion_fft<2>(y, rep, z, max_box_width);
  else
    repulsion_fft<3>(y, rep, z, max_box_width);
}

}  // namespace

CS_REGISTER_OP(tsne_fft_registry, DeviceType::CUDA, (TsneFftImpl{&cuda_repulsion_fft}))

}  // namespace cs::kernels
