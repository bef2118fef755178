// What the cuDNN reference rows share: the status check, one handle per
// device bound to the current stream, RAII descriptors, and the row helper.
// Compiled only when CMake found cuDNN (CONVSCOPE_HAS_CUDNN).
#pragma once

#include <cudnn.h>

#include <string>

#include "bench/bench_util.h"
#include "bench/reference.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::bench::cudnn {

// Checks a cuDNN call; the error names the call and cuDNN's status string.
#define CS_CUDNN_CHECK(expr)                                                                 \
  do {                                                                                       \
    const cudnnStatus_t cs_cudnn_status_ = (expr);                                           \
    CS_CHECK(cs_cudnn_status_ == CUDNN_STATUS_SUCCESS,                                       \
             "cuDNN: " #expr " failed: " << cudnnGetErrorString(cs_cudnn_status_) << " ("   \
                                          << static_cast<int>(cs_cudnn_status_) << ")");     \
  } while (0)

// The handle of `device`, set to the thread's current stream (the one our
// kernels and the timer use).
cudnnHandle_t handle(int device = 0);

// "9.19.0" (the library loaded, not the header compiled against).
std::string version();

// Owns one cuDNN descriptor: Desc<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor,
// cudnnDestroyTensorDescriptor>.
template <typename T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class Desc {
 public:
  Desc() { CS_CUDNN_CHECK(Create(&d_)); }
  ~Desc() { Destroy(d_); }
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  operator T() const { return d_; }

 private:
  T d_{};
};

using TensorDesc = Desc<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDesc = Desc<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDesc = Desc<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                      cudnnDestroyConvolutionDescriptor>;
using PoolDesc = Desc<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor>;
using LrnDesc = Desc<cudnnLRNDescriptor_t, cudnnCreateLRNDescriptor, cudnnDestroyLRNDescriptor>;
using ActivationDesc = Desc<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor,
                            cudnnDestroyActivationDescriptor>;
using DropoutDesc = Desc<cudnnDropoutDescriptor_t, cudnnCreateDropoutDescriptor, cudnnDestroyDropoutDescriptor>;

// An fp32 NCHW descriptor for a 4-D shape, or a 2-D (N, K) one as (N, K, 1, 1).
void set_nchw(cudnnTensorDescriptor_t desc, const Shape& shape);

// A reference row: skips without a device; builds the case with make()
// (an object with run() and what()), times run() as our rows are timed,
// labels the row and records the result as the reference of `key` (empty:
// a context row, e.g. TF32, that is no one's reference). add_reference()
// gets the same measurement on demand for our row's ratio.
template <typename Make>
void reference_row(benchmark::State& state, const std::string& key, const Cost& cost, Make&& make,
                   bool tf32 = false) {
  const Device gpu = Device::cuda();
  if (!device_available(state, gpu)) return;
  guarded(state, [&] {
    auto op = make();
    const double ms = measure_row(state, gpu, cost, [&] { op->run(); }, "", tf32);
    state.SetLabel(op->what());
    if (!key.empty()) record_reference(key, {ms, op->what()});
  });
}

// Registers the on-demand measurement of `key` for our rows: 20 timed calls
// after warm-up, L2 flushed before each, as the rows do.
template <typename Make>
void register_reference(const std::string& key, Make make) {
  add_reference(key, [make]() -> ReferenceResult {
    auto op = make();
    const double ms = median_ms(Device::cuda(), [&] { op->run(); }, 20);
    return {ms, op->what()};
  });
}

}  // namespace cs::bench::cudnn
