// cuDNN softmax (CUDNN_SOFTMAX_ACCURATE: max-shifted, as ours; per instance
// over the classes of an (N, K, 1, 1) tensor), the reference for
// bench/bench_softmax.cpp's softmax rows, with the same bytes counted.
//
//   BM_SoftmaxFwd/cudnn/<case>   BM_SoftmaxBwd/cudnn/<case>
#include <memory>

#include "bench/cuda/cudnn_util.h"
#include "bench/model_layers.h"

namespace cs::bench::cudnn {
namespace {

class Softmax {
 public:
  Softmax(const RowsCase& c, bool backward) : backward_(backward) {
    const Device gpu = Device::cuda();
    x_ = Tensor::uniform({c.n, c.k}, -4, 4, 1, gpu);  // all (N, K)
    y_ = Tensor::empty({c.n, c.k}, gpu);
    gy_ = Tensor::uniform({c.n, c.k}, -1, 1, 2, gpu);
    gx_ = Tensor::empty({c.n, c.k}, gpu);
    set_nchw(d_, {c.n, c.k});
    if (backward) forward();
  }

  void run() {
    if (!backward_) {
      forward();
      return;
    }
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnSoftmaxBackward(handle(), CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &one, d_,
                                        y_.raw_data(), d_, gy_.raw_data(), &zero, d_, gx_.raw_data()));
  }

  std::string what() const { return "cuDNN softmax (accurate)"; }

 private:
  void forward() {
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnSoftmaxForward(handle(), CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &one, d_,
                                       x_.raw_data(), &zero, d_, y_.raw_data()));
  }

  bool backward_;
  Tensor x_, y_, gy_, gx_;
  TensorDesc d_;
};

[[maybe_unused]] const bool registered = [] {
  for (const RowsCase& c : gpu_layers().softmax)
    for (bool bwd : {false, true}) {
      const std::string fam = bwd ? "SoftmaxBwd" : "SoftmaxFwd";
      const std::string key = fam + "/" + c.name;
      const Cost cost{0, kF32 * (bwd ? 3 : 2) * static_cast<double>(c.n * c.k)};
      auto make = [c, bwd] { return std::make_unique<Softmax>(c, bwd); };
      register_reference(key, make);
      add_row("BM_" + fam + "/cudnn/" + c.name,
              [key, cost, make](benchmark::State& s) { reference_row(s, key, cost, make); });
    }
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
