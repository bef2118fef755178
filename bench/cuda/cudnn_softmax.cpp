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

class Softmax final : public FwdBwdOp {
 public:
  Softmax(const RowsCase& c, bool backward) : FwdBwdOp({c.n, c.k}, {c.n, c.k}, backward, 4) { prime(); }
  std::string what() const override { return "cuDNN softmax (accurate)"; }

 private:
  void forward() override {
    CS_CUDNN_CHECK(cudnnSoftmaxForward(handle(), CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &kOne, xd_,
                                       x_.raw_data(), &kZero, yd_, y_.raw_data()));
  }
  void backward() override {
    CS_CUDNN_CHECK(cudnnSoftmaxBackward(handle(), CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &kOne, yd_,
                                        y_.raw_data(), yd_, gy_.raw_data(), &kZero, xd_, gx_.raw_data()));
  }
};

[[maybe_unused]] const bool registered = [] {
  add_fwd_bwd_rows<Softmax>(gpu_layers().softmax, "SoftmaxFwd", "SoftmaxBwd", [](const RowsCase& c, bool bwd) {
    return Cost{0, kF32 * (bwd ? 3 : 2) * static_cast<double>(c.n * c.k)};
  });
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
