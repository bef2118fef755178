#include "runtime/device.h"

#include <cstdio>
#include <mutex>

#include "runtime/backend.h"
#include "runtime/error.h"

namespace cs {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

std::ostream& operator<<(std::ostream& out, const Device& d) { return out << d.str(); }

void say_once_if_cpu_fallback(Device device, const std::string& asked) {
  static std::once_flag said;
  if (device.is_cpu() && asked == "auto")
    std::call_once(said, [] { std::printf("no CUDA device: running on CPU\n"); });
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "auto") return cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu();
  if (text == "cuda" || text == "gpu") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string number = text.substr(5);
    CS_CHECK(!number.empty() && number.find_first_not_of("0123456789") == std::string::npos,
             "bad device '" << text << "': expected cpu, cuda, cuda:N or auto");
    return Device::cuda(std::stoi(number));
  }
  CS_FAIL("bad device '" << text << "': expected cpu, cuda, cuda:N or auto");
}

double DeviceProperties::peak_memory_bandwidth_gbs() const {
  return 2.0 * memory_clock_khz * 1e3 * (memory_bus_width_bits / 8.0) / 1e9;
}

bool cuda_compiled() { return has_backend(DeviceType::CUDA); }

int cuda_device_count() {
  return cuda_compiled() ? backend(DeviceType::CUDA).device_count() : 0;
}

DeviceProperties cuda_device_properties(int index) {
  const int count = cuda_device_count();
  CS_CHECK(index >= 0 && index < count,
           "no CUDA device " << index << " (this machine has " << count << ")");
  return backend(DeviceType::CUDA).properties(index);
}

void synchronize(Device device) { backend(device.type).synchronize(device.index); }

std::string cuda_runtime_version() {
  return cuda_compiled() ? backend(DeviceType::CUDA).runtime_version() : "";
}

std::string cuda_driver_version() {
  return cuda_compiled() ? backend(DeviceType::CUDA).driver_version() : "";
}

}  // namespace cs
