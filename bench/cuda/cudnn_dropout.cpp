// cuDNN dropout, the reference for bench/bench_dropout.cpp, on the same
// (N, features) cases seen as (N, features, 1, 1), with the same bytes
// counted. Its RNG states are set up once per case (cudnnSetDropoutDescriptor
// is slow), outside the timing; each forward call draws a fresh mask.
//
//   BM_DropoutFwd/cudnn/<case>   BM_DropoutBwd/cudnn/<case>
#include <memory>

#include "bench/cuda/cudnn_util.h"
#include "bench/model_layers.h"

namespace cs::bench::cudnn {
namespace {

class Dropout final : public FwdBwdOp {
 public:
  Dropout(const RowsCase& c, bool backward) : FwdBwdOp({c.n, c.k}, {c.n, c.k}, backward) {
    const Device gpu = Device::cuda();
    cudnnHandle_t h = handle();
    size_t state_bytes = 0;
    CS_CUDNN_CHECK(cudnnDropoutGetStatesSize(h, &state_bytes));
    CS_CUDNN_CHECK(cudnnDropoutGetReserveSpaceSize(xd_, &reserve_bytes_));
    states_ = Tensor::empty({static_cast<int64_t>(std::max<size_t>(state_bytes, 1))}, gpu, DType::U8);
    reserve_ = Tensor::empty({static_cast<int64_t>(std::max<size_t>(reserve_bytes_, 1))}, gpu, DType::U8);
    CS_CUDNN_CHECK(cudnnSetDropoutDescriptor(dd_, h, static_cast<float>(c.p), states_.raw_data(), state_bytes, 7));
    prime();  // the mask backward reads
  }

  std::string what() const override {
    return "cuDNN dropout (reserve " + std::to_string(reserve_bytes_ >> 10) + " KB)";
  }

 private:
  void forward() override {
    CS_CUDNN_CHECK(cudnnDropoutForward(handle(), dd_, xd_, x_.raw_data(), yd_, y_.raw_data(), reserve_.raw_data(),
                                       reserve_bytes_));
  }
  void backward() override {
    CS_CUDNN_CHECK(cudnnDropoutBackward(handle(), dd_, yd_, gy_.raw_data(), xd_, gx_.raw_data(), reserve_.raw_data(),
                                        reserve_bytes_));
  }

  size_t reserve_bytes_ = 0;
  Tensor states_, reserve_;
  DropoutDesc dd_;
};

[[maybe_unused]] const bool registered = [] {
  add_fwd_bwd_rows<Dropout>(gpu_layers().dropout, "DropoutFwd", "DropoutBwd", [](const RowsCase& c, bool) {
    return Cost{0, (2 * kF32 + 1) * static_cast<double>(c.n * c.k)};
  });
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
