#include "runtime/memory.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "runtime/backend.h"
#include "runtime/error.h"

namespace cs {

namespace {

constexpr int kMaxDevicesTracked = 16;

struct Counters {
  std::atomic<size_t> in_use{0};
  std::atomic<size_t> peak{0};
  std::atomic<size_t> allocations{0};
};

Counters& counters(Device device) {
  static Counters table[kNumDeviceTypes][kMaxDevicesTracked];
  const int index = device.is_cpu() ? 0 : std::clamp(device.index, 0, kMaxDevicesTracked - 1);
  return table[static_cast<int>(device.type)][index];
}

}  // namespace

std::string format_bytes(size_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  if (unit == 0)
    std::snprintf(text, sizeof text, "%zu B", bytes);
  else
    std::snprintf(text, sizeof text, "%.2f %s", value, units[unit]);
  return text;
}

void* allocate(size_t bytes, Device device) {
  if (bytes == 0) return nullptr;
  const DeviceBackend& b = backend(device.type);
  void* ptr = b.allocate(bytes, device.index);
  Counters& c = counters(device);
  if (ptr == nullptr) {
    std::string detail;
    if (device.is_cuda()) {
      const DeviceMemoryInfo info = b.memory_info(device.index);
      detail = "; the device reports " + format_bytes(info.free_bytes) + " free of " +
               format_bytes(info.total_bytes) + ", the allocator pool holds " +
               format_bytes(info.reserved_bytes);
    }
    CS_FAIL("out of memory on " << device << ": could not allocate " << format_bytes(bytes)
                                << " (" << bytes << " bytes); convscope tensors already use "
                                << format_bytes(c.in_use.load()) << " in "
                                << c.allocations.load() << " allocations" << detail
                                << ". Try a smaller batch size or model.");
  }
  const size_t now = c.in_use.fetch_add(bytes) + bytes;
  c.allocations.fetch_add(1);
  size_t peak = c.peak.load();
  while (now > peak && !c.peak.compare_exchange_weak(peak, now)) {
  }
  return ptr;
}

void deallocate(void* ptr, size_t bytes, Device device) {
  if (ptr == nullptr) return;
  backend(device.type).deallocate(ptr, bytes, device.index);
  Counters& c = counters(device);
  c.in_use.fetch_sub(bytes);
  c.allocations.fetch_sub(1);
}

MemoryStats memory_stats(Device device) {
  Counters& c = counters(device);
  return {c.in_use.load(), c.peak.load(), c.allocations.load()};
}

void reset_peak_memory(Device device) {
  Counters& c = counters(device);
  c.peak.store(c.in_use.load());
}

}  // namespace cs
