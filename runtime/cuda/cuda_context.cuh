// What CUDA code in convscope needs from the runtime: error checks, the
// current stream, and launch helpers. Included only by .cu files.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "runtime/error.h"

namespace cs::cuda {
// What a user can do about the CUDA errors people meet; empty when there is no advice.
inline const char* error_hint(cudaError_t status) {
  switch (status) {
    case cudaErrorMemoryAllocation:
      return "the GPU is out of memory: try a smaller --batch-size or model";
    case cudaErrorNoDevice:
      return "no CUDA device is visible: check nvidia-smi and CUDA_VISIBLE_DEVICES, or use --device cpu";
    case cudaErrorInvalidDevice:
      return "there is no CUDA device with that index: `convscope info` lists the devices";
    case cudaErrorInsufficientDriver:
      return "the NVIDIA driver is older than this CUDA runtime: update the driver";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorInvalidKernelImage:
      return "this build has no kernels for this GPU: rebuild with -DCMAKE_CUDA_ARCHITECTURES set to "
             "its compute capability (e.g. 90 for H100, 89 for L4, 80 for A100)";
    case cudaErrorIllegalAddress:
    case cudaErrorMisalignedAddress:
      return "a kernel accessed memory out of bounds: a convscope bug; rerun under compute-sanitizer "
             "and report the kernel";
    case cudaErrorLaunchOutOfResources:
      return "the launch asked for more registers or threads than the GPU has: a convscope launcher bug";
    default:
      return "";
  }
}
}  // namespace cs::cuda

namespace cs::cuda {
// T itself: lets a declaration name an array type as one argument (float[8][33]).
template <typename T>
using type_t = T;
}  // namespace cs::cuda

#if defined(CONVSCOPE_CUDA_SIM)
// The simulated device: launch() queues the grid on the stream, CS_SHARED
// variables live in a per-block arena (runtime/cuda/sim/).
#include "runtime/cuda/sim/device_api.h"
#else
namespace cs::cuda {
// The one way convscope launches a kernel: kernel<<<grid, block, shared_bytes,
// stream>>>(args...). A function, not a macro, because kernel names carry
// commas (gemm_kernel<true, false>); the simulated build gives it another body.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
            cudaStream_t stream, Args&&... args) {
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
}
}  // namespace cs::cuda

// Shared-memory declarations, written once for the GPU and the simulator:
//   CS_SHARED(tile, float[32][33]);              __shared__ float tile[32][33];
//   CS_SHARED_ALIGNED(16, as, float[2 * kStage]);  __shared__ __align__(16) float as[...];
//   CS_SHARED_DYNAMIC(smem, float, 128);          extern __shared__ __align__(128) float smem[];
#define CS_SHARED(name, ...) __shared__ ::cs::cuda::type_t<__VA_ARGS__> name
#define CS_SHARED_ALIGNED(align, name, ...) \
  __shared__ __align__(align) ::cs::cuda::type_t<__VA_ARGS__> name
#define CS_SHARED_DYNAMIC(name, type, align) extern __shared__ __align__(align) type name[]
#endif

// Checks a CUDA runtime call; the error names the call, the CUDA error and, where
// there is one, what to do about it.
#define CS_CUDA_CHECK(expr)                                                          \
  do {                                                                               \
    cudaError_t cs_cuda_status_ = (expr);                                            \
    if (cs_cuda_status_ != cudaSuccess) {                                            \
      std::ostringstream cs_cuda_msg_;                                               \
      cs_cuda_msg_ << "CUDA error " << cudaGetErrorName(cs_cuda_status_) << ": "     \
                   << cudaGetErrorString(cs_cuda_status_);                           \
      const char* cs_cuda_hint_ = ::cs::cuda::error_hint(cs_cuda_status_);           \
      if (cs_cuda_hint_[0] != '\0') cs_cuda_msg_ << " (" << cs_cuda_hint_ << ")";    \
      ::cs::throw_error(cs_cuda_msg_.str(), #expr, __FILE__, __LINE__);              \
    }                                                                                \
  } while (0)

// After every kernel launch: catches bad launch configurations at once.
#define CS_CUDA_CHECK_LAUNCH(kernel_name)                                            \
  do {                                                                               \
    cudaError_t cs_cuda_status_ = cudaGetLastError();                                \
    if (cs_cuda_status_ != cudaSuccess) {                                            \
      std::ostringstream cs_cuda_msg_;                                               \
      cs_cuda_msg_ << "launch of " << kernel_name << " failed: "                     \
                   << cudaGetErrorName(cs_cuda_status_) << ": "                      \
                   << cudaGetErrorString(cs_cuda_status_);                           \
      const char* cs_cuda_hint_ = ::cs::cuda::error_hint(cs_cuda_status_);           \
      if (cs_cuda_hint_[0] != '\0') cs_cuda_msg_ << " (" << cs_cuda_hint_ << ")";    \
      ::cs::throw_error(cs_cuda_msg_.str(), "cudaGetLastError()", __FILE__, __LINE__); \
    }                                                                                \
  } while (0)

namespace cs::cuda {

// The stream ops on `device` run on (the thread's current stream).
cudaStream_t current_stream(int device = 0);

// Makes `device` current for this thread (cheap when already current).
void set_device(int device);

// Number of blocks of `threads` threads covering n items, capped so a
// grid-stride loop covers the rest (keeps grids inside the launch limits).
inline unsigned grid_for(int64_t n, int threads, int64_t max_blocks = 65535LL * 8) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks < 1) blocks = 1;
  if (blocks > max_blocks) blocks = max_blocks;
  return static_cast<unsigned>(blocks);
}

}  // namespace cs::cuda
