#include "viz/projection.h"

#include "kernels/tensor_ops.h"
#include "layers/capture.h"

namespace cs::viz {

Tensor project_units(nn::Module& net, const Tensor& images, const std::string& layer,
                     const std::vector<UnitRef>& units, ag::ReluRule rule) {
  CS_CHECK(images.ndim() == 4, "project_units: images must be (B, C, H, W), got "
                                   << shape_str(images.shape()));
  CS_CHECK(net.find(layer) != nullptr, "no layer '" << layer << "' in the model (see `convscope summary`)");
  const int64_t b = images.dim(0);
  // Each unit gets its own copy of its image, so one backward pass serves all:
  // in eval mode the images of a batch do not interact.
  std::vector<int32_t> rows;
  for (const UnitRef& u : units) {
    CS_CHECK(u.batch_index >= 0 && u.batch_index < b,
             "project_units: image " << u.batch_index << " outside the batch of " << b);
    rows.push_back(static_cast<int32_t>(u.batch_index));
  }
  const int64_t n = static_cast<int64_t>(units.size());
  CS_CHECK(n > 0, "project_units: no units to project");
  Tensor inputs = Tensor::empty({n, images.dim(1), images.dim(2), images.dim(3)}, images.device());
  Tensor picked = inputs.reshape({n, -1});
  kernels::gather_rows(images.reshape({b, -1}), Tensor::from_vector(rows, {n}, images.device()), picked);
  const bool was_training = net.training();
  net.eval();
  nn::FrozenParameters frozen(net);
  ag::clear_tape();
  ag::Variable x(inputs, true, "image");
  Tensor seed;
  ag::Variable activation;
  {
    nn::ActivationCapture capture({layer}, true);
    net(x);
    activation = capture.get(layer);
  }
  const Shape& shape = activation.shape();
  std::vector<float> seed_values(static_cast<size_t>(activation.value().numel()), 0.0f);
  const int64_t per_image = activation.value().numel() / n;
  for (int64_t i = 0; i < n; ++i) {
    const UnitRef& u = units[i];
    int64_t offset;
    if (shape.size() == 4) {
      CS_CHECK(u.channel >= 0 && u.channel < shape[1] && u.p >= 0 && u.p < shape[2] && u.q >= 0 &&
                   u.q < shape[3],
               "project_units: unit (" << u.channel << ", " << u.p << ", " << u.q
                                       << ") outside the layer's " << shape_str(shape));
      offset = (u.channel * shape[2] + u.p) * shape[3] + u.q;
    } else {
      CS_CHECK(u.channel >= 0 && u.channel < per_image,
               "project_units: unit " << u.channel << " outside the layer's " << per_image);
      offset = u.channel;
    }
    seed_values[static_cast<size_t>(i * per_image + offset)] = 1.0f;
  }
  seed = Tensor::from_vector(seed_values, shape, activation.device());
  if (!activation.requires_grad()) {
    net.train(was_training);
    CS_FAIL("layer '" << layer << "' does not depend on the image");
  }
  {
    ag::ReluRuleGuard guard(rule);
    ag::backward(activation, seed);
  }
  net.train(was_training);
  return x.grad().to(Device::cpu());
}

}  // namespace cs::viz
