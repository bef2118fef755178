#include "viz/deepdream.h"

#include <cmath>

#include "autograd/ops.h"
#include "kernels/elementwise.h"
#include "kernels/image_ops.h"
#include "kernels/reduce.h"
#include "kernels/resize.h"
#include "layers/capture.h"
#include "runtime/philox.h"

namespace cs::viz {

namespace {

Tensor resized(const Tensor& x, int64_t h, int64_t w) {
  if (x.dim(2) == h && x.dim(3) == w) return x.clone();
  Tensor out = Tensor::empty({x.dim(0), x.dim(1), h, w}, x.device());
  kernels::resize_bilinear_forward(x, out);
  return out;
}

}  // namespace

DreamResult deep_dream(nn::Module& net, const Tensor& image, const DreamOptions& o) {
  CS_CHECK(image.ndim() == 3, "deep dream: expected one image (C, H, W), got " << shape_str(image.shape()));
  CS_CHECK(net.find(o.layer) != nullptr, "no layer '" << o.layer << "' in the model (see `convscope summary`)");
  CS_CHECK(o.octaves >= 1 && o.octave_scale >= 1 && o.steps >= 1 && o.step_size > 0 && o.jitter >= 0,
           "deep dream: octaves >= 1, octave scale >= 1, steps >= 1, step size > 0, jitter >= 0");
  const Device device = image.device();
  const int64_t c = image.dim(0), full_h = image.dim(1), full_w = image.dim(2);
  const Tensor base = image.reshape({1, c, full_h, full_w});
  const bool was_training = net.training();
  net.eval();
  nn::FrozenParameters frozen(net);
  DreamResult result;
  Tensor detail;  // what dreaming added, at the previous octave's size
  uint64_t counter = 0;
  for (int octave = 0; octave < o.octaves; ++octave) {
    const double shrink = std::pow(o.octave_scale, o.octaves - 1 - octave);
    const int64_t h = std::max<int64_t>(1, std::lround(full_h / shrink));
    const int64_t w = std::max<int64_t>(1, std::lround(full_w / shrink));
    const Tensor base_o = resized(base, h, w);
    Tensor x = base_o.clone();
    if (detail.defined()) {
      const Tensor up = resized(detail, h, w);
      kernels::add(x, up, x);
    }
    std::vector<double> objective;
    Tensor shifted = Tensor::empty_like(x), grad = Tensor::empty_like(x), scratch = Tensor::empty_like(x);
    Tensor total = Tensor::empty({1}, device);
    for (int step = 0; step < o.steps; ++step) {
      const int span = 2 * o.jitter + 1;
      const int64_t dy = o.jitter ? static_cast<int64_t>(philox::word(o.seed, 2, counter++) % span) - o.jitter : 0;
      const int64_t dx = o.jitter ? static_cast<int64_t>(philox::word(o.seed, 2, counter++) % span) - o.jitter : 0;
      kernels::roll2d(x, dy, dx, shifted);
      ag::clear_tape();
      ag::Variable input(shifted.clone(), true, "image");
      ag::Variable a;
      {
        nn::ActivationCapture capture({o.layer}, true);
        net(input);
        a = capture.get(o.layer);
      }
      // The seed is the activation itself (d/da of 1/2 |a|^2), on the chosen channels.
      Tensor seed = a.value().clone();
      if (!o.channels.empty()) {
        CS_CHECK(a.ndim() >= 2, "deep dream: layer '" << o.layer << "' has no channels");
        const int64_t channels = a.dim(1), per = a.value().numel() / (a.dim(0) * channels);
        std::vector<float> mask(static_cast<size_t>(a.value().numel()), 0.0f);
        for (int64_t ch : o.channels) {
          CS_CHECK(ch >= 0 && ch < channels, "deep dream: channel " << ch << " outside the layer's " << channels);
          for (int64_t n = 0; n < a.dim(0); ++n)
            std::fill(mask.begin() + (n * channels + ch) * per, mask.begin() + (n * channels + ch + 1) * per, 1.0f);
        }
        kernels::mul(seed, Tensor::from_vector(mask, seed.shape(), device), seed);
      }
      Tensor squares = Tensor::empty_like(seed);
      kernels::mul(seed, seed, squares);
      kernels::sum_all(squares, total);
      objective.push_back(0.5 * total.item());
      ag::backward(a, seed);
      kernels::roll2d(input.grad(), -dy, -dx, grad);
      // x += step * g / mean|g|, then clip to the valid range.
      kernels::abs(grad, scratch);
      kernels::sum_all(scratch, total);
      const double mean_abs = total.item() / static_cast<double>(grad.numel()) + 1e-12;
      kernels::axpy(o.step_size / mean_abs, grad, x);
      kernels::clamp(x, o.clip_low, o.clip_high, x);
    }
    result.objective.push_back(objective);
    result.octave_images.push_back(x.reshape({c, h, w}).to(Device::cpu()));
    detail = Tensor::empty_like(x);
    kernels::sub(x, base_o, detail);
    if (octave + 1 == o.octaves) result.image = x.reshape({c, h, w}).to(Device::cpu());
  }
  net.train(was_training);
  return result;
}

}  // namespace cs::viz
