// Optimizer steps: the fused SGD (momentum, Nesterov, weight decay) and Adam
// updates over every parameter of a model, measured against the copy
// bandwidth (no vendor library has them; PyTorch's fused steps are the
// end-to-end comparison). One row = one step over all parameter tensors.
//
//   BM_SgdStep/<dev>/<model>    reads param, grad, momentum; writes param, momentum: 20 B/param
//   BM_AdamStep/<dev>/<model>   reads param, grad, m, v; writes param, m, v:         28 B/param
// Models (their parameter shapes come from building the spec): fashion-cnn,
// AlexNet and ZFNet on the GPU, fashion-cnn on the CPU.
#include "bench/bench_util.h"
#include "kernels/optimizer.h"
#include "models/netspec.h"

namespace cs::bench {
namespace {

void BM_Step(benchmark::State& state, const std::string& model, bool adam, Device device) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    models::Model m = models::build_model(models::load_net_spec(model), 1);
    std::vector<Tensor> params, grads, buffer_a, buffer_b;  // one per parameter tensor, its shape
    double count = 0;
    for (const auto& [name, p] : m.net->named_parameters()) {
      params.push_back(p.value().to(device));
      grads.push_back(Tensor::uniform(p.value().shape(), -1, 1, 3, device));
      buffer_a.push_back(Tensor::zeros(p.value().shape(), device));
      buffer_b.push_back(Tensor::zeros(p.value().shape(), device));
      count += static_cast<double>(p.value().numel());
    }
    m.net.reset();  // the host copy is not needed any more
    kernels::SgdArgs sgd;
    sgd.lr = 0.01;  // AlexNet's spec; the values do not change the traffic
    sgd.momentum = 0.9;
    sgd.weight_decay = 5e-4;
    sgd.first_step = false;
    kernels::AdamArgs adam_args;
    adam_args.weight_decay = 5e-4;
    measure_row(state, device, {0, (adam ? 28.0 : 20.0) * count}, [&] {
      for (size_t i = 0; i < params.size(); ++i) {
        if (adam)
          kernels::adam_step(params[i], grads[i], buffer_a[i], buffer_b[i], adam_args);
        else
          kernels::sgd_step(params[i], grads[i], buffer_a[i], sgd);
      }
    });
    state.counters["parameters"] = count;
  });
}

[[maybe_unused]] const bool registered = [] {
  const std::vector<std::pair<std::string, Device>> cases = {
      {"fashion-cnn", Device::cuda()}, {"alexnet", Device::cuda()}, {"zfnet", Device::cuda()},
      {"fashion-cnn", Device::cpu()}};
  for (const auto& [model, device] : cases)
    for (bool adam : {false, true})
      add_row(std::string(adam ? "BM_AdamStep/" : "BM_SgdStep/") + (device.is_cuda() ? "cuda/" : "cpu/") + model,
              [model, adam, device](benchmark::State& s) { BM_Step(s, model, adam, device); });
  return true;
}();

}  // namespace
}  // namespace cs::bench
