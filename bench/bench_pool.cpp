// Pooling: every max-pool layer of fashion-cnn, AlexNet and ZFNet, max and
// average on the same windows, forward and backward, beside cuDNN
// (bench/cuda/cudnn_pool.cpp).
//
//   BM_MaxPoolFwd/<dev>/<case>  BM_MaxPoolBwd/<dev>/<case>
//   BM_AvgPoolFwd/<dev>/<case>  BM_AvgPoolBwd/<dev>/<case>     dev: cuda, cpu
//
// Memory-bound: GB/s counts the minimum traffic, forward x read + y written,
// backward gy read + gx written (4 bytes each). Our max pool also writes and
// reads its int32 switches, cuDNN's backward reads x and y instead: neither
// extra is counted, so the GB/s of both rows compare directly.
#include "bench/bench_util.h"
#include "bench/model_layers.h"
#include "kernels/pool.h"

namespace cs::bench {
namespace {

enum class Op { MaxFwd, MaxBwd, AvgFwd, AvgBwd };
const char* family(Op op) {
  switch (op) {
    case Op::MaxFwd: return "MaxPoolFwd";
    case Op::MaxBwd: return "MaxPoolBwd";
    case Op::AvgFwd: return "AvgPoolFwd";
    case Op::AvgBwd: return "AvgPoolBwd";
  }
  return "?";
}

void BM_Pool(benchmark::State& state, const PoolCase& c, Op op, Device device) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    Tensor x = Tensor::uniform(c.x_shape(), -1, 1, 1, device);     // (N, C, H, W)
    Tensor y = Tensor::empty(c.y_shape(), device);                 // (N, C, P, Q)
    Tensor switches = Tensor::empty(c.y_shape(), device, DType::I32);
    Tensor gy = Tensor::uniform(c.y_shape(), -1, 1, 2, device);
    Tensor gx = Tensor::empty(c.x_shape(), device);
    const Cost cost{0, kF32 * static_cast<double>(x.numel() + y.numel())};
    const std::string key = std::string(family(op)) + "/" + c.name;
    switch (op) {
      case Op::MaxFwd:
        measure_row(state, device, cost, [&] { kernels::max_pool2d_forward(x, y, switches, c.args); }, key);
        break;
      case Op::MaxBwd:
        kernels::max_pool2d_forward(x, y, switches, c.args);  // the switches backward routes through
        measure_row(state, device, cost,
                    [&] { kernels::max_pool2d_backward(gy, switches, gx, c.args); }, key);
        break;
      case Op::AvgFwd:
        measure_row(state, device, cost, [&] { kernels::avg_pool2d_forward(x, y, c.args); }, key);
        break;
      case Op::AvgBwd:
        measure_row(state, device, cost, [&] { kernels::avg_pool2d_backward(gy, gx, c.args); }, key);
        break;
    }
  });
}

void register_rows(const std::vector<PoolCase>& cases, Device device, const std::string& dev) {
  for (const PoolCase& c : cases)
    for (Op op : {Op::MaxFwd, Op::MaxBwd, Op::AvgFwd, Op::AvgBwd})
      add_row(std::string("BM_") + family(op) + "/" + dev + "/" + c.name,
              [c, op, device](benchmark::State& s) { BM_Pool(s, c, op, device); });
}

[[maybe_unused]] const bool registered = [] {
  register_rows(gpu_layers().pool, Device::cuda(), "cuda");
  register_rows(cpu_layers().pool, Device::cpu(), "cpu");
  return true;
}();

}  // namespace
}  // namespace cs::bench
