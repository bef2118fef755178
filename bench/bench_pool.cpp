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

void BM_Pool(benchmark::State& state, const PoolCase& c, PoolOp op, Device device) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    Tensor x = Tensor::uniform(c.x_shape(), -1, 1, 1, device);     // (N, C, H, W)
    Tensor y = Tensor::empty(c.y_shape(), device);                 // (N, C, P, Q)
    Tensor switches = Tensor::empty(c.y_shape(), device, DType::I32);
    Tensor gy = Tensor::uniform(c.y_shape(), -1, 1, 2, device);
    Tensor gx = Tensor::empty(c.x_shape(), device);
    const Cost cost{0, kF32 * static_cast<double>(x.numel() + y.numel())};
    const std::string key = std::string(pool_family(op)) + "/" + c.name;
    switch (op) {
      case PoolOp::MaxFwd:
        measure_row(state, device, cost, [&] { kernels::max_pool2d_forward(x, y, switches, c.args); }, key);
        break;
      case PoolOp::MaxBwd:
        kernels::max_pool2d_forward(x, y, switches, c.args);  // the switches backward routes through
        measure_row(state, device, cost,
                    [&] { kernels::max_pool2d_backward(gy, switches, gx, c.args); }, key);
        break;
      case PoolOp::AvgFwd:
        measure_row(state, device, cost, [&] { kernels::avg_pool2d_forward(x, y, c.args); }, key);
        break;
      case PoolOp::AvgBwd:
        measure_row(state, device, cost, [&] { kernels::avg_pool2d_backward(gy, gx, c.args); }, key);
        break;
    }
  });
}

[[maybe_unused]] const bool registered = [] {
  for_each_device_case(&ModelLayers::pool, [](const PoolCase& c, Device device, const std::string& dev) {
    for (PoolOp op : kPoolOps)
      add_row(row_name(pool_family(op), dev, c.name),
              [c, op, device](benchmark::State& s) { BM_Pool(s, c, op, device); });
  });
  return true;
}();

}  // namespace
}  // namespace cs::bench
