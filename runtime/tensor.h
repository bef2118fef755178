// Tensor: a contiguous, row-major (NCHW for images) block of one element type
// on one device, with shared storage. Copies of a Tensor share its data;
// clone() copies the data. reshape() and narrow() are the only views.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "runtime/device.h"
#include "runtime/dtype.h"
#include "runtime/error.h"

namespace cs {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);  // "[64, 1, 28, 28]"
int64_t shape_numel(const Shape& shape);

// Owns device memory; freed when the last Tensor using it goes away.
class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false

  // Uninitialised memory.
  static Tensor empty(const Shape& shape, Device device = Device::cpu(),
                      DType dtype = DType::F32);
  static Tensor zeros(const Shape& shape, Device device = Device::cpu(),
                      DType dtype = DType::F32);
  static Tensor full(const Shape& shape, double value, Device device = Device::cpu(),
                     DType dtype = DType::F32);
  static Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.device(), t.dtype()); }
  static Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.device(), t.dtype()); }

  // From host values; the size of `values` must match the shape.
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor from_vector(const std::vector<int32_t>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor from_vector(const std::vector<uint8_t>& values, const Shape& shape,
                            Device device = Device::cpu());

  // Seeded Philox draws (philox.h), generated on the host: element i is the
  // i-th draw of the stream (seed, offset = 0). The same numbers as the
  // random kernels (kernels/random.h) produce on any device.
  static Tensor uniform(const Shape& shape, double low, double high, uint64_t seed,
                        Device device = Device::cpu(), DType dtype = DType::F32);
  static Tensor normal(const Shape& shape, double mean, double stddev, uint64_t seed,
                       Device device = Device::cpu(), DType dtype = DType::F32);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  // Size of dimension i; negative i counts from the end.
  int64_t dim(int i) const;
  int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool is_cuda() const { return device_.is_cuda(); }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  void* raw_data();
  const void* raw_data() const;
  // Typed pointer; throws when T does not match the tensor's dtype.
  template <typename T> T* data() {
    check_dtype(dtype_of<T>);
    return static_cast<T*>(raw_data());
  }
  template <typename T> const T* data() const {
    check_dtype(dtype_of<T>);
    return static_cast<const T*>(raw_data());
  }

  // Same tensor when already there; otherwise a copy on `device`.
  Tensor to(Device device) const;
  // Converted copy (or the same tensor when the type already matches).
  Tensor to(DType dtype) const;
  Tensor clone() const;
  // Copies src's elements into this tensor (same numel and dtype, any devices).
  void copy_from(const Tensor& src);
  void zero_();

  // A tensor sharing this storage with another shape; one entry may be -1.
  Tensor reshape(const Shape& shape) const;
  // Rows [start, start+length) of dimension 0, sharing this storage.
  Tensor narrow(int64_t start, int64_t length) const;

  // Host copy of the elements; T must match the dtype.
  template <typename T> std::vector<T> to_vector() const;
  // The elements as doubles, whatever the dtype (for tests and printing).
  std::vector<double> to_double_vector() const;
  // The value of a one-element tensor.
  double item() const;

  bool shares_storage_with(const Tensor& other) const {
    return storage_ && storage_ == other.storage_;
  }
  // "Tensor[f32 cpu [2, 3]]" followed by the values (at most `edge` per end of
  // each dimension).
  std::string str(int64_t edge = 3) const;

 private:
  void check_dtype(DType expected) const;

  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  int64_t numel_ = 0;
  DType dtype_ = DType::F32;
  Device device_;
};

std::ostream& operator<<(std::ostream& out, const Tensor& t);

// Argument checks shared by every op.
void check_same_device(const Tensor& a, const Tensor& b, const char* what);
void check_shape(const Tensor& t, const Shape& expected, const char* what);
void check_dtype(const Tensor& t, DType expected, const char* what);

}  // namespace cs
