// cuDNN batch norm (training, CUDNN_BATCHNORM_SPATIAL: PyTorch's mode for
// NCHW) and cross-channel LRN, the references for bench/bench_norm.cpp, on
// the same cases with the same bytes counted.
//
//   BM_BatchNormFwd/cudnn/<case>  BM_BatchNormBwd/cudnn/<case>
//   BM_LrnFwd/cudnn/<case>        BM_LrnBwd/cudnn/<case>
#include <memory>

#include "bench/cuda/cudnn_util.h"
#include "bench/model_layers.h"

namespace cs::bench::cudnn {
namespace {

constexpr double kMomentum = 0.1, kEps = 1e-5;  // BatchNorm2d's defaults

class BatchNorm {
 public:
  BatchNorm(const ChannelCase& c, bool backward) : backward_(backward) {
    const Device gpu = Device::cuda();
    x_ = Tensor::uniform(c.x_shape(), -1, 1, 1, gpu);  // (N, C, H, W)
    y_ = Tensor::empty(c.x_shape(), gpu);
    gy_ = Tensor::uniform(c.x_shape(), -1, 1, 2, gpu);
    gx_ = Tensor::empty(c.x_shape(), gpu);
    // (C) vectors: gamma, beta, running mean/var, saved mean/invstd, gradients
    gamma_ = Tensor::full({c.c}, 1.0, gpu);
    beta_ = Tensor::zeros({c.c}, gpu);
    running_mean_ = Tensor::zeros({c.c}, gpu);
    running_var_ = Tensor::full({c.c}, 1.0, gpu);
    save_mean_ = Tensor::empty({c.c}, gpu);
    save_invstd_ = Tensor::empty({c.c}, gpu);
    ggamma_ = Tensor::empty({c.c}, gpu);
    gbeta_ = Tensor::empty({c.c}, gpu);
    set_nchw(xd_, c.x_shape());
    set_nchw(cd_, {1, c.c, 1, 1});
    if (backward) forward();  // the saved statistics
  }

  void run() {
    if (!backward_) {
      forward();
      return;
    }
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnBatchNormalizationBackward(
        handle(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, xd_, x_.raw_data(), xd_, gy_.raw_data(),
        xd_, gx_.raw_data(), cd_, gamma_.raw_data(), ggamma_.raw_data(), gbeta_.raw_data(), kEps,
        save_mean_.raw_data(), save_invstd_.raw_data()));
  }

  std::string what() const { return "cuDNN batch norm (spatial)"; }

 private:
  void forward() {
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
        handle(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, xd_, x_.raw_data(), xd_, y_.raw_data(), cd_,
        gamma_.raw_data(), beta_.raw_data(), kMomentum, running_mean_.raw_data(), running_var_.raw_data(),
        kEps, save_mean_.raw_data(), save_invstd_.raw_data()));
  }

  bool backward_;
  Tensor x_, y_, gy_, gx_, gamma_, beta_, running_mean_, running_var_, save_mean_, save_invstd_, ggamma_,
      gbeta_;
  TensorDesc xd_, cd_;
};

class Lrn {
 public:
  Lrn(const ChannelCase& c, bool backward) : backward_(backward) {
    const Device gpu = Device::cuda();
    x_ = Tensor::uniform(c.x_shape(), -1, 1, 1, gpu);  // all (N, C, H, W)
    y_ = Tensor::empty(c.x_shape(), gpu);
    gy_ = Tensor::uniform(c.x_shape(), -1, 1, 2, gpu);
    gx_ = Tensor::empty(c.x_shape(), gpu);
    set_nchw(xd_, c.x_shape());
    // cuDNN's alpha, like PyTorch's and ours, is divided by the window size.
    CS_CUDNN_CHECK(cudnnSetLRNDescriptor(ld_, static_cast<unsigned>(c.lrn.size), c.lrn.alpha, c.lrn.beta,
                                         c.lrn.k));
    if (backward) forward();
  }

  void run() {
    if (!backward_) {
      forward();
      return;
    }
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnLRNCrossChannelBackward(handle(), ld_, CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, xd_,
                                                y_.raw_data(), xd_, gy_.raw_data(), xd_, x_.raw_data(),
                                                &zero, xd_, gx_.raw_data()));
  }

  std::string what() const { return "cuDNN LRN cross-channel"; }

 private:
  void forward() {
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnLRNCrossChannelForward(handle(), ld_, CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, xd_,
                                               x_.raw_data(), &zero, xd_, y_.raw_data()));
  }

  bool backward_;
  Tensor x_, y_, gy_, gx_;
  TensorDesc xd_;
  LrnDesc ld_;
};

template <typename Op>
void register_family(const std::vector<ChannelCase>& cases, const char* fwd_family,
                     const char* bwd_family, double fwd_tensors, double bwd_tensors) {
  for (const ChannelCase& c : cases)
    for (bool bwd : {false, true}) {
      const std::string fam = bwd ? bwd_family : fwd_family;
      const std::string key = fam + "/" + c.name;
      const Cost cost{0, kF32 * (bwd ? bwd_tensors : fwd_tensors) * static_cast<double>(shape_numel(c.x_shape()))};
      auto make = [c, bwd] { return std::make_unique<Op>(c, bwd); };
      register_reference(key, make);
      add_row("BM_" + fam + "/cudnn/" + c.name,
              [key, cost, make](benchmark::State& s) { reference_row(s, key, cost, make); });
    }
}

[[maybe_unused]] const bool registered = [] {
  // Bytes as bench_norm.cpp counts them: full-size tensors per call.
  register_family<BatchNorm>(gpu_layers().batchnorm, "BatchNormFwd", "BatchNormBwd", 2, 3);
  register_family<Lrn>(gpu_layers().lrn, "LrnFwd", "LrnBwd", 2, 4);
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
