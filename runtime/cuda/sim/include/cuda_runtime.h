// The simulated CUDA device's <cuda_runtime.h>: the part of the CUDA runtime
// API and of the device language that convscope uses, for .cu files compiled
// by the host C++ compiler (-DCONVSCOPE_CUDA_SIM=ON). Kernels run on CPU
// fibers (runtime/cuda/sim/); see docs/sim.md for what is modelled.
#pragma once

#include <math.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "runtime/cuda/sim/device_types.h"

// ---- the device language ----------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 900  // device paths run as on sm_90 (see docs/sim.md)
#endif

// The calling thread's coordinates: the current fiber's.
#define threadIdx (::cs::sim::current_thread_index())
#define blockIdx (::cs::sim::current_block_index())
#define blockDim (::cs::sim::current_block_dim())
#define gridDim (::cs::sim::current_grid_dim())
constexpr int warpSize = 32;

#define CS_SIM_SITE (::cs::sim::Site{__FILE__, __LINE__, __func__})

// Block barrier: releases when every thread of the block waits at this same
// barrier; anything else is an error naming both sites.
#define __syncthreads() ::cs::sim::syncthreads(CS_SIM_SITE)
#define __syncwarp(...) ::cs::sim::syncwarp(CS_SIM_SITE __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_sync(mask, var, ...) \
  ::cs::sim::shfl(CS_SIM_SITE, ::cs::sim::ShflMode::Idx, mask, var, __VA_ARGS__)
#define __shfl_up_sync(mask, var, ...) \
  ::cs::sim::shfl(CS_SIM_SITE, ::cs::sim::ShflMode::Up, mask, var, __VA_ARGS__)
#define __shfl_down_sync(mask, var, ...) \
  ::cs::sim::shfl(CS_SIM_SITE, ::cs::sim::ShflMode::Down, mask, var, __VA_ARGS__)
#define __shfl_xor_sync(mask, var, ...) \
  ::cs::sim::shfl(CS_SIM_SITE, ::cs::sim::ShflMode::Xor, mask, var, __VA_ARGS__)
#define __ballot_sync(mask, pred) ::cs::sim::vote(CS_SIM_SITE, ::cs::sim::VoteMode::Ballot, mask, pred)
#define __any_sync(mask, pred) (::cs::sim::vote(CS_SIM_SITE, ::cs::sim::VoteMode::Any, mask, pred) != 0)
#define __all_sync(mask, pred) (::cs::sim::vote(CS_SIM_SITE, ::cs::sim::VoteMode::All, mask, pred) != 0)

namespace cs::sim {
struct Site {
  const char* file;
  int line;
  const char* function;
};
enum class ShflMode { Idx, Up, Down, Xor };
enum class VoteMode { Ballot, Any, All };

const uint3& current_thread_index();
const uint3& current_block_index();
const dim3& current_block_dim();
const dim3& current_grid_dim();
void syncthreads(Site site);
void syncwarp(Site site, unsigned mask = 0xffffffffu);
unsigned vote(Site site, VoteMode mode, unsigned mask, bool predicate);
// One lane's part of a warp collective: `lane_data` is read by `complete`,
// which runs once when every lane of `mask` has arrived, with the lanes' data
// (nullptr for lanes outside the mask); `what` names the operation.
void warp_collective(Site site, const char* what, unsigned mask, void* lane_data,
                     void (*complete)(void* const* lanes, unsigned mask, void* context),
                     void* context);
// Reports a fault of the running kernel (the launch fails with `status`).
[[noreturn]] void kernel_fault(cudaError_t status, const char* message);

template <typename T>
struct ShflLane {
  T value;
  int source;  // the lane asked for, or -1 for "own value"
  T result;
};
template <typename T>
void complete_shfl(void* const* lanes, unsigned mask, void*) {
  for (int lane = 0; lane < 32; ++lane) {
    if (!(mask >> lane & 1u)) continue;
    auto* me = static_cast<ShflLane<T>*>(lanes[lane]);
    if (me->source < 0) {
      me->result = me->value;
      continue;
    }
    if (!(mask >> me->source & 1u))
      kernel_fault(cudaErrorLaunchFailure,
                   "a warp shuffle reads a lane that is not in its mask (undefined on the GPU)");
    me->result = static_cast<ShflLane<T>*>(lanes[me->source])->value;
  }
}
int lane_id();

template <typename T>
T shfl(Site site, ShflMode mode, unsigned mask, T var, int arg, int width = 32) {
  static_assert(std::is_trivially_copyable_v<T>, "__shfl_*_sync needs a trivially copyable value");
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0)
    kernel_fault(cudaErrorLaunchFailure, "__shfl_*_sync: width must be a power of 2 in [1, 32]");
  const int lane = lane_id();
  const int segment = lane & ~(width - 1), offset = lane & (width - 1);
  int source = -1;
  switch (mode) {
    case ShflMode::Idx: source = segment + (arg & (width - 1)); break;
    case ShflMode::Up: source = offset >= arg ? lane - arg : -1; break;
    case ShflMode::Down: source = offset + arg < width ? lane + arg : -1; break;
    case ShflMode::Xor: {
      const int other = lane ^ arg;
      source = (other & ~(width - 1)) == segment && other < 32 ? other : -1;
      break;
    }
  }
  ShflLane<T> me{var, source, var};
  static const char* const names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync",
                                      "__shfl_xor_sync"};
  warp_collective(site, names[static_cast<int>(mode)], mask, &me, &complete_shfl<T>, nullptr);
  return me.result;
}
}  // namespace cs::sim

// ---- intrinsics ---------------------------------------------------------------------------
// Round-to-nearest arithmetic: the host's IEEE operations (compiled with
// -ffp-contract=off, so nothing is fused behind the code's back).
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __expf(float a) { return expf(a); }
inline float __logf(float a) { return logf(a); }
inline float __powf(float a, float b) { return powf(a, b); }
inline float __saturatef(float a) { return a < 0.f ? 0.f : (a > 1.f ? 1.f : a); }
inline float rsqrtf(float a) { return 1.0f / sqrtf(a); }
inline double rsqrt(double a) { return 1.0 / sqrt(a); }

inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<uint64_t>(a) * b) >> 32);
}
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}

template <typename To, typename From>
inline To cs_sim_bit_cast(From v) {
  static_assert(sizeof(To) == sizeof(From));
  To out;
  std::memcpy(&out, &v, sizeof out);
  return out;
}
inline unsigned __float_as_uint(float v) { return cs_sim_bit_cast<unsigned>(v); }
inline int __float_as_int(float v) { return cs_sim_bit_cast<int>(v); }
inline float __uint_as_float(unsigned v) { return cs_sim_bit_cast<float>(v); }
inline float __int_as_float(int v) { return cs_sim_bit_cast<float>(v); }
inline long long __double_as_longlong(double v) { return cs_sim_bit_cast<long long>(v); }
inline double __longlong_as_double(long long v) { return cs_sim_bit_cast<double>(v); }

// Read-only loads: plain loads here (the non-coherent path is a cache choice).
template <typename T>
inline T __ldg(const T* p) {
  return *p;
}

inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline long long clock64() { return static_cast<long long>(__builtin_ia32_rdtsc()); }

// Device overloads of min/max the CUDA headers put in the global namespace.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
inline unsigned long max(unsigned long a, unsigned long b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }

// ---- atomics: real atomics, since blocks run on several host threads --------------------------
template <typename T>
inline T atomicAdd(T* address, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    std::atomic_ref<T> ref(*address);
    T old = ref.load(std::memory_order_relaxed);
    while (!ref.compare_exchange_weak(old, old + value, std::memory_order_relaxed)) {
    }
    return old;
  } else {
    return std::atomic_ref<T>(*address).fetch_add(value, std::memory_order_relaxed);
  }
}
template <typename T>
inline T atomicSub(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_sub(value, std::memory_order_relaxed);
}
template <typename T>
inline T atomicExch(T* address, T value) {
  return std::atomic_ref<T>(*address).exchange(value, std::memory_order_relaxed);
}
template <typename T>
inline T atomicCAS(T* address, T compare, T value) {
  std::atomic_ref<T>(*address).compare_exchange_strong(compare, value, std::memory_order_relaxed);
  return compare;
}
template <typename T>
inline T atomicMax(T* address, T value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load(std::memory_order_relaxed);
  while (old < value && !ref.compare_exchange_weak(old, value, std::memory_order_relaxed)) {
  }
  return old;
}
template <typename T>
inline T atomicMin(T* address, T value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load(std::memory_order_relaxed);
  while (value < old && !ref.compare_exchange_weak(old, value, std::memory_order_relaxed)) {
  }
  return old;
}
template <typename T>
inline T atomicOr(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_or(value, std::memory_order_relaxed);
}
template <typename T>
inline T atomicAnd(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_and(value, std::memory_order_relaxed);
}

// ---- the runtime API ----------------------------------------------------------------------
const char* cudaGetErrorName(cudaError_t error);
const char* cudaGetErrorString(cudaError_t error);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaDeviceReset();
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value);
template <typename T>
cudaError_t cudaFuncSetAttribute(T* func, cudaFuncAttribute attr, int value) {
  return cudaFuncSetAttribute(reinterpret_cast<const void*>(func), attr, value);
}

cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMallocAsync(void** ptr, size_t bytes, cudaStream_t stream);
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t stream);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device);
cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value);
cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value);
cudaError_t cudaMemPoolTrimTo(cudaMemPool_t pool, size_t min_bytes_to_keep);
template <typename T>
cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
template <typename T>
cudaError_t cudaMallocAsync(T** ptr, size_t bytes, cudaStream_t stream) {
  return cudaMallocAsync(reinterpret_cast<void**>(ptr), bytes, stream);
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream);
cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t bytes,
                                cudaStream_t stream);
cudaError_t cudaMemset(void* ptr, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream);

cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamQuery(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags = 0);

cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);
