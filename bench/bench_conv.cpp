// Convolution: every conv layer of fashion-cnn, AlexNet and ZFNet, forward,
// backward-data and backward-weight, beside cuDNN (bench/cuda/cudnn_conv.cpp).
//
//   BM_ConvFwd/cuda:<variant>/<case>   each forward variant (conv2d_cuda_variants())
//   BM_ConvBwdData/cuda/<case>         gx = conv_transpose(gy, w)
//   BM_ConvBwdWeight/cuda/<case>       gw = sum over the batch of x * gy
//   BM_Conv*/cpu/<case>                the CPU path (im2col + OpenBLAS), fashion-cnn at batch 16
//
// No bias on either side (cuDNN's convolution has none): the rows time the
// convolution itself. FLOPs: 2 * N*K*P*Q * (C/groups)*R*S per direction.
// GPU rows carry ref_ms / ratio against cuDNN's fastest fp32 algorithm
// (TF32 off), chosen by cudnnFind* and named in the label.
#include "bench/bench_util.h"
#include "bench/model_layers.h"
#include "kernels/conv2d.h"

namespace cs::bench {
namespace {

enum class Dir { Fwd, BwdData, BwdWeight };
const char* family(Dir d) {
  return d == Dir::Fwd ? "ConvFwd" : d == Dir::BwdData ? "ConvBwdData" : "ConvBwdWeight";
}

// The tensors one direction of one case reads and writes (only those: the
// large layers' inputs take a while to draw on the host).
struct ConvTensors {
  Tensor x, w, y, gy, gx, gw;  // x (N,C,H,W), w (K,C/g,R,S), y and gy (N,K,P,Q)
  ConvTensors(const ConvCase& c, Dir dir, Device d) {
    if (dir != Dir::BwdData) x = Tensor::uniform(c.x_shape(), -1, 1, 1, d);
    if (dir != Dir::BwdWeight) w = Tensor::uniform(c.w_shape(), -1, 1, 2, d);
    if (dir != Dir::Fwd) gy = Tensor::uniform(c.y_shape(), -1, 1, 3, d);
    if (dir == Dir::Fwd) y = Tensor::empty(c.y_shape(), d);
    if (dir == Dir::BwdData) gx = Tensor::empty(c.x_shape(), d);
    if (dir == Dir::BwdWeight) gw = Tensor::empty(c.w_shape(), d);
  }
};

void BM_Conv(benchmark::State& state, const ConvCase& c, Dir dir, Device device,
             const std::string& variant) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    ConvTensors t(c, dir, device);
    const std::string key = std::string(family(dir)) + "/" + c.name;
    const Cost cost{c.flops(), 0};
    if (dir == Dir::Fwd && device.is_cuda())
      measure_row(state, device, cost, [&] {
        kernels::conv2d_forward_cuda_variant(variant, t.x, t.w, Tensor(), t.y, c.args);
      }, key);
    else if (dir == Dir::Fwd)
      measure_row(state, device, cost, [&] { kernels::conv2d_forward(t.x, t.w, Tensor(), t.y, c.args); });
    else if (dir == Dir::BwdData)
      measure_row(state, device, cost,
                  [&] { kernels::conv2d_backward_data(t.gy, t.w, t.gx, c.args); }, key);
    else
      measure_row(state, device, cost,
                  [&] { kernels::conv2d_backward_weight(t.x, t.gy, t.gw, c.args); }, key);
  });
}

[[maybe_unused]] const bool registered = [] {
  const Device gpu = Device::cuda(), cpu = Device::cpu();
  // Variants come from the library's static registration (loaded before us);
  // an empty list in a CPU-only build registers no GPU forward rows.
  const std::vector<std::string> variants = kernels::conv2d_cuda_variants();
  for (const ConvCase& c : gpu_layers().conv) {
    for (const std::string& v : variants)
      add_row("BM_ConvFwd/cuda:" + v + "/" + c.name,
              [c, v, gpu](benchmark::State& s) { BM_Conv(s, c, Dir::Fwd, gpu, v); });
    for (Dir d : {Dir::BwdData, Dir::BwdWeight})
      add_row(std::string("BM_") + family(d) + "/cuda/" + c.name,
              [c, d, gpu](benchmark::State& s) { BM_Conv(s, c, d, gpu, ""); });
  }
  for (const ConvCase& c : cpu_layers().conv)
    for (Dir d : {Dir::Fwd, Dir::BwdData, Dir::BwdWeight})
      add_row(std::string("BM_") + family(d) + "/cpu/" + c.name,
              [c, d, cpu](benchmark::State& s) { BM_Conv(s, c, d, cpu, ""); });
  return true;
}();

}  // namespace
}  // namespace cs::bench
