#include "viz/features.h"

#include "autograd/tape.h"
#include "kernels/tensor_ops.h"
#include "layers/capture.h"

namespace cs::viz {

std::string default_feature_layer(nn::Module& net) {
  std::string previous, feature;
  for (auto& [path, layer] : net.leaves()) {
    if (layer->type() == "Linear") feature = previous;
    previous = path;
  }
  CS_CHECK(!feature.empty(), "the model has no linear layer with a layer before it: name a layer");
  return feature;
}

FeatureSet extract_features(nn::Module& net, const models::DataSplit& split,
                            const models::DataSource& source, const Shape& model_input,
                            std::string layer, int64_t max_images, int64_t batch_size) {
  if (layer.empty()) layer = default_feature_layer(net);
  CS_CHECK(net.find(layer) != nullptr, "no layer '" << layer << "' in the model (see `convscope summary`)");
  const int64_t total = max_images > 0 ? std::min(max_images, split.size()) : split.size();
  CS_CHECK(total > 0, "no images to extract features from");
  const bool was_training = net.training();
  net.eval();
  ag::NoGradGuard no_grad;
  FeatureSet out;
  out.layer = layer;
  out.labels.assign(split.labels_host.begin(), split.labels_host.begin() + total);
  models::BatchIterator batches(split, source, batch_size, false, 0, model_input);
  Tensor images, labels;
  int64_t offset = 0;
  while (offset < total && batches.next(images, labels)) {
    const int64_t b = std::min(images.dim(0), total - offset);
    nn::ActivationCapture capture({layer}, true);
    net(ag::Variable(images.narrow(0, b)));
    const Tensor a = capture.get(layer).value();
    const int64_t d = a.numel() / b;
    if (!out.features.defined()) out.features = Tensor::empty({total, d}, a.device());
    out.features.narrow(offset, b).copy_from(a.reshape({b, d}));
    offset += b;
  }
  net.train(was_training);
  return out;
}

FeatureSet pixel_features(const models::DataSplit& split, int64_t max_images) {
  const int64_t total = max_images > 0 ? std::min(max_images, split.size()) : split.size();
  const Tensor images = split.images.narrow(0, total);
  const int64_t d = images.numel() / std::max<int64_t>(total, 1);
  FeatureSet out;
  out.layer = "pixels";
  out.labels.assign(split.labels_host.begin(), split.labels_host.begin() + total);
  out.features = Tensor::empty({total, d}, images.device());
  Tensor as_images = out.features.reshape({total, 1, 1, d});
  kernels::u8_to_float_normalized(images.reshape({total, 1, 1, d}), {0.0f}, {1.0f}, as_images);
  return out;
}

}  // namespace cs::viz
