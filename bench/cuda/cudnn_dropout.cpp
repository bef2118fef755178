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

class Dropout {
 public:
  Dropout(const RowsCase& c, bool backward) : backward_(backward) {
    const Device gpu = Device::cuda();
    x_ = Tensor::uniform({c.n, c.k}, -1, 1, 1, gpu);  // all (N, features)
    y_ = Tensor::empty({c.n, c.k}, gpu);
    gy_ = Tensor::uniform({c.n, c.k}, -1, 1, 2, gpu);
    gx_ = Tensor::empty({c.n, c.k}, gpu);
    set_nchw(d_, {c.n, c.k});
    cudnnHandle_t h = handle();
    size_t state_bytes = 0;
    CS_CUDNN_CHECK(cudnnDropoutGetStatesSize(h, &state_bytes));
    CS_CUDNN_CHECK(cudnnDropoutGetReserveSpaceSize(d_, &reserve_bytes_));
    states_ = Tensor::empty({static_cast<int64_t>(std::max<size_t>(state_bytes, 1))}, gpu, DType::U8);
    reserve_ = Tensor::empty({static_cast<int64_t>(std::max<size_t>(reserve_bytes_, 1))}, gpu, DType::U8);
    CS_CUDNN_CHECK(cudnnSetDropoutDescriptor(dd_, h, static_cast<float>(c.p), states_.raw_data(), state_bytes, 7));
    if (backward) forward();  // the mask backward reads
  }

  void run() {
    if (!backward_) {
      forward();
      return;
    }
    CS_CUDNN_CHECK(cudnnDropoutBackward(handle(), dd_, d_, gy_.raw_data(), d_, gx_.raw_data(), reserve_.raw_data(),
                                        reserve_bytes_));
  }

  std::string what() const {
    return "cuDNN dropout (reserve " + std::to_string(reserve_bytes_ >> 10) + " KB)";
  }

 private:
  void forward() {
    CS_CUDNN_CHECK(cudnnDropoutForward(handle(), dd_, d_, x_.raw_data(), d_, y_.raw_data(), reserve_.raw_data(),
                                       reserve_bytes_));
  }

  bool backward_;
  size_t reserve_bytes_ = 0;
  Tensor x_, y_, gy_, gx_, states_, reserve_;
  TensorDesc d_;
  DropoutDesc dd_;
};

[[maybe_unused]] const bool registered = [] {
  for (const RowsCase& c : gpu_layers().dropout)
    for (bool bwd : {false, true}) {
      const std::string fam = bwd ? "DropoutBwd" : "DropoutFwd";
      const std::string key = fam + "/" + c.name;
      const Cost cost{0, (2 * kF32 + 1) * static_cast<double>(c.n * c.k)};
      auto make = [c, bwd] { return std::make_unique<Dropout>(c, bwd); };
      register_reference(key, make);
      add_row("BM_" + fam + "/cudnn/" + c.name,
              [key, cost, make](benchmark::State& s) { reference_row(s, key, cost, make); });
    }
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
