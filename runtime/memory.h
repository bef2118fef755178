// Raw device memory with accounting, so out-of-memory errors can say what is
// in use. CUDA memory comes from the stream-ordered allocator
// (cudaMallocAsync on the current stream, pool kept warm) so training steps
// can be captured into CUDA graphs; CPU memory is 64-byte aligned for SIMD.
#pragma once

#include <cstddef>
#include <string>

#include "runtime/device.h"

namespace cs {

constexpr size_t kCpuAlignment = 64;

// Throws cs::Error naming the requested size and what is in use on failure.
void* allocate(size_t bytes, Device device);
void deallocate(void* ptr, size_t bytes, Device device);

struct MemoryStats {
  size_t in_use_bytes = 0;  // live tensors' storage on this device
  size_t peak_bytes = 0;    // high-water mark since start (or reset)
  size_t allocations = 0;   // live allocations
};
MemoryStats memory_stats(Device device);
void reset_peak_memory(Device device);

// "1.50 GiB", "12.0 KiB", "17 B".
std::string format_bytes(size_t bytes);

}  // namespace cs
