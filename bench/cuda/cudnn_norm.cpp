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

class BatchNorm final : public FwdBwdOp {
 public:
  BatchNorm(const ChannelCase& c, bool backward) : FwdBwdOp(c.x_shape(), c.x_shape(), backward) {  // (N, C, H, W)
    const Device gpu = Device::cuda();
    // (C) vectors: gamma, beta, running mean/var, saved mean/invstd, gradients
    gamma_ = Tensor::full({c.c}, 1.0, gpu);
    beta_ = Tensor::zeros({c.c}, gpu);
    running_mean_ = Tensor::zeros({c.c}, gpu);
    running_var_ = Tensor::full({c.c}, 1.0, gpu);
    save_mean_ = Tensor::empty({c.c}, gpu);
    save_invstd_ = Tensor::empty({c.c}, gpu);
    ggamma_ = Tensor::empty({c.c}, gpu);
    gbeta_ = Tensor::empty({c.c}, gpu);
    set_nchw(cd_, {1, c.c, 1, 1});
    prime();  // the saved statistics
  }

  std::string what() const override { return "cuDNN batch norm (spatial)"; }

 private:
  void forward() override {
    CS_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
        handle(), CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, xd_, x_.raw_data(), yd_, y_.raw_data(), cd_,
        gamma_.raw_data(), beta_.raw_data(), kMomentum, running_mean_.raw_data(), running_var_.raw_data(),
        kEps, save_mean_.raw_data(), save_invstd_.raw_data()));
  }
  void backward() override {
    CS_CUDNN_CHECK(cudnnBatchNormalizationBackward(
        handle(), CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, &kOne, &kZero, xd_, x_.raw_data(), yd_, gy_.raw_data(),
        xd_, gx_.raw_data(), cd_, gamma_.raw_data(), ggamma_.raw_data(), gbeta_.raw_data(), kEps,
        save_mean_.raw_data(), save_invstd_.raw_data()));
  }

  Tensor gamma_, beta_, running_mean_, running_var_, save_mean_, save_invstd_, ggamma_, gbeta_;
  TensorDesc cd_;
};

class Lrn final : public FwdBwdOp {
 public:
  Lrn(const ChannelCase& c, bool backward) : FwdBwdOp(c.x_shape(), c.x_shape(), backward) {  // all (N, C, H, W)
    // cuDNN's alpha, like PyTorch's and ours, is divided by the window size.
    CS_CUDNN_CHECK(cudnnSetLRNDescriptor(ld_, static_cast<unsigned>(c.lrn.size), c.lrn.alpha, c.lrn.beta,
                                         c.lrn.k));
    prime();  // y, which cuDNN's backward reads
  }

  std::string what() const override { return "cuDNN LRN cross-channel"; }

 private:
  void forward() override {
    CS_CUDNN_CHECK(cudnnLRNCrossChannelForward(handle(), ld_, CUDNN_LRN_CROSS_CHANNEL_DIM1, &kOne, xd_,
                                               x_.raw_data(), &kZero, yd_, y_.raw_data()));
  }
  void backward() override {
    CS_CUDNN_CHECK(cudnnLRNCrossChannelBackward(handle(), ld_, CUDNN_LRN_CROSS_CHANNEL_DIM1, &kOne, yd_,
                                                y_.raw_data(), yd_, gy_.raw_data(), xd_, x_.raw_data(),
                                                &kZero, xd_, gx_.raw_data()));
  }

  LrnDesc ld_;
};

// Bytes as bench_norm.cpp counts them: `tensors` full-size tensors per call.
auto full_tensors(double fwd_tensors, double bwd_tensors) {
  return [=](const ChannelCase& c, bool bwd) {
    return Cost{0, kF32 * (bwd ? bwd_tensors : fwd_tensors) * static_cast<double>(shape_numel(c.x_shape()))};
  };
}

[[maybe_unused]] const bool registered = [] {
  add_fwd_bwd_rows<BatchNorm>(gpu_layers().batchnorm, "BatchNormFwd", "BatchNormBwd", full_tensors(2, 3));
  add_fwd_bwd_rows<Lrn>(gpu_layers().lrn, "LrnFwd", "LrnBwd", full_tensors(2, 4));
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
