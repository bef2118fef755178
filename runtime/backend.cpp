#include "runtime/backend.h"

#include "runtime/error.h"

namespace cs {

namespace {
const DeviceBackend*& slot(DeviceType type) {
  static const DeviceBackend* backends[kNumDeviceTypes] = {};
  return backends[static_cast<int>(type)];
}
}  // namespace

bool register_backend(DeviceType type, const DeviceBackend* backend) {
  slot(type) = backend;
  return true;
}

bool has_backend(DeviceType type) { return slot(type) != nullptr; }

const DeviceBackend& backend(DeviceType type) {
  const DeviceBackend* b = slot(type);
  CS_CHECK(b != nullptr || type != DeviceType::CUDA,
           "convscope was built without CUDA support, so nothing can run on a CUDA device: "
           "rebuild with the CUDA toolkit installed (CONVSCOPE_CUDA=ON) or use --device cpu");
  CS_CHECK(b != nullptr, "no backend registered for device type "
                             << static_cast<int>(type));
  return *b;
}

}  // namespace cs
