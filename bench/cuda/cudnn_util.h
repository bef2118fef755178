// What the cuDNN reference rows share: the status check, one handle per
// device bound to the current stream, RAII descriptors, and the row helper.
// Compiled only when CMake found cuDNN (CONVSCOPE_HAS_CUDNN).
#pragma once

#include <cudnn.h>

#include <memory>
#include <string>
#include <vector>

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

// What most reference cases hold: the forward's input x and output y, the
// backward's output gradient gy and input gradient gx (x uniform in
// [-x_bound, x_bound], gy in [-1, 1]; outputs unset), fp32 NCHW with
// descriptors xd (x, gx) and yd (y, gy). run() calls forward() or, for a
// backward case, backward(); a subclass ends its constructor with prime(),
// which runs the forward once for what the backward reads (y, the saved
// statistics, the dropout mask).
class FwdBwdOp {
 public:
  virtual ~FwdBwdOp() = default;
  FwdBwdOp(const FwdBwdOp&) = delete;
  FwdBwdOp& operator=(const FwdBwdOp&) = delete;
  void run() { backward_ ? backward() : forward(); }
  virtual std::string what() const = 0;

 protected:
  FwdBwdOp(const Shape& x_shape, const Shape& y_shape, bool backward, double x_bound = 1);
  void prime() {
    if (backward_) forward();
  }
  virtual void forward() = 0;
  virtual void backward() = 0;

  static constexpr float kOne = 1.f, kZero = 0.f;  // alpha and beta (fp32 data: float)
  bool backward_;
  Tensor x_, y_, gy_, gx_;
  TensorDesc xd_, yd_;
};

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

// Registers the row BM_<family>/cudnn/<case>, the reference of key
// "<family>/<case>", and that key's on-demand measurement.
template <typename Make>
void add_reference_row(const std::string& family, const std::string& case_name, const Cost& cost, Make make) {
  const std::string key = family + "/" + case_name;
  register_reference(key, make);
  add_row(row_name(family, "cudnn", case_name),
          [key, cost, make](benchmark::State& s) { reference_row(s, key, cost, make); });
}

// The forward and backward reference rows of each case, Op(case, backward)
// costing cost(case, backward).
template <typename Op, typename Case, typename CostFn>
void add_fwd_bwd_rows(const std::vector<Case>& cases, const std::string& fwd_family,
                      const std::string& bwd_family, CostFn cost) {
  for (const Case& c : cases)
    for (bool bwd : {false, true})
      add_reference_row(bwd ? bwd_family : fwd_family, c.name, cost(c, bwd),
                        [c, bwd] { return std::make_unique<Op>(c, bwd); });
}

}  // namespace cs::bench::cudnn
