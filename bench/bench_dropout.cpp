// Dropout on the classifier inputs of fashion-cnn (p = 0.3) and AlexNet/ZFNet
// (p = 0.5), forward (draw the mask, scale) and backward, beside cuDNN
// (bench/cuda/cudnn_dropout.cpp).
//
//   BM_DropoutFwd/<dev>/<case>   x read, y written, a 1-byte mask written
//   BM_DropoutBwd/<dev>/<case>   gy and the mask read, gx written
// GB/s over those minimum bytes (cuDNN keeps its mask in a reserve space of
// about the same size); dev: cuda, cpu.
#include "bench/bench_util.h"
#include "bench/model_layers.h"
#include "kernels/dropout.h"

namespace cs::bench {
namespace {

void BM_Dropout(benchmark::State& state, const RowsCase& c, bool backward, Device device) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    Tensor x = Tensor::uniform({c.n, c.k}, -1, 1, 1, device);  // (N, features)
    Tensor y = Tensor::empty({c.n, c.k}, device), gx = Tensor::empty({c.n, c.k}, device);
    Tensor gy = Tensor::uniform({c.n, c.k}, -1, 1, 2, device);
    Tensor mask = Tensor::empty({c.n, c.k}, device, DType::U8);
    const double bytes = (2 * kF32 + 1) * static_cast<double>(c.n * c.k);
    uint64_t offset = 0;  // a fresh mask per call, as in training
    if (!backward) {
      measure_row(state, device, {0, bytes}, [&] {
        kernels::dropout_forward(x, c.p, 7, offset, y, mask);
        offset += static_cast<uint64_t>(c.n * c.k);
      }, "DropoutFwd/" + c.name);
      return;
    }
    kernels::dropout_forward(x, c.p, 7, 0, y, mask);
    measure_row(state, device, {0, bytes}, [&] { kernels::dropout_backward(gy, mask, c.p, gx); },
                "DropoutBwd/" + c.name);
  });
}

[[maybe_unused]] const bool registered = [] {
  add_fwd_bwd_device_rows(&ModelLayers::dropout, "DropoutFwd", "DropoutBwd", BM_Dropout);
  return true;
}();

}  // namespace
}  // namespace cs::bench
