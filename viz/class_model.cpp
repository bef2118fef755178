#include "viz/class_model.h"

#include <cmath>

#include "autograd/ops.h"
#include "kernels/elementwise.h"
#include "kernels/image_ops.h"
#include "kernels/random.h"
#include "kernels/tensor_ops.h"
#include "layers/capture.h"
#include "runtime/philox.h"
#include "viz/blur.h"

namespace cs::viz {

ClassModelResult class_model_image(nn::Module& net, const Shape& input_shape, int target_class,
                                   const Tensor& start, const ClassModelOptions& o) {
  CS_CHECK(input_shape.size() == 3, "class model: input shape must be (C, H, W)");
  CS_CHECK(o.steps >= 1 && o.step_size > 0 && o.l2 >= 0 && o.jitter >= 0,
           "class model: steps >= 1, step size > 0, l2 >= 0 and jitter >= 0 expected");
  const Device device = net.device();
  const Shape batch_shape = {1, input_shape[0], input_shape[1], input_shape[2]};
  Tensor x = Tensor::empty(batch_shape, device);
  if (start.defined()) {
    CS_CHECK(start.numel() == x.numel(), "class model: start image " << shape_str(start.shape())
                                                                     << " does not fit the input "
                                                                     << shape_str(input_shape));
    x.copy_from(start.to(device));
  } else {
    kernels::normal_(x, o.seed, 0, 0.0, 0.1);
  }
  const bool was_training = net.training();
  net.eval();
  nn::FrozenParameters frozen(net);
  ClassModelResult result;
  Tensor shifted = Tensor::empty(batch_shape, device), grad = Tensor::empty(batch_shape, device);
  Tensor norm = Tensor::empty({1}, device);
  for (int step = 0; step < o.steps; ++step) {
    // Jitter: roll the image by a random offset, differentiate, roll back.
    const int span = 2 * o.jitter + 1;
    const int64_t dy = o.jitter ? static_cast<int64_t>(philox::word(o.seed, 1, 2 * step) % span) - o.jitter : 0;
    const int64_t dx = o.jitter ? static_cast<int64_t>(philox::word(o.seed, 1, 2 * step + 1) % span) - o.jitter : 0;
    kernels::roll2d(x, dy, dx, shifted);
    ag::clear_tape();
    ag::Variable input(shifted.clone(), true, "image");
    ag::Variable target;
    {
      std::vector<std::string> layers;
      if (!o.unit_layer.empty()) layers.push_back(o.unit_layer);
      nn::ActivationCapture capture(layers, !o.unit_layer.empty());
      const ag::Variable logits = net(input);
      if (o.unit_layer.empty()) {
        CS_CHECK(logits.ndim() == 2 && target_class >= 0 && target_class < logits.dim(1),
                 "class model: class " << target_class << " outside the model's outputs "
                                       << shape_str(logits.shape()));
        target = logits;
      } else {
        target = capture.get(o.unit_layer);
        CS_CHECK(target.ndim() >= 2 && o.unit_channel >= 0 && o.unit_channel < target.dim(1),
                 "class model: unit " << o.unit_channel << " outside layer '" << o.unit_layer << "' "
                                      << shape_str(target.shape()));
      }
    }
    // Seed: the class's one-hot, or the unit's mean (1 / map size over its channel).
    const int64_t per_channel = target.value().numel() / target.dim(1);
    std::vector<float> seed(static_cast<size_t>(target.value().numel()), 0.0f);
    const int64_t channel = o.unit_layer.empty() ? target_class : o.unit_channel;
    for (int64_t j = 0; j < per_channel; ++j)
      seed[static_cast<size_t>(channel * per_channel + j)] = 1.0f / static_cast<float>(per_channel);
    const std::vector<float> values = target.value().to_vector<float>();
    double score = 0;
    for (int64_t j = 0; j < per_channel; ++j) score += values[channel * per_channel + j] / per_channel;
    kernels::l2_norm(x, norm);
    const double x_norm = norm.item();
    result.objective.push_back(score - o.l2 * x_norm * x_norm);
    ag::backward(target, Tensor::from_vector(seed, target.shape(), device));
    kernels::roll2d(input.grad(), -dy, -dx, grad);
    // Ascend along d = grad(score) - 2 l2 x, the gradient of the whole
    // objective, with steps of a fixed root-mean-square size.
    kernels::axpy(-2.0 * o.l2, x, grad);
    kernels::l2_norm(grad, norm);
    const double rms = norm.item() / std::sqrt(static_cast<double>(grad.numel())) + 1e-12;
    kernels::axpy(o.step_size / rms, grad, x);
    if (o.blur_every > 0 && (step + 1) % o.blur_every == 0 && step + 1 < o.steps)
      x = gaussian_blur(x, o.blur_sigma);
  }
  net.train(was_training);
  result.image = x.reshape(input_shape).to(Device::cpu());
  return result;
}

}  // namespace cs::viz
