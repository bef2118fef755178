#include "runtime/tensor.h"

#include <cstring>
#include <iomanip>
#include <sstream>

#include "runtime/backend.h"
#include "runtime/memory.h"
#include "runtime/philox.h"

namespace cs {

std::string shape_str(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    CS_CHECK(d >= 0, "negative dimension in shape " << shape_str(shape));
    n *= d;
  }
  return n;
}

Storage::Storage(size_t bytes, Device device)
    : data_(allocate(bytes, device)), bytes_(bytes), device_(device) {}

Storage::~Storage() { deallocate(data_, bytes_, device_); }

// ---- creation ---------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, Device device, DType dtype) {
  Tensor t;
  t.shape_ = shape;
  t.numel_ = shape_numel(shape);
  t.dtype_ = dtype;
  t.device_ = device;
  t.storage_ = std::make_shared<Storage>(t.nbytes(), device);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, Device device, DType dtype) {
  Tensor t = empty(shape, device, dtype);
  t.zero_();
  return t;
}

namespace {

// Fills a host buffer of `dtype` from a generator of doubles.
template <typename Gen>
void fill_host(void* data, DType dtype, int64_t n, Gen gen) {
  switch (dtype) {
    case DType::F32:
      for (int64_t i = 0; i < n; ++i) static_cast<float*>(data)[i] = static_cast<float>(gen(i));
      break;
    case DType::F64:
      for (int64_t i = 0; i < n; ++i) static_cast<double*>(data)[i] = gen(i);
      break;
    case DType::I32:
      for (int64_t i = 0; i < n; ++i) static_cast<int32_t*>(data)[i] = static_cast<int32_t>(gen(i));
      break;
    case DType::U8:
      for (int64_t i = 0; i < n; ++i) static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(gen(i));
      break;
  }
}

template <typename Gen>
Tensor make_on_host(const Shape& shape, Device device, DType dtype, Gen gen) {
  Tensor host = Tensor::empty(shape, Device::cpu(), dtype);
  fill_host(host.raw_data(), dtype, host.numel(), gen);
  return host.to(device);
}

template <typename T>
Tensor from_host_values(const std::vector<T>& values, const Shape& shape, Device device) {
  const int64_t n = shape_numel(shape);
  CS_CHECK(static_cast<int64_t>(values.size()) == n,
           "from_vector: " << values.size() << " values given for shape " << shape_str(shape)
                           << " (" << n << " elements)");
  Tensor t = Tensor::empty(shape, device, dtype_of<T>);
  backend(device.type).copy(t.raw_data(), device, values.data(), Device::cpu(), t.nbytes());
  return t;
}

}  // namespace

Tensor Tensor::full(const Shape& shape, double value, Device device, DType dtype) {
  return make_on_host(shape, device, dtype, [value](int64_t) { return value; });
}

Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& s, Device d) {
  return from_host_values(v, s, d);
}
Tensor Tensor::from_vector(const std::vector<double>& v, const Shape& s, Device d) {
  return from_host_values(v, s, d);
}
Tensor Tensor::from_vector(const std::vector<int32_t>& v, const Shape& s, Device d) {
  return from_host_values(v, s, d);
}
Tensor Tensor::from_vector(const std::vector<uint8_t>& v, const Shape& s, Device d) {
  return from_host_values(v, s, d);
}

namespace {

// The words of the stream (seed, 0) for elements [0, n), four per Philox call.
template <typename Emit>
void for_each_word(uint64_t seed, int64_t n, Emit emit) {
  const int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t b = 0; b < blocks; ++b) {
    const philox::U32x4 w = philox::philox4x32_10(
        philox::U32x4{{static_cast<uint32_t>(b), static_cast<uint32_t>(static_cast<uint64_t>(b) >> 32), 0u, 0u}},
        static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    for (int64_t j = 0; j < 4 && 4 * b + j < n; ++j) emit(4 * b + j, w.v[j]);
  }
}

}  // namespace

Tensor Tensor::uniform(const Shape& shape, double low, double high, uint64_t seed,
                       Device device, DType dtype) {
  CS_CHECK(is_floating(dtype), "uniform: needs a floating dtype, got " << dtype_name(dtype));
  Tensor host = empty(shape, Device::cpu(), dtype);
  // In float for f32 tensors, as kernels::uniform_ computes, so both agree bitwise.
  const float lo = static_cast<float>(low), width = static_cast<float>(high - low);
  if (dtype == DType::F32) {
    float* p = host.data<float>();
    for_each_word(seed, host.numel(), [=](int64_t i, uint32_t w) {
      p[i] = lo + width * philox::uniform_from_word(w);
    });
  } else {
    double* p = host.data<double>();
    for_each_word(seed, host.numel(), [=](int64_t i, uint32_t w) {
      p[i] = low + (high - low) * static_cast<double>(philox::uniform_from_word(w));
    });
  }
  return host.to(device);
}

Tensor Tensor::normal(const Shape& shape, double mean, double stddev, uint64_t seed,
                      Device device, DType dtype) {
  CS_CHECK(is_floating(dtype), "normal: needs a floating dtype, got " << dtype_name(dtype));
  const float m = static_cast<float>(mean), s = static_cast<float>(stddev);
  return make_on_host(shape, device, dtype, [=](int64_t i) -> double {
    const float z = philox::normal(seed, 0, static_cast<uint64_t>(i));
    if (dtype == DType::F32) return m + s * z;
    return mean + stddev * static_cast<double>(z);
  });
}

// ---- access -------------------------------------------------------------------

int64_t Tensor::dim(int i) const {
  const int n = ndim();
  const int k = i < 0 ? i + n : i;
  CS_CHECK(k >= 0 && k < n, "dimension " << i << " out of range for shape " << shape_str(shape_));
  return shape_[k];
}

void* Tensor::raw_data() {
  CS_CHECK(defined(), "use of an undefined tensor");
  return static_cast<char*>(storage_->data()) + offset_ * dtype_size(dtype_);
}

const void* Tensor::raw_data() const {
  CS_CHECK(defined(), "use of an undefined tensor");
  return static_cast<const char*>(storage_->data()) + offset_ * dtype_size(dtype_);
}

void Tensor::check_dtype(DType expected) const {
  CS_CHECK(dtype_ == expected, "tensor of dtype " << dtype_name(dtype_) << " accessed as "
                                                  << dtype_name(expected));
}

// ---- copies -------------------------------------------------------------------

Tensor Tensor::to(Device device) const {
  CS_CHECK(defined(), "to(" << device << ") on an undefined tensor");
  if (device == device_) return *this;
  Tensor t = empty(shape_, device, dtype_);
  t.copy_from(*this);
  return t;
}

Tensor Tensor::to(DType dtype) const {
  CS_CHECK(defined(), "to(" << dtype_name(dtype) << ") on an undefined tensor");
  if (dtype == dtype_) return *this;
  // Conversions are rare (gradient checks, loading files): done on the host.
  const std::vector<double> values = to_double_vector();
  return make_on_host(shape_, device_, dtype, [&values](int64_t i) { return values[i]; });
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, device_, dtype_);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  CS_CHECK(defined() && src.defined(), "copy_from with an undefined tensor");
  CS_CHECK(numel_ == src.numel_, "copy_from: " << shape_str(src.shape_) << " into "
                                               << shape_str(shape_) << " (element counts differ)");
  CS_CHECK(dtype_ == src.dtype_, "copy_from: dtype " << dtype_name(src.dtype_) << " into "
                                                     << dtype_name(dtype_));
  const DeviceType type = device_.is_cuda() || src.device_.is_cuda() ? DeviceType::CUDA
                                                                      : DeviceType::CPU;
  backend(type).copy(raw_data(), device_, src.raw_data(), src.device_, nbytes());
}

void Tensor::zero_() {
  if (numel_ == 0) return;
  backend(device_.type).memset_zero(raw_data(), nbytes(), device_.index);
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape resolved = shape;
  int inferred = -1;
  int64_t known = 1;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (resolved[i] == -1) {
      CS_CHECK(inferred < 0, "reshape: more than one -1 in " << shape_str(shape));
      inferred = static_cast<int>(i);
    } else {
      CS_CHECK(resolved[i] >= 0, "reshape: negative size in " << shape_str(shape));
      known *= resolved[i];
    }
  }
  if (inferred >= 0) {
    CS_CHECK(known > 0 && numel_ % known == 0,
             "reshape: cannot infer -1 in " << shape_str(shape) << " from " << numel_ << " elements");
    resolved[inferred] = numel_ / known;
  }
  CS_CHECK(shape_numel(resolved) == numel_, "reshape: " << shape_str(shape_) << " ("
                                                        << numel_ << " elements) to "
                                                        << shape_str(shape));
  Tensor t = *this;
  t.shape_ = resolved;
  return t;
}

Tensor Tensor::narrow(int64_t start, int64_t length) const {
  CS_CHECK(ndim() >= 1, "narrow on a 0-d tensor");
  CS_CHECK(start >= 0 && length >= 0 && start + length <= shape_[0],
           "narrow: rows [" << start << ", " << start + length << ") of " << shape_str(shape_));
  const int64_t row = shape_[0] ? numel_ / shape_[0] : 0;
  Tensor t = *this;
  t.shape_[0] = length;
  t.numel_ = row * length;
  t.offset_ = offset_ + start * row;
  return t;
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  check_dtype(dtype_of<T>);
  std::vector<T> out(static_cast<size_t>(numel_));
  if (numel_ == 0) return out;
  backend(device_.type).copy(out.data(), Device::cpu(), raw_data(), device_, nbytes());
  return out;
}

template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

std::vector<double> Tensor::to_double_vector() const {
  const Tensor host = to(Device::cpu());
  std::vector<double> out(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) {
    switch (dtype_) {
      case DType::F32: out[i] = host.data<float>()[i]; break;
      case DType::F64: out[i] = host.data<double>()[i]; break;
      case DType::I32: out[i] = host.data<int32_t>()[i]; break;
      case DType::U8: out[i] = host.data<uint8_t>()[i]; break;
    }
  }
  return out;
}

double Tensor::item() const {
  CS_CHECK(numel_ == 1, "item() needs exactly one element, the shape is " << shape_str(shape_));
  return to_double_vector()[0];
}

// ---- printing -------------------------------------------------------------------

namespace {

void print_values(std::ostream& out, const std::vector<double>& v, const Shape& shape, int dim,
                  int64_t base, int64_t edge, bool integral) {
  if (shape.empty()) {
    out << v[0];
    return;
  }
  int64_t stride = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) stride *= shape[d];
  out << "[";
  const int64_t n = shape[dim];
  for (int64_t i = 0; i < n; ++i) {
    if (n > 2 * edge && i == edge) {
      out << (dim + 1 == static_cast<int>(shape.size()) ? "..., " : "...,\n ");
      i = n - edge - 1;
      continue;
    }
    if (dim + 1 == static_cast<int>(shape.size())) {
      if (integral)
        out << static_cast<int64_t>(v[base + i]);
      else
        out << std::setprecision(5) << v[base + i];
    } else {
      print_values(out, v, shape, dim + 1, base + i * stride, edge, integral);
    }
    if (i + 1 < n) out << (dim + 1 == static_cast<int>(shape.size()) ? ", " : ",\n ");
  }
  out << "]";
}

}  // namespace

std::string Tensor::str(int64_t edge) const {
  std::ostringstream out;
  if (!defined()) return "Tensor[undefined]";
  out << "Tensor[" << dtype_name(dtype_) << " " << device_ << " " << shape_str(shape_) << "]\n";
  if (numel_ > 0)
    print_values(out, to_double_vector(), shape_, 0, 0, edge,
                 dtype_ == DType::I32 || dtype_ == DType::U8);
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << t.str(); }

// ---- argument checks ----------------------------------------------------------------

void check_same_device(const Tensor& a, const Tensor& b, const char* what) {
  CS_CHECK(a.device() == b.device(),
           what << ": tensors on different devices (" << a.device() << " and " << b.device() << ")");
}

void check_shape(const Tensor& t, const Shape& expected, const char* what) {
  CS_CHECK(t.defined(), what << ": tensor is undefined");
  CS_CHECK(t.shape() == expected, what << ": expected shape " << shape_str(expected) << ", got "
                                       << shape_str(t.shape()));
}

void check_dtype(const Tensor& t, DType expected, const char* what) {
  CS_CHECK(t.dtype() == expected,
           what << ": expected dtype " << dtype_name(expected) << ", got " << dtype_name(t.dtype()));
}

}  // namespace cs
