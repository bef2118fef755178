#include "bench/cuda/cudnn_util.h"

#include <mutex>

namespace cs::bench::cudnn {

cudnnHandle_t handle(int device) {
  static std::mutex mutex;
  static cudnnHandle_t handles[64] = {};  // never destroyed: process lifetime
  CS_CHECK(device >= 0 && device < 64, "cuDNN benchmark: device index " << device);
  cuda::set_device(device);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!handles[device]) CS_CUDNN_CHECK(cudnnCreate(&handles[device]));
  }
  CS_CUDNN_CHECK(cudnnSetStream(handles[device], cuda::current_stream(device)));
  return handles[device];
}

std::string version() {
  const size_t v = cudnnGetVersion();  // major * 10000 + minor * 100 + patch (cuDNN 9)
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

void set_nchw(cudnnTensorDescriptor_t desc, const Shape& shape) {
  CS_CHECK(shape.size() == 2 || shape.size() == 4, "cuDNN descriptor: shape " << shape_str(shape));
  const auto d = [&](size_t i) { return i < shape.size() ? static_cast<int>(shape[i]) : 1; };
  CS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d(0), d(1), d(2), d(3)));
}

FwdBwdOp::FwdBwdOp(const Shape& x_shape, const Shape& y_shape, bool backward, double x_bound)
    : backward_(backward) {
  const Device gpu = Device::cuda();
  x_ = Tensor::uniform(x_shape, -x_bound, x_bound, 1, gpu);
  y_ = Tensor::empty(y_shape, gpu);
  gy_ = Tensor::uniform(y_shape, -1, 1, 2, gpu);
  gx_ = Tensor::empty(x_shape, gpu);
  set_nchw(xd_, x_shape);
  set_nchw(yd_, y_shape);
}

namespace {
// The cuDNN actually loaded (the pip wheel's may differ from the headers), in the JSON context.
[[maybe_unused]] const bool context_added = [] {
  benchmark::AddCustomContext("cudnn", version());
  return true;
}();
}  // namespace

}  // namespace cs::bench::cudnn
