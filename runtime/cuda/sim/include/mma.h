// The simulated device's warp matrix functions (nvcuda::wmma), for the TF32
// m16n16k8 shape convscope uses. Loads, stores and products are warp
// collectives over all 32 lanes (a lane missing is an error, as it is
// undefined on the GPU); each lane holds num_elements of the tile, and the
// product rounds its inputs to TF32 by dropping the low 13 mantissa bits, as
// the tensor cores do with fp32 input, then accumulates in fp32.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

namespace detail {
template <typename Use, int M, int N, int K>
struct TileShape;
template <int M, int N, int K>
struct TileShape<matrix_a, M, N, K> {
  static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct TileShape<matrix_b, M, N, K> {
  static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct TileShape<accumulator, M, N, K> {
  static constexpr int rows = M, cols = N;
};
}  // namespace detail

// Lane l holds the tile's elements l * num_elements .. (l + 1) * num_elements - 1
// in row-major order (the GPU's mapping is unspecified; code must not rely on it).
template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
  static_assert(M == 16 && N == 16 && K == 8, "the simulator models the m16n16k8 TF32 shape");
  static constexpr int rows = detail::TileShape<Use, M, N, K>::rows;
  static constexpr int cols = detail::TileShape<Use, M, N, K>::cols;
  static constexpr int num_elements = rows * cols / 32;
  using layout = Layout;
  float x[num_elements];
};

inline float __float_to_tf32(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return v;  // Inf and NaN pass through
  u = (u + 0x1000u) & 0xffffe000u;                 // nearest, ties away from zero
  std::memcpy(&v, &u, 4);
  return v;
}

namespace detail {
inline ::cs::sim::Site here(const char* file, int line, const char* function) { return {file, line, function}; }
#define CS_SIM_CALLER \
  ::cs::sim::Site site = ::nvcuda::wmma::detail::here(__builtin_FILE(), __builtin_LINE(), __builtin_FUNCTION())

struct MemoryLane {
  float* frag;  // this lane's elements
  const float* load_from;
  float* store_to;
  unsigned ldm;
  bool col_major;
  int rows, cols, per_lane;
};

inline void complete_memory(void* const* lanes, unsigned, void*) {
  const auto* first = static_cast<const MemoryLane*>(lanes[0]);
  for (int l = 0; l < 32; ++l) {
    const auto* me = static_cast<const MemoryLane*>(lanes[l]);
    if (me->load_from != first->load_from || me->store_to != first->store_to || me->ldm != first->ldm ||
        me->col_major != first->col_major)
      ::cs::sim::kernel_fault(cudaErrorLaunchFailure,
                              "wmma load/store: the lanes of the warp pass different pointers, strides or layouts");
    for (int e = 0; e < me->per_lane; ++e) {
      const int idx = l * me->per_lane + e, r = idx / me->cols, c = idx % me->cols;
      const size_t offset = me->col_major ? static_cast<size_t>(c) * me->ldm + r : static_cast<size_t>(r) * me->ldm + c;
      if (me->load_from) me->frag[e] = me->load_from[offset];
      else me->store_to[offset] = me->frag[e];
    }
  }
}

template <typename Frag>
void memory_collective(::cs::sim::Site site, const char* what, Frag& f, const float* load_from, float* store_to,
                       unsigned ldm, bool col_major) {
  MemoryLane me{const_cast<float*>(f.x), load_from, store_to, ldm, col_major, Frag::rows, Frag::cols,
                Frag::num_elements};
  ::cs::sim::warp_collective(site, what, 0xffffffffu, &me, &complete_memory, nullptr);
}

inline float tf32_truncate(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  u &= 0xffffe000u;
  std::memcpy(&v, &u, 4);
  return v;
}

struct MmaLane {
  float* d;
  const float *a, *b, *c;
};

inline void complete_mma(void* const* lanes, unsigned, void*) {
  constexpr int M = 16, N = 16, K = 8;
  float a[M * K], b[K * N], c[M * N];
  for (int l = 0; l < 32; ++l) {
    const auto* me = static_cast<const MmaLane*>(lanes[l]);
    for (int e = 0; e < M * K / 32; ++e) a[l * (M * K / 32) + e] = tf32_truncate(me->a[e]);
    for (int e = 0; e < K * N / 32; ++e) b[l * (K * N / 32) + e] = tf32_truncate(me->b[e]);
    for (int e = 0; e < M * N / 32; ++e) c[l * (M * N / 32) + e] = me->c[e];
  }
  for (int l = 0; l < 32; ++l) {
    auto* me = static_cast<MmaLane*>(lanes[l]);
    for (int e = 0; e < M * N / 32; ++e) {
      const int idx = l * (M * N / 32) + e, i = idx / N, j = idx % N;
      float acc = c[idx];
      for (int k = 0; k < K; ++k) acc += a[i * K + k] * b[k * N + j];
      me->d[e] = acc;
    }
  }
}
}  // namespace detail

template <typename Use, int M, int N, int K, typename T, typename Layout>
void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, float value) {
  for (float& v : f.x) v = value;
}

template <typename Use, int M, int N, int K, typename T, typename Layout>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const float* p, unsigned ldm, CS_SIM_CALLER) {
  static_assert(!std::is_same_v<Layout, void>, "operand fragments carry their layout");
  detail::memory_collective(site, "wmma::load_matrix_sync", f, p, nullptr, ldm, std::is_same_v<Layout, col_major>);
}

template <int M, int N, int K, typename T>
void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const float* p, unsigned ldm, layout_t layout,
                      CS_SIM_CALLER) {
  detail::memory_collective(site, "wmma::load_matrix_sync", f, p, nullptr, ldm, layout == mem_col_major);
}

template <int M, int N, int K, typename T>
void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout,
                       CS_SIM_CALLER) {
  detail::memory_collective(site, "wmma::store_matrix_sync", const_cast<fragment<accumulator, M, N, K, T>&>(f),
                            nullptr, p, ldm, layout == mem_col_major);
}

template <int M, int N, int K, typename LayoutA, typename LayoutB, typename T>
void mma_sync(fragment<accumulator, M, N, K, T>& d, const fragment<matrix_a, M, N, K, precision::tf32, LayoutA>& a,
              const fragment<matrix_b, M, N, K, precision::tf32, LayoutB>& b,
              const fragment<accumulator, M, N, K, T>& c, CS_SIM_CALLER) {
  detail::MmaLane me{d.x, a.x, b.x, c.x};
  ::cs::sim::warp_collective(site, "wmma::mma_sync", 0xffffffffu, &me, &detail::complete_mma, nullptr);
}

#undef CS_SIM_CALLER
}  // namespace nvcuda::wmma
