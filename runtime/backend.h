// The device backend interface: what the runtime needs from a device.
//
// The CPU backend is always registered; the CUDA backend registers itself
// when convscope is built with CUDA (runtime/cuda/cuda_backend.cu). Code above
// the runtime never calls a backend directly: it uses Tensor, memory.h and
// stream.h, which look the backend up here. No #ifdef anywhere.
#pragma once

#include <cstddef>
#include <string>

#include "runtime/device.h"

namespace cs {

struct DeviceMemoryInfo {
  size_t free_bytes = 0;      // reported by the device
  size_t total_bytes = 0;     // reported by the device
  size_t reserved_bytes = 0;  // held by the allocator's pool
};

struct DeviceBackend {
  const char* name;
  int (*device_count)();
  DeviceProperties (*properties)(int index);
  // Returns nullptr when the memory cannot be had (the caller names the size).
  void* (*allocate)(size_t bytes, int index);
  void (*deallocate)(void* ptr, size_t bytes, int index);
  void (*memset_zero)(void* ptr, size_t bytes, int index);
  // Copies where at least one side lives on this backend's device type.
  void (*copy)(void* dst, Device dst_device, const void* src, Device src_device,
               size_t bytes);
  void (*synchronize)(int index);
  DeviceMemoryInfo (*memory_info)(int index);
  // Streams: opaque handles. A null handle means the device's default stream.
  void* (*stream_create)(int index);
  void (*stream_destroy)(void* stream);
  void (*stream_synchronize)(void* stream, int index);
  void* (*current_stream)(int index);
  void (*set_current_stream)(int index, void* stream);
  // Events, recorded on the current stream.
  void* (*event_create)(int index);
  void (*event_destroy)(void* event);
  void (*event_record)(void* event, int index);
  void (*event_synchronize)(void* event);
  float (*event_elapsed_ms)(void* start, void* stop);
  std::string (*runtime_version)();
  std::string (*driver_version)();
};

// Registers `backend` for `type`; called from a static initializer.
bool register_backend(DeviceType type, const DeviceBackend* backend);

// The backend for `type`; throws a clear error when it was not compiled in.
const DeviceBackend& backend(DeviceType type);
bool has_backend(DeviceType type);

}  // namespace cs
