// cuDNN ReLU (cudnnActivationForward/Backward, CUDNN_ACTIVATION_RELU), the
// reference for bench/bench_relu.cpp, on the same cases and bytes.
//
//   BM_ReluFwd/cudnn/<case>   BM_ReluBwd/cudnn/<case>
#include <memory>

#include "bench/cuda/cudnn_util.h"
#include "bench/model_layers.h"

namespace cs::bench::cudnn {
namespace {

class Relu final : public FwdBwdOp {
 public:
  Relu(const ConvCase& c, bool backward) : FwdBwdOp(c.y_shape(), c.y_shape(), backward) {  // all (N, K, P, Q)
    CS_CUDNN_CHECK(cudnnSetActivationDescriptor(ad_, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    prime();  // y, which cuDNN's backward reads
  }

  std::string what() const override { return "cuDNN activation (ReLU)"; }

 private:
  void forward() override {
    CS_CUDNN_CHECK(cudnnActivationForward(handle(), ad_, &kOne, xd_, x_.raw_data(), &kZero, yd_, y_.raw_data()));
  }
  void backward() override {
    CS_CUDNN_CHECK(cudnnActivationBackward(handle(), ad_, &kOne, yd_, y_.raw_data(), yd_, gy_.raw_data(), xd_,
                                           x_.raw_data(), &kZero, xd_, gx_.raw_data()));
  }

  ActivationDesc ad_;
};

[[maybe_unused]] const bool registered = [] {
  add_fwd_bwd_rows<Relu>(gpu_layers().conv, "ReluFwd", "ReluBwd", [](const ConvCase& c, bool bwd) {
    return Cost{0, kF32 * (bwd ? 3 : 2) * static_cast<double>(shape_numel(c.y_shape()))};
  });
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
