#include "viz/occlusion.h"

#include <cmath>

#include "autograd/ops.h"
#include "kernels/softmax.h"
#include "kernels/tensor_ops.h"
#include "layers/capture.h"
#include "viz/blur.h"

namespace cs::viz {

OcclusionFill parse_occlusion_fill(const std::string& name) {
  if (name == "gray") return OcclusionFill::Gray;
  if (name == "mean") return OcclusionFill::Mean;
  if (name == "zero") return OcclusionFill::Zero;
  if (name == "blur") return OcclusionFill::Blur;
  CS_FAIL("unknown occlusion fill '" << name << "' (expected gray, mean, zero or blur)");
}

Tensor occlusion_fill_image(const Tensor& image, OcclusionFill fill,
                            const models::DataSource& source, int window) {
  const int64_t c = image.dim(0), h = image.dim(1), w = image.dim(2);
  auto channel_value = [&](int64_t ch, double intensity) {
    const size_t k = source.mean.size() == 1 ? 0 : static_cast<size_t>(ch);
    return (intensity - source.mean.at(k)) / source.std.at(k);
  };
  if (fill != OcclusionFill::Blur) {
    std::vector<float> values(static_cast<size_t>(c * h * w));
    for (int64_t ch = 0; ch < c; ++ch) {
      // The dataset mean is 0 after normalisation.
      const double v = fill == OcclusionFill::Mean ? 0.0
                       : fill == OcclusionFill::Gray ? channel_value(ch, 0.5)
                                                      : channel_value(ch, 0.0);
      std::fill(values.begin() + ch * h * w, values.begin() + (ch + 1) * h * w, static_cast<float>(v));
    }
    return Tensor::from_vector(values, image.shape(), image.device());
  }
  return gaussian_blur(image, std::max(1.0, window / 4.0));
}

OcclusionResult occlusion(nn::Module& net, const Tensor& image, int true_class,
                          const models::DataSource& source, const OcclusionOptions& options) {
  CS_CHECK(image.ndim() == 3, "occlusion: expected one image (C, H, W), got " << shape_str(image.shape()));
  CS_CHECK(options.window > 0 && options.stride > 0 && options.batch_size > 0,
           "occlusion: window, stride and batch size must be positive");
  OcclusionResult r;
  r.grid.window = options.window;
  r.grid.stride = options.stride;
  r.rows = kernels::OcclusionGrid::positions(image.dim(1), options.stride);
  r.cols = kernels::OcclusionGrid::positions(image.dim(2), options.stride);
  r.true_class = true_class;
  const Tensor fill = occlusion_fill_image(image, options.fill, source, options.window);
  const bool was_training = net.training();
  net.eval();
  ag::NoGradGuard no_grad;
  const int64_t windows = r.rows * r.cols;
  std::vector<float> truth(windows), top(windows), unit(windows);
  std::vector<int32_t> top_class(windows);
  const bool want_unit = !options.unit_layer.empty();
  // Runs a batch; returns (probabilities (B, K), unit maxima per image).
  auto run = [&](const Tensor& batch, std::vector<float>& unit_max) {
    std::vector<std::string> layers;
    if (want_unit) layers.push_back(options.unit_layer);
    nn::ActivationCapture capture(layers);
    const ag::Variable logits = net(ag::Variable(batch));
    CS_CHECK(true_class >= 0 && true_class < logits.dim(1),
             "occlusion: class " << true_class << " outside the model's " << logits.dim(1));
    Tensor probs = Tensor::empty_like(logits.value());
    kernels::softmax_forward(logits.value(), probs);
    if (want_unit) {
      const Tensor a = capture.get(options.unit_layer).value();
      CS_CHECK(a.ndim() == 4 && options.unit_channel >= 0 && options.unit_channel < a.dim(1),
               "occlusion: unit " << options.unit_channel << " of layer '" << options.unit_layer
                                  << "' (shape " << shape_str(a.shape()) << ") does not exist");
      const int64_t b = a.dim(0), c = a.dim(1), hw = a.dim(2) * a.dim(3);
      Tensor values = Tensor::empty({b * c, 1}, a.device());
      Tensor where = Tensor::empty({b * c, 1}, a.device(), DType::I32);
      kernels::topk_rows(a.reshape({b * c, hw}), 1, values, where);
      const std::vector<float> v = values.to_vector<float>();
      unit_max.resize(static_cast<size_t>(b));
      for (int64_t i = 0; i < b; ++i) unit_max[i] = v[i * c + options.unit_channel];
    }
    return probs;
  };
  {
    std::vector<float> clean_unit;
    const std::vector<float> p =
        run(image.reshape({1, image.dim(0), image.dim(1), image.dim(2)}), clean_unit).to_vector<float>();
    r.clean_probability = p[true_class];
    if (want_unit) r.clean_unit_activation = clean_unit[0];
  }
  for (int64_t first = 0; first < windows; first += options.batch_size) {
    const int64_t count = std::min(options.batch_size, windows - first);
    Tensor batch = Tensor::empty({count, image.dim(0), image.dim(1), image.dim(2)}, image.device());
    kernels::occlude(image, fill, r.grid, first, batch);
    std::vector<float> unit_max;
    const Tensor probs = run(batch, unit_max);
    const int64_t k = probs.dim(1);
    Tensor best = Tensor::empty({count, 1}, probs.device());
    Tensor best_class = Tensor::empty({count, 1}, probs.device(), DType::I32);
    kernels::topk_rows(probs, 1, best, best_class);
    const std::vector<float> pv = probs.to_vector<float>(), bv = best.to_vector<float>();
    const std::vector<int32_t> cv = best_class.to_vector<int32_t>();
    for (int64_t i = 0; i < count; ++i) {
      truth[first + i] = pv[i * k + true_class];
      top[first + i] = bv[i];
      top_class[first + i] = cv[i];
      if (want_unit) unit[first + i] = unit_max[i];
    }
  }
  net.train(was_training);
  r.true_class_probability = Tensor::from_vector(truth, {r.rows, r.cols});
  r.top_class_probability = Tensor::from_vector(top, {r.rows, r.cols});
  r.top_class = Tensor::from_vector(top_class, {r.rows, r.cols});
  if (want_unit) r.unit_activation = Tensor::from_vector(unit, {r.rows, r.cols});
  return r;
}

}  // namespace cs::viz
