// Softmax over the classifier outputs (N, classes) of fashion-cnn (10) and
// AlexNet/ZFNet (1000), forward and backward, beside cuDNN
// (bench/cuda/cudnn_softmax.cpp), and our fused softmax cross-entropy, which
// cuDNN does not have (no reference).
//
//   BM_SoftmaxFwd/<dev>/<case>   y = softmax(x)               x + y
//   BM_SoftmaxBwd/<dev>/<case>   gx = y * (gy - sum(gy * y))  y + gy + gx
//   BM_SoftmaxXentFwd/<dev>/<case>  loss and probabilities    logits + probs (+ labels)
//   BM_SoftmaxXentBwd/<dev>/<case>  glogits                   probs + glogits (+ labels)
// (GB/s over those minimum bytes; dev: cuda, cpu.)
#include "bench/bench_util.h"
#include "bench/model_layers.h"
#include "kernels/softmax.h"

namespace cs::bench {
namespace {

enum class Op { Fwd, Bwd, XentFwd, XentBwd };
const char* family(Op op) {
  switch (op) {
    case Op::Fwd: return "SoftmaxFwd";
    case Op::Bwd: return "SoftmaxBwd";
    case Op::XentFwd: return "SoftmaxXentFwd";
    case Op::XentBwd: return "SoftmaxXentBwd";
  }
  return "?";
}

void BM_Softmax(benchmark::State& state, const RowsCase& c, Op op, Device device) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    Tensor x = Tensor::uniform({c.n, c.k}, -4, 4, 1, device);  // logits (N, K)
    Tensor y = Tensor::empty({c.n, c.k}, device), gx = Tensor::empty({c.n, c.k}, device);
    Tensor gy = Tensor::uniform({c.n, c.k}, -1, 1, 2, device);
    std::vector<int32_t> label_values(static_cast<size_t>(c.n));
    for (int64_t i = 0; i < c.n; ++i) label_values[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7) % c.k);
    Tensor labels = Tensor::from_vector(label_values, {c.n}, device);  // (N) int32
    Tensor loss = Tensor::empty({1}, device), gloss = Tensor::full({1}, 1.0, device);
    const double nk = static_cast<double>(c.n * c.k), n = static_cast<double>(c.n);
    const std::string key = std::string(family(op)) + "/" + c.name;
    switch (op) {
      case Op::Fwd:
        measure_row(state, device, {0, kF32 * 2 * nk}, [&] { kernels::softmax_forward(x, y); }, key);
        break;
      case Op::Bwd:
        kernels::softmax_forward(x, y);
        measure_row(state, device, {0, kF32 * 3 * nk}, [&] { kernels::softmax_backward(y, gy, gx); }, key);
        break;
      case Op::XentFwd:
        measure_row(state, device, {0, kF32 * (2 * nk + n)},
                    [&] { kernels::softmax_cross_entropy_forward(x, labels, 0.0, loss, y); });
        break;
      case Op::XentBwd:
        kernels::softmax_cross_entropy_forward(x, labels, 0.0, loss, y);
        measure_row(state, device, {0, kF32 * (2 * nk + n)},
                    [&] { kernels::softmax_cross_entropy_backward(y, labels, 0.0, gloss, gx); });
        break;
    }
  });
}

[[maybe_unused]] const bool registered = [] {
  for_each_device_case(&ModelLayers::softmax, [](const RowsCase& c, Device device, const std::string& dev) {
    for (Op op : {Op::Fwd, Op::Bwd, Op::XentFwd, Op::XentBwd})
      add_row(row_name(family(op), dev, c.name),
              [c, op, device](benchmark::State& s) { BM_Softmax(s, c, op, device); });
  });
  return true;
}();

}  // namespace
}  // namespace cs::bench
