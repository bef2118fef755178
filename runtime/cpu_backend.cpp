// The CPU backend: aligned host memory, memcpy, and steady-clock events.
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "runtime/backend.h"
#include "runtime/error.h"
#include "runtime/memory.h"

namespace cs {
namespace {

int cpu_device_count() { return 1; }

DeviceProperties cpu_properties(int) {
  DeviceProperties p;
  p.name = "CPU";
  return p;
}

void* cpu_allocate(size_t bytes, int) {
  // aligned_alloc requires a size that is a multiple of the alignment.
  const size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  return std::aligned_alloc(kCpuAlignment, rounded);
}

void cpu_deallocate(void* ptr, size_t, int) { std::free(ptr); }

void cpu_memset_zero(void* ptr, size_t bytes, int) { std::memset(ptr, 0, bytes); }

void cpu_copy(void* dst, Device dst_device, const void* src, Device src_device,
              size_t bytes) {
  CS_CHECK(dst_device.is_cpu() && src_device.is_cpu(),
           "CPU backend asked to copy " << src_device << " -> " << dst_device);
  if (bytes) std::memmove(dst, src, bytes);
}

void cpu_synchronize(int) {}

DeviceMemoryInfo cpu_memory_info(int) { return {}; }

void* cpu_stream_create(int) { return nullptr; }
void cpu_stream_destroy(void*) {}
void cpu_stream_synchronize(void*, int) {}
void* cpu_current_stream(int) { return nullptr; }
void cpu_set_current_stream(int, void*) {}

using Clock = std::chrono::steady_clock;

void* cpu_event_create(int) { return new Clock::time_point(Clock::now()); }
void cpu_event_destroy(void* event) { delete static_cast<Clock::time_point*>(event); }
void cpu_event_record(void* event, int) { *static_cast<Clock::time_point*>(event) = Clock::now(); }
void cpu_event_synchronize(void*) {}
float cpu_event_elapsed_ms(void* start, void* stop) {
  const auto dt = *static_cast<Clock::time_point*>(stop) - *static_cast<Clock::time_point*>(start);
  return std::chrono::duration<float, std::milli>(dt).count();
}

std::string no_version() { return ""; }

const DeviceBackend kCpuBackend = {
    "cpu",
    cpu_device_count,
    cpu_properties,
    cpu_allocate,
    cpu_deallocate,
    cpu_memset_zero,
    cpu_copy,
    cpu_synchronize,
    cpu_memory_info,
    cpu_stream_create,
    cpu_stream_destroy,
    cpu_stream_synchronize,
    cpu_current_stream,
    cpu_set_current_stream,
    cpu_event_create,
    cpu_event_destroy,
    cpu_event_record,
    cpu_event_synchronize,
    cpu_event_elapsed_ms,
    no_version,
    no_version,
};

const bool kRegistered = register_backend(DeviceType::CPU, &kCpuBackend);

}  // namespace
}  // namespace cs
