// Normalization: batch norm in training mode (fashion-cnn's three layers)
// and local response normalization (ZFNet's two), forward and backward,
// beside cuDNN (bench/cuda/cudnn_norm.cpp).
//
//   BM_BatchNormFwd/<dev>/<case>  training forward: batch statistics, y, running stats
//   BM_BatchNormBwd/<dev>/<case>  training backward: gx, ggamma, gbeta
//   BM_LrnFwd/<dev>/<case>        BM_LrnBwd/<dev>/<case>           dev: cuda, cpu
//
// Memory-bound; GB/s counts each full-size tensor of the op's interface once
// (the per-channel vectors are negligible): batch norm forward x + y,
// backward x + gy + gx; LRN forward x + y, backward x + y + gy + gx (cuDNN's
// interface; ours also reads its saved scale, not counted). Two-pass
// statistics read x twice; only the minimum is counted.
#include "bench/bench_util.h"
#include "bench/model_layers.h"
#include "kernels/batchnorm.h"
#include "kernels/lrn.h"

namespace cs::bench {
namespace {

constexpr double kMomentum = 0.1, kEps = 1e-5;  // BatchNorm2d's defaults

void BM_BatchNorm(benchmark::State& state, const ChannelCase& c, bool backward, Device device) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    Tensor x = Tensor::uniform(c.x_shape(), -1, 1, 1, device);  // (N, C, H, W)
    Tensor y = Tensor::empty(c.x_shape(), device), gx = Tensor::empty(c.x_shape(), device);
    Tensor gy = Tensor::uniform(c.x_shape(), -1, 1, 2, device);
    // gamma, beta, running statistics, saved statistics, their gradients: (C)
    Tensor gamma = Tensor::full({c.c}, 1.0, device), beta = Tensor::zeros({c.c}, device);
    Tensor running_mean = Tensor::zeros({c.c}, device), running_var = Tensor::full({c.c}, 1.0, device);
    Tensor save_mean = Tensor::empty({c.c}, device), save_invstd = Tensor::empty({c.c}, device);
    Tensor ggamma = Tensor::empty({c.c}, device), gbeta = Tensor::empty({c.c}, device);
    const double n = static_cast<double>(x.numel());
    auto forward = [&] {
      kernels::batch_norm_forward_train(x, gamma, beta, running_mean, running_var, kMomentum, kEps, y,
                                        save_mean, save_invstd);
    };
    if (!backward) {
      measure_row(state, device, {0, kF32 * 2 * n}, forward, "BatchNormFwd/" + c.name);
      return;
    }
    forward();  // the saved statistics backward reads
    measure_row(state, device, {0, kF32 * 3 * n}, [&] {
      kernels::batch_norm_backward_train(gy, x, gamma, save_mean, save_invstd, gx, ggamma, gbeta);
    }, "BatchNormBwd/" + c.name);
  });
}

void BM_Lrn(benchmark::State& state, const ChannelCase& c, bool backward, Device device) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    Tensor x = Tensor::uniform(c.x_shape(), -1, 1, 1, device);  // all (N, C, H, W)
    Tensor y = Tensor::empty(c.x_shape(), device), scale = Tensor::empty(c.x_shape(), device);
    Tensor gy = Tensor::uniform(c.x_shape(), -1, 1, 2, device), gx = Tensor::empty(c.x_shape(), device);
    const double n = static_cast<double>(x.numel());
    if (!backward) {
      measure_row(state, device, {0, kF32 * 2 * n}, [&] { kernels::lrn_forward(x, y, scale, c.lrn); },
                  "LrnFwd/" + c.name);
      return;
    }
    kernels::lrn_forward(x, y, scale, c.lrn);
    measure_row(state, device, {0, kF32 * 4 * n},
                [&] { kernels::lrn_backward(x, y, scale, gy, gx, c.lrn); }, "LrnBwd/" + c.name);
  });
}

void register_rows(const ModelLayers& layers, Device device, const std::string& dev) {
  for (const ChannelCase& c : layers.batchnorm)
    for (bool bwd : {false, true})
      add_row(std::string(bwd ? "BM_BatchNormBwd/" : "BM_BatchNormFwd/") + dev + "/" + c.name,
              [c, bwd, device](benchmark::State& s) { BM_BatchNorm(s, c, bwd, device); });
  for (const ChannelCase& c : layers.lrn)
    for (bool bwd : {false, true})
      add_row(std::string(bwd ? "BM_LrnBwd/" : "BM_LrnFwd/") + dev + "/" + c.name,
              [c, bwd, device](benchmark::State& s) { BM_Lrn(s, c, bwd, device); });
}

[[maybe_unused]] const bool registered = [] {
  register_rows(gpu_layers(), Device::cuda(), "cuda");
  register_rows(cpu_layers(), Device::cpu(), "cpu");
  return true;
}();

}  // namespace
}  // namespace cs::bench
