#include "viz/attribution.h"

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "kernels/activation.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/random.h"
#include "kernels/resize.h"
#include "kernels/tensor_ops.h"
#include "layers/capture.h"

namespace cs::viz {

namespace {

// Eval mode and frozen parameters for the lifetime of one visualization.
class VizMode {
 public:
  explicit VizMode(nn::Module& net) : net_(net), was_training_(net.training()), frozen_(net) {
    net.eval();
    ag::clear_tape();
  }
  ~VizMode() { net_.train(was_training_); }

 private:
  nn::Module& net_;
  bool was_training_;
  nn::FrozenParameters frozen_;
};

void check_images(const Tensor& images, const std::vector<int>& classes) {
  CS_CHECK(images.ndim() == 4, "expected images (B, C, H, W), got " << shape_str(images.shape()));
  CS_CHECK(classes.empty() || static_cast<int64_t>(classes.size()) == images.dim(0),
           classes.size() << " classes given for " << images.dim(0) << " images");
}

// One-hot seeds at (b, classes[b]) of logits (B, K).
Tensor class_seed(const ag::Variable& logits, const std::vector<int>& classes) {
  const int64_t b = logits.dim(0), k = logits.dim(1);
  std::vector<float> seed(static_cast<size_t>(b * k), 0.0f);
  for (int64_t i = 0; i < b; ++i) {
    CS_CHECK(classes[i] >= 0 && classes[i] < k, "class " << classes[i] << " outside the model's " << k);
    seed[static_cast<size_t>(i * k + classes[i])] = 1.0f;
  }
  return Tensor::from_vector(seed, {b, k}, logits.device());
}

std::vector<int> argmax(const Tensor& logits) {
  Tensor idx = Tensor::empty({logits.dim(0)}, logits.device(), DType::I32);
  kernels::argmax_rows(logits, idx);
  const std::vector<int32_t> v = idx.to_vector<int32_t>();
  return std::vector<int>(v.begin(), v.end());
}

Tensor abs_max_over_channels(const Tensor& g) {
  Tensor a = Tensor::empty_like(g);
  kernels::abs(g, a);
  Tensor m = Tensor::empty({g.dim(0), g.dim(2), g.dim(3)}, g.device());
  kernels::max_over_channels(a, m);
  return m;
}

}  // namespace

std::vector<int> predict_classes(nn::Module& net, const Tensor& images) {
  const bool was_training = net.training();
  net.eval();
  ag::NoGradGuard no_grad;
  const ag::Variable logits = net(ag::Variable(images));
  net.train(was_training);
  return argmax(logits.value());
}

InputGradients class_gradients(nn::Module& net, const Tensor& images, std::vector<int> classes,
                               ag::ReluRule rule) {
  check_images(images, classes);
  VizMode mode(net);
  ag::Variable x(images, true, "image");
  const ag::Variable logits = net(x);
  CS_CHECK(logits.ndim() == 2, "the model's output is not (B, classes): " << shape_str(logits.shape()));
  if (classes.empty()) classes = argmax(logits.value());
  InputGradients out;
  const std::vector<float> all = logits.value().to_vector<float>();
  for (size_t i = 0; i < classes.size(); ++i)
    out.scores.push_back(all[i * logits.dim(1) + classes[i]]);
  {
    ag::ReluRuleGuard guard(rule);
    ag::backward(logits, class_seed(logits, classes));
  }
  out.classes = classes;
  out.maps = abs_max_over_channels(x.grad()).to(Device::cpu());
  out.gradients = x.grad().to(Device::cpu());
  return out;
}

GradCam grad_cam(nn::Module& net, const Tensor& images, std::vector<int> classes,
                 const std::string& layer) {
  check_images(images, classes);
  CS_CHECK(net.find(layer) != nullptr, "no layer '" << layer << "' in the model (see `convscope summary`)");
  VizMode mode(net);
  // The input needs no gradient, but the activation does: make it a leaf
  // that requires one by recording from an input that does.
  ag::Variable x(images, true, "image");
  ag::Variable logits, activation;
  {
    nn::ActivationCapture capture({layer});
    logits = net(x);
    activation = capture.get(layer);
  }
  CS_CHECK(activation.ndim() == 4, "Grad-CAM needs a convolutional layer; '" << layer << "' gives "
                                                                             << shape_str(activation.shape()));
  activation.retain_grad();
  if (classes.empty()) classes = argmax(logits.value());
  ag::backward(logits, class_seed(logits, classes));
  const Tensor a = activation.value(), g = activation.grad();
  const int64_t b = a.dim(0), k = a.dim(1), h = a.dim(2), w = a.dim(3);
  // Channel weights: the spatial mean of the gradient, (B, K).
  Tensor weights = Tensor::empty({b * k}, a.device());
  kernels::mean_axis(g.reshape({b * k, h * w}), 1, weights);
  // cam[b] = ReLU(sum_k weights[b, k] A[b, k]): a (1, K) x (K, hw) product per image.
  Tensor cam = Tensor::empty({b, 1, h, w}, a.device());
  const Tensor a2 = a.reshape({b * k, h * w}), w2 = weights.reshape({b, k});
  Tensor cam2 = cam.reshape({b, h * w});
  for (int64_t i = 0; i < b; ++i) {
    Tensor row = cam2.narrow(i, 1);
    kernels::gemm(w2.narrow(i, 1), kernels::Transpose::No, a2.narrow(i * k, k),
                  kernels::Transpose::No, row);
  }
  kernels::relu_forward(cam, cam);
  Tensor up = Tensor::empty({b, 1, images.dim(2), images.dim(3)}, a.device());
  kernels::resize_bilinear_forward(cam, up);
  kernels::relu_forward(up, up);  // bilinear interpolation of >= 0 values stays >= 0; kept exact
  GradCam out;
  out.classes = classes;
  out.raw = cam.reshape({b, h, w}).to(Device::cpu());
  out.maps = up.reshape({b, images.dim(2), images.dim(3)}).to(Device::cpu());
  return out;
}

InputGradients smooth_grad(nn::Module& net, const Tensor& images, std::vector<int> classes,
                           const SmoothGradOptions& options) {
  check_images(images, classes);
  CS_CHECK(options.samples >= 1, "SmoothGrad needs at least one sample, got " << options.samples);
  CS_CHECK(options.noise >= 0, "SmoothGrad noise must be >= 0, got " << options.noise);
  if (classes.empty()) classes = predict_classes(net, images);
  const int64_t b = images.dim(0), per_image = images.numel() / std::max<int64_t>(b, 1);
  // Noise scale per image: a fraction of its value range.
  std::vector<double> sigma(static_cast<size_t>(b));
  const std::vector<float> values = images.to_vector<float>();
  for (int64_t i = 0; i < b; ++i) {
    const auto [lo, hi] = std::minmax_element(values.begin() + i * per_image, values.begin() + (i + 1) * per_image);
    sigma[i] = options.noise * (*hi - *lo);
  }
  Tensor grad_sum = Tensor::zeros(images.shape(), images.device());
  Tensor map_sum = Tensor::zeros({b, images.dim(2), images.dim(3)}, images.device());
  // Copies are processed in batches of up to 64 images.
  const int64_t total = b * options.samples, chunk = 64;
  for (int64_t start = 0; start < total; start += chunk) {
    const int64_t count = std::min(chunk, total - start);
    std::vector<int32_t> rows;
    std::vector<int> chunk_classes;
    for (int64_t j = start; j < start + count; ++j) {
      rows.push_back(static_cast<int32_t>(j % b));
      chunk_classes.push_back(classes[j % b]);
    }
    Tensor noisy = Tensor::empty({count, images.dim(1), images.dim(2), images.dim(3)}, images.device());
    Tensor flat = noisy.reshape({count, per_image});
    kernels::gather_rows(images.reshape({b, per_image}), Tensor::from_vector(rows, {count}, images.device()), flat);
    Tensor noise = Tensor::empty({count, per_image}, images.device());
    kernels::normal_(noise, options.seed, static_cast<uint64_t>(start * per_image), 0.0, 1.0);
    for (int64_t j = 0; j < count; ++j) {
      Tensor row = noise.narrow(j, 1);
      kernels::scale(row, sigma[rows[j]], row);
    }
    kernels::add(flat, noise, flat);
    const InputGradients g = class_gradients(net, noisy, chunk_classes, ag::ReluRule::Standard);
    const Tensor grads = g.gradients.to(images.device()), maps = g.maps.to(images.device());
    for (int64_t j = 0; j < count; ++j) {
      Tensor gs = grad_sum.narrow(rows[j], 1), ms = map_sum.narrow(rows[j], 1);
      kernels::add(gs, grads.narrow(j, 1), gs);
      kernels::add(ms, maps.narrow(j, 1), ms);
    }
  }
  kernels::scale(grad_sum, 1.0 / options.samples, grad_sum);
  kernels::scale(map_sum, 1.0 / options.samples, map_sum);
  InputGradients out;
  out.classes = classes;
  out.gradients = grad_sum.to(Device::cpu());
  out.maps = map_sum.to(Device::cpu());
  return out;
}

}  // namespace cs::viz
