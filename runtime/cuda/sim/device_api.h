// What the simulated device gives convscope's CUDA code beyond the runtime
// API: the launch helper's simulated body, shared-memory variables in a
// per-block arena, and cp.async with the hardware's deferred completion.
// Included by runtime/cuda/cuda_context.cuh in the -DCONVSCOPE_CUDA_SIM=ON build.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace cs::sim {

// Where a __shared__ variable is declared; its address identifies it, one per
// template instantiation of the enclosing kernel.
struct SharedSite {
  const char* name;
  const char* file;
  int line;
};

// The calling block's copy of a static shared variable of `bytes` bytes
// (allocated from the block's arena on first use, NaN-filled, between redzones).
void* shared_variable(const SharedSite* site, size_t bytes, size_t align);
// The block's dynamic shared memory (the launch's shared_bytes).
void* dynamic_shared(size_t align);

// cp.async.cg.shared.global 16 bytes: the copy lands when cp_async_wait lets
// its group complete, not before (reads before that see the arena's NaNs).
void cp_async_16(void* shared_dst, const void* global_src);
void cp_async_commit();
void cp_async_wait(int newest_groups_left_pending);

// The simulated device's memory size (CONVSCOPE_SIM_MEMORY_MB at start); tests
// shrink it to reach out-of-memory paths.
void set_memory_limit(size_t bytes);
size_t memory_limit();

// Whether [p, p + bytes) lies inside one live device allocation.
bool is_device_range(const void* p, size_t bytes);

// Queues a grid on `stream`: `body` runs once per simulated thread. Checks the
// configuration as the hardware does; failures set cudaGetLastError().
void enqueue_launch(const void* kernel, dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
                    std::function<void()> body);
// Sets cudaGetLastError() for a launch refused before it was queued.
void refuse_launch(const void* kernel, cudaError_t status, const char* why, int argument);

// A kernel argument that is a pointer must point into device memory (or be null).
template <typename T>
bool argument_ok(const T& value) {
  if constexpr (std::is_pointer_v<T>) {
    return value == nullptr || is_device_range(value, 0);
  } else {
    return true;
  }
}

}  // namespace cs::sim

namespace cs::cuda {
// Simulated body of the launch helper (the GPU build's is in cuda_context.cuh):
// the arguments are converted to the kernel's parameter types now, as
// <<<>>> does, and every simulated thread calls the kernel with a copy.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
            Args&&... args) {
  auto packed = std::make_shared<std::tuple<std::decay_t<Params>...>>(std::forward<Args>(args)...);
  int bad = -1;
  std::apply(
      [&bad](const auto&... values) {
        int index = 0;
        ((bad < 0 && !::cs::sim::argument_ok(values) ? bad = index : 0, ++index), ...);
      },
      *packed);
  if (bad >= 0) {
    ::cs::sim::refuse_launch(reinterpret_cast<const void*>(kernel), cudaErrorIllegalAddress,
                             "a pointer argument is not device memory (a host pointer or a freed "
                             "allocation passed to a kernel)",
                             bad);
    return;
  }
  ::cs::sim::enqueue_launch(reinterpret_cast<const void*>(kernel), grid, block, shared_bytes, stream,
                            [kernel, packed] { std::apply(kernel, *packed); });
}
}  // namespace cs::cuda

#define CS_SHARED_ALIGNED(align, name, ...)                                                      \
  static constexpr ::cs::sim::SharedSite cs_sim_shared_site_##name{#name, __FILE__, __LINE__}; \
  ::cs::cuda::type_t<__VA_ARGS__>& name = *static_cast<::cs::cuda::type_t<__VA_ARGS__>*>(      \
      ::cs::sim::shared_variable(&cs_sim_shared_site_##name, sizeof(::cs::cuda::type_t<__VA_ARGS__>), \
                                 (align)))
#define CS_SHARED(name, ...) \
  CS_SHARED_ALIGNED(alignof(::cs::cuda::type_t<__VA_ARGS__>), name, __VA_ARGS__)
#define CS_SHARED_DYNAMIC(name, type, align) \
  type* const name = static_cast<type*>(::cs::sim::dynamic_shared(align))
