// Devices: where a tensor lives and where an op runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace cs {

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };
constexpr int kNumDeviceTypes = 2;

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const;  // "cpu", "cuda:0"

  friend bool operator==(const Device& a, const Device& b) {
    return a.type == b.type && (a.type == DeviceType::CPU || a.index == b.index);
  }
  friend bool operator!=(const Device& a, const Device& b) { return !(a == b); }
};

std::ostream& operator<<(std::ostream& out, const Device& d);

// Parses "cpu", "cuda", "cuda:1" and "auto" (CUDA device 0 when one is
// usable, the CPU otherwise). Throws with the accepted spellings otherwise.
Device parse_device(const std::string& text);

// Prints "no CUDA device: running on CPU" the first time it is called in a
// process with `device` on the CPU after "auto" was asked for; later calls
// (train, then its visualizations) stay quiet.
void say_once_if_cpu_fallback(Device device, const std::string& asked);

// What a person studying GPU internals wants to know about a device.
struct DeviceProperties {
  std::string name;
  int compute_major = 0, compute_minor = 0;
  int sm_count = 0;
  int clock_khz = 0;         // SM clock
  int memory_clock_khz = 0;  // memory clock
  int memory_bus_width_bits = 0;
  size_t total_memory_bytes = 0;
  size_t l2_cache_bytes = 0;
  size_t shared_memory_per_block = 0;
  size_t shared_memory_per_block_optin = 0;
  size_t shared_memory_per_sm = 0;
  int registers_per_block = 0;
  int registers_per_sm = 0;
  int max_threads_per_block = 0;
  int max_threads_per_sm = 0;
  int warp_size = 0;
  // Peak DRAM bandwidth from the clocks: 2 (DDR) * clock * bus width.
  double peak_memory_bandwidth_gbs() const;
};

// True when this build includes the CUDA backend.
bool cuda_compiled();
// Number of usable CUDA devices (0 when none or when built without CUDA).
int cuda_device_count();
// Properties of CUDA device `index`; throws if there is no such device.
DeviceProperties cuda_device_properties(int index);
// Blocks until all work queued on the device has finished (no-op on CPU).
void synchronize(Device device);

// Versions of the CUDA runtime and driver, "" when not available.
std::string cuda_runtime_version();
std::string cuda_driver_version();

}  // namespace cs
