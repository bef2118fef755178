// Per-op dispatch by device.
//
// Each op declares a struct of function pointers (its implementation) and one
// registry for it. The CPU file registers the CPU implementation and the CUDA
// file the CUDA one, each with CS_REGISTER_OP in a static initializer, so
// adding an op never edits a central list, and callers never need #ifdef:
//
//   struct ReluImpl { void (*forward)(const Tensor&, Tensor&); ... };
//   OpRegistry<ReluImpl>& relu_registry();              // in kernels/relu.h
//   relu_registry().get(x.device()).forward(x, y);       // in the dispatcher
//   CS_REGISTER_OP(relu_registry, DeviceType::CUDA, (ReluImpl{&fwd, ...}));
#pragma once

#include "runtime/device.h"
#include "runtime/error.h"

namespace cs {

template <typename Impl>
class OpRegistry {
 public:
  explicit OpRegistry(const char* op_name) : name_(op_name) {}

  bool add(DeviceType type, const Impl& impl) {
    impls_[static_cast<int>(type)] = impl;
    present_[static_cast<int>(type)] = true;
    return true;
  }

  bool has(DeviceType type) const { return present_[static_cast<int>(type)]; }

  // The implementation for `device`, or a clear error naming the op.
  const Impl& get(Device device) const {
    const int slot = static_cast<int>(device.type);
    if (!present_[slot]) {
      CS_CHECK(!device.is_cuda() || cuda_compiled(),
               "op '" << name_ << "' cannot run on " << device
                      << ": convscope was built without CUDA support (rebuild with the CUDA "
                         "toolkit installed, or use --device cpu)");
      CS_FAIL("op '" << name_ << "' has no implementation for " << device);
    }
    return impls_[slot];
  }

  const char* name() const { return name_; }

 private:
  const char* name_;
  Impl impls_[kNumDeviceTypes] = {};
  bool present_[kNumDeviceTypes] = {};
};

}  // namespace cs

#define CS_REGISTRY_CONCAT_INNER(a, b) a##b
#define CS_REGISTRY_CONCAT(a, b) CS_REGISTRY_CONCAT_INNER(a, b)

// Registers `impl` (parenthesised if it contains commas) for device `type`.
#define CS_REGISTER_OP(registry_fn, type, impl)                                 \
  namespace {                                                                   \
  [[maybe_unused]] const bool CS_REGISTRY_CONCAT(cs_op_registered_, __LINE__) = \
      registry_fn().add(type, impl);                                            \
  }

#include <algorithm>
#include <string>
#include <vector>

namespace cs {

// Named kernel variants of one op family (naive -> tiled -> ...), registered
// by the CUDA files, selectable by name in tests and benchmarks.
template <typename Fn>
class VariantRegistry {
 public:
  explicit VariantRegistry(const char* family) : family_(family) {}

  // `order` sorts the names: simplest first, production last.
  bool add(const std::string& name, Fn* fn, int order) {
    entries_.push_back({name, fn, order});
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.order < b.order; });
    return true;
  }

  Fn* get(const std::string& name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return e.fn;
    CS_CHECK(!entries_.empty(), family_ << " variant '" << name
                                        << "' is not available: convscope was built without CUDA");
    std::string names;
    for (const Entry& e : entries_) names += (names.empty() ? "" : ", ") + e.name;
    CS_FAIL("unknown " << family_ << " variant '" << name << "' (available: " << names << ")");
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.name);
    return out;
  }

 private:
  struct Entry {
    std::string name;
    Fn* fn;
    int order;
  };
  const char* family_;
  std::vector<Entry> entries_;
};

}  // namespace cs
