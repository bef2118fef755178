// cuDNN ReLU (cudnnActivationForward/Backward, CUDNN_ACTIVATION_RELU), the
// reference for bench/bench_relu.cpp, on the same cases and bytes.
//
//   BM_ReluFwd/cudnn/<case>   BM_ReluBwd/cudnn/<case>
#include <memory>

#include "bench/cuda/cudnn_util.h"
#include "bench/model_layers.h"

namespace cs::bench::cudnn {
namespace {

class Relu {
 public:
  Relu(const ConvCase& c, bool backward) : backward_(backward) {
    const Device gpu = Device::cuda();
    const Shape s = c.y_shape();  // all (N, K, P, Q)
    x_ = Tensor::uniform(s, -1, 1, 1, gpu);
    y_ = Tensor::empty(s, gpu);
    gy_ = Tensor::uniform(s, -1, 1, 2, gpu);
    gx_ = Tensor::empty(s, gpu);
    set_nchw(d_, s);
    CS_CUDNN_CHECK(cudnnSetActivationDescriptor(ad_, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    if (backward) forward();  // y, which cuDNN's backward reads
  }

  void run() {
    if (!backward_) {
      forward();
      return;
    }
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnActivationBackward(handle(), ad_, &one, d_, y_.raw_data(), d_, gy_.raw_data(), d_,
                                           x_.raw_data(), &zero, d_, gx_.raw_data()));
  }

  std::string what() const { return "cuDNN activation (ReLU)"; }

 private:
  void forward() {
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnActivationForward(handle(), ad_, &one, d_, x_.raw_data(), &zero, d_, y_.raw_data()));
  }

  bool backward_;
  Tensor x_, y_, gy_, gx_;
  TensorDesc d_;
  ActivationDesc ad_;
};

[[maybe_unused]] const bool registered = [] {
  for (const ConvCase& c : gpu_layers().conv)
    for (bool bwd : {false, true}) {
      const std::string fam = bwd ? "ReluBwd" : "ReluFwd";
      const std::string key = fam + "/" + c.name;
      const Cost cost{0, kF32 * (bwd ? 3 : 2) * static_cast<double>(shape_numel(c.y_shape()))};
      auto make = [c, bwd] { return std::make_unique<Relu>(c, bwd); };
      register_reference(key, make);
      add_row("BM_" + fam + "/cudnn/" + c.name,
              [key, cost, make](benchmark::State& s) { reference_row(s, key, cost, make); });
    }
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
