// ReLU after every conv layer of fashion-cnn, AlexNet and ZFNet (on the conv
// outputs), forward and the standard backward, beside cuDNN's activation
// (bench/cuda/cudnn_relu.cpp).
//
//   BM_ReluFwd/<dev>/<case>   y = max(x, 0)          x + y
//   BM_ReluBwd/<dev>/<case>   gx = gy * [x > 0]      x + gy + gx
// GB/s over those minimum bytes; the case names are the conv layers'.
#include "bench/bench_util.h"
#include "bench/model_layers.h"
#include "kernels/activation.h"

namespace cs::bench {
namespace {

void BM_Relu(benchmark::State& state, const ConvCase& c, bool backward, Device device) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    const Shape s = c.y_shape();  // the conv's output (N, K, P, Q)
    Tensor x = Tensor::uniform(s, -1, 1, 1, device), y = Tensor::empty(s, device);
    Tensor gy = Tensor::uniform(s, -1, 1, 2, device), gx = Tensor::empty(s, device);
    const double n = static_cast<double>(x.numel());
    if (!backward)
      measure_row(state, device, {0, kF32 * 2 * n}, [&] { kernels::relu_forward(x, y); }, "ReluFwd/" + c.name);
    else
      measure_row(state, device, {0, kF32 * 3 * n},
                  [&] { kernels::relu_backward(x, gy, gx, kernels::ReluRule::Standard); }, "ReluBwd/" + c.name);
  });
}

[[maybe_unused]] const bool registered = [] {
  add_fwd_bwd_device_rows(&ModelLayers::conv, "ReluFwd", "ReluBwd", BM_Relu);
  return true;
}();

}  // namespace
}  // namespace cs::bench
