// The CUDA backend: stream-ordered allocation from the device's default
// memory pool (cudaMallocAsync), copies, streams and events.
#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/backend.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::cuda {

namespace {

constexpr int kMaxDevices = 16;

// One non-blocking stream per device serves as the default for all threads;
// a thread may replace it with its own (StreamGuard).
cudaStream_t default_streams[kMaxDevices] = {};
std::once_flag default_stream_once[kMaxDevices];
thread_local cudaStream_t thread_streams[kMaxDevices] = {};
std::once_flag pool_once[kMaxDevices];

int checked_index(int device) {
  CS_CHECK(device >= 0 && device < kMaxDevices, "CUDA device index " << device << " out of range");
  return device;
}

// Keep freed memory in the pool instead of returning it to the driver at
// every synchronization: allocation then costs nothing in steady state.
void configure_pool(int device) {
  std::call_once(pool_once[device], [device] {
    cudaMemPool_t pool;
    CS_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
    uint64_t threshold = UINT64_MAX;
    CS_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  });
}

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
}

DeviceProperties properties(int index) {
  cudaDeviceProp p{};
  CS_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  DeviceProperties out;
  out.name = p.name;
  out.compute_major = p.major;
  out.compute_minor = p.minor;
  out.sm_count = p.multiProcessorCount;
  // Clock rates left cudaDeviceProp in CUDA 13: ask the attributes.
  CS_CUDA_CHECK(cudaDeviceGetAttribute(&out.clock_khz, cudaDevAttrClockRate, index));
  CS_CUDA_CHECK(cudaDeviceGetAttribute(&out.memory_clock_khz, cudaDevAttrMemoryClockRate, index));
  out.memory_bus_width_bits = p.memoryBusWidth;
  out.total_memory_bytes = p.totalGlobalMem;
  out.l2_cache_bytes = static_cast<size_t>(p.l2CacheSize);
  out.shared_memory_per_block = p.sharedMemPerBlock;
  out.shared_memory_per_block_optin = p.sharedMemPerBlockOptin;
  out.shared_memory_per_sm = p.sharedMemPerMultiprocessor;
  out.registers_per_block = p.regsPerBlock;
  out.registers_per_sm = p.regsPerMultiprocessor;
  out.max_threads_per_block = p.maxThreadsPerBlock;
  out.max_threads_per_sm = p.maxThreadsPerMultiProcessor;
  out.warp_size = p.warpSize;
  return out;
}

// Gives the pool's cached memory (freed blocks kept for reuse) back to the
// device once all queued work is done, so other allocations (a new stream,
// cuDNN's cudaMalloc) can have it.
void release_cached(int device) {
  cudaMemPool_t pool;
  if (cudaDeviceSynchronize() != cudaSuccess || cudaDeviceGetDefaultMemPool(&pool, device) != cudaSuccess ||
      cudaMemPoolTrimTo(pool, 0) != cudaSuccess)
    cudaGetLastError();
}

void* allocate(size_t bytes, int device) {
  set_device(device);
  configure_pool(device);
  void* ptr = nullptr;
  cudaStream_t stream = current_stream(device);
  cudaError_t status = cudaMallocAsync(&ptr, bytes, stream);
  if (status == cudaErrorMemoryAllocation) {
    // As PyTorch's caching allocator does: release what the pool caches and try once more.
    cudaGetLastError();
    release_cached(device);
    status = cudaMallocAsync(&ptr, bytes, stream);
  }
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;  // the caller reports the size and what is in use
  }
  CS_CUDA_CHECK(status);
  return ptr;
}

// Every stream convscope created on each device (the defaults and
// stream_create's), each with an event to mark how far its work has been queued.
struct LiveStream {
  int device;
  cudaStream_t stream;
  cudaEvent_t marker;
};
std::mutex live_streams_mutex;
std::vector<LiveStream> live_streams;

void register_stream(int device, cudaStream_t stream) {
  cudaEvent_t marker;
  CS_CUDA_CHECK(cudaEventCreateWithFlags(&marker, cudaEventDisableTiming));
  std::lock_guard<std::mutex> lock(live_streams_mutex);
  live_streams.push_back({device, stream, marker});
}

// Memory freed on `stream` may be reused by its next allocation at once; a
// block that work queued on another stream still reads must not be. So the
// free waits for the work queued so far on every other stream of the device
// (only when there are other streams: one event record and wait each).
void order_after_other_streams(int device, cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(live_streams_mutex);
  for (const LiveStream& other : live_streams) {
    if (other.device != device || other.stream == stream) continue;
    if (cudaEventRecord(other.marker, other.stream) != cudaSuccess ||
        cudaStreamWaitEvent(stream, other.marker, 0) != cudaSuccess)
      cudaGetLastError();
  }
}

// Never throws (it runs in destructors): a failure means the context is gone
// (process exit), where there is nothing left to free.
void deallocate(void* ptr, size_t, int device) noexcept {
  if (cudaSetDevice(device) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  cudaStream_t stream = thread_streams[device] ? thread_streams[device] : default_streams[device];
  order_after_other_streams(device, stream);
  if (cudaFreeAsync(ptr, stream) != cudaSuccess) cudaGetLastError();
}

void memset_zero(void* ptr, size_t bytes, int device) {
  set_device(device);
  CS_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, current_stream(device)));
}

void copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  const int device = dst_device.is_cuda() ? dst_device.index : src_device.index;
  set_device(device);
  cudaStream_t stream = current_stream(device);
  if (dst_device.is_cuda() && src_device.is_cuda()) {
    if (dst_device.index == src_device.index) {
      CS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
    } else {
      CS_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, stream));
    }
  } else if (dst_device.is_cuda()) {
    CS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
    // The host buffer may be freed as soon as we return.
    CS_CUDA_CHECK(cudaStreamSynchronize(stream));
  } else {
    CS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
    CS_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
}

void synchronize(int device) {
  set_device(device);
  CS_CUDA_CHECK(cudaStreamSynchronize(current_stream(device)));
}

DeviceMemoryInfo memory_info(int device) {
  DeviceMemoryInfo info;
  set_device(device);
  if (cudaMemGetInfo(&info.free_bytes, &info.total_bytes) != cudaSuccess) cudaGetLastError();
  cudaMemPool_t pool;
  if (cudaDeviceGetDefaultMemPool(&pool, device) == cudaSuccess) {
    uint64_t reserved = 0;
    if (cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved) == cudaSuccess)
      info.reserved_bytes = reserved;
  }
  cudaGetLastError();
  return info;
}

void* stream_create(int device) {
  set_device(device);
  cudaStream_t stream;
  CS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  register_stream(device, stream);
  return stream;
}

// Frees ordered after this stream's work (order_after_other_streams) stop
// waiting for it; its queued work must finish first.
void stream_destroy(void* stream) {
  if (!stream) return;
  auto* s = static_cast<cudaStream_t>(stream);
  if (cudaStreamSynchronize(s) != cudaSuccess) cudaGetLastError();
  {
    std::lock_guard<std::mutex> lock(live_streams_mutex);
    for (auto it = live_streams.begin(); it != live_streams.end(); ++it) {
      if (it->stream == s) {
        cudaEventDestroy(it->marker);
        live_streams.erase(it);
        break;
      }
    }
  }
  cudaStreamDestroy(s);
}

void stream_synchronize(void* stream, int device) {
  set_device(device);
  CS_CUDA_CHECK(cudaStreamSynchronize(stream ? static_cast<cudaStream_t>(stream)
                                             : current_stream(device)));
}

void* current_stream_handle(int device) { return current_stream(device); }

void set_current_stream_handle(int device, void* stream) {
  thread_streams[checked_index(device)] = static_cast<cudaStream_t>(stream);
}

void* event_create(int device) {
  set_device(device);
  cudaEvent_t event;
  CS_CUDA_CHECK(cudaEventCreate(&event));
  return event;
}

void event_destroy(void* event) {
  if (event) cudaEventDestroy(static_cast<cudaEvent_t>(event));
}

void event_record(void* event, int device) {
  CS_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event), current_stream(device)));
}

void event_synchronize(void* event) {
  CS_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event)));
}

float event_elapsed_ms(void* start, void* stop) {
  float ms = 0;
  CS_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start),
                                     static_cast<cudaEvent_t>(stop)));
  return ms;
}

std::string format_version(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::string runtime_version() {
  int v = 0;
  return cudaRuntimeGetVersion(&v) == cudaSuccess ? format_version(v) : "";
}

std::string driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess || v == 0) {
    cudaGetLastError();
    return "";
  }
  return format_version(v);
}

const DeviceBackend kCudaBackend = {
    "cuda",
    device_count,
    properties,
    allocate,
    deallocate,
    memset_zero,
    copy,
    synchronize,
    memory_info,
    stream_create,
    stream_destroy,
    stream_synchronize,
    current_stream_handle,
    set_current_stream_handle,
    event_create,
    event_destroy,
    event_record,
    event_synchronize,
    event_elapsed_ms,
    runtime_version,
    driver_version,
};

const bool kRegistered = register_backend(DeviceType::CUDA, &kCudaBackend);

}  // namespace

cudaStream_t current_stream(int device) {
  checked_index(device);
  if (thread_streams[device]) return thread_streams[device];
  std::call_once(default_stream_once[device], [device] {
    set_device(device);
    CS_CUDA_CHECK(cudaStreamCreateWithFlags(&default_streams[device], cudaStreamNonBlocking));
    register_stream(device, default_streams[device]);
  });
  return default_streams[device];
}

void set_device(int device) {
  thread_local int current = -1;
  if (current == device) return;
  CS_CUDA_CHECK(cudaSetDevice(device));
  current = device;
}

}  // namespace cs::cuda
