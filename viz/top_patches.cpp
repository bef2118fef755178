#include "viz/top_patches.h"

#include <algorithm>

#include "kernels/tensor_ops.h"
#include "layers/capture.h"
#include "viz/projection.h"

namespace cs::viz {

namespace {

// Better = larger value, then lower image index (a total order: deterministic).
bool better(const UnitActivation& a, const UnitActivation& b) {
  return a.value > b.value || (a.value == b.value && a.image < b.image);
}

// Crops `box` (unclipped) out of a (C, H, W) tensor into a (C, box h, box w)
// tile, zero where the box leaves the image.
Tensor crop(const Tensor& image, const Box& box) {
  const int64_t c = image.dim(0), h = image.dim(1), w = image.dim(2);
  Tensor out = Tensor::zeros({c, box.height(), box.width()});
  const float* in = image.data<float>();
  float* o = out.data<float>();
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = box.top; y < box.bottom; ++y)
      for (int64_t x = box.left; x < box.right; ++x)
        if (y >= 0 && y < h && x >= 0 && x < w)
          o[(ch * box.height() + (y - box.top)) * box.width() + (x - box.left)] =
              in[(ch * h + y) * w + x];
  return out;
}

}  // namespace

TopActivations scan_top_activations(nn::Module& net, const models::DataSplit& split,
                                    const models::DataSource& source, const Shape& model_input,
                                    const std::string& layer, const ScanOptions& options) {
  CS_CHECK(options.k >= 1, "top patches: k must be at least 1, got " << options.k);
  CS_CHECK(net.find(layer) != nullptr, "no layer '" << layer << "' in the model (see `convscope summary`)");
  TopActivations result;
  result.layer = layer;
  result.rf = receptive_field(net, layer);
  const bool was_training = net.training();
  net.eval();
  ag::NoGradGuard no_grad;
  const int64_t total = options.max_images > 0 ? std::min(options.max_images, split.size()) : split.size();
  models::BatchIterator batches(split, source, options.batch_size, false, 0, model_input);
  Tensor images, labels;
  int64_t offset = 0;
  while (offset < total && batches.next(images, labels)) {
    const int64_t b = std::min(images.dim(0), total - offset);
    if (b < images.dim(0)) images = images.narrow(0, b);
    nn::ActivationCapture capture({layer}, true);
    net(ag::Variable(images));
    const Tensor a = capture.get(layer).value();
    CS_CHECK(a.ndim() == 4, "top patches need a spatial layer (N, C, H, W); '"
                                << layer << "' gives " << shape_str(a.shape()));
    const int64_t c = a.dim(1), pq = a.dim(2) * a.dim(3);
    if (result.units.empty()) {
      result.layer_shape = {c, a.dim(2), a.dim(3)};
      result.units.resize(static_cast<size_t>(c));
    }
    // Per (image, channel): the strongest position, on the device.
    Tensor values = Tensor::empty({b * c, 1}, a.device());
    Tensor positions = Tensor::empty({b * c, 1}, a.device(), DType::I32);
    kernels::topk_rows(a.reshape({b * c, pq}), 1, values, positions);
    const std::vector<float> v = values.to_vector<float>();
    const std::vector<int32_t> pos = positions.to_vector<int32_t>();
    for (int64_t ch = 0; ch < c; ++ch) {
      std::vector<UnitActivation>& best = result.units[static_cast<size_t>(ch)];
      for (int64_t i = 0; i < b; ++i) {
        const int64_t j = i * c + ch;
        const UnitActivation cand{v[j], offset + i, pos[j] / a.dim(3), pos[j] % a.dim(3)};
        if (static_cast<int>(best.size()) < options.k) {
          best.push_back(cand);
          std::push_heap(best.begin(), best.end(), better);  // heap top: the worst kept
        } else if (better(cand, best.front())) {
          std::pop_heap(best.begin(), best.end(), better);
          best.back() = cand;
          std::push_heap(best.begin(), best.end(), better);
        }
      }
    }
    offset += b;
  }
  for (auto& best : result.units) std::sort_heap(best.begin(), best.end(), better);
  net.train(was_training);
  CS_CHECK(!result.units.empty(), "top patches: the dataset split is empty");
  return result;
}

std::vector<UnitPatches> patches_and_projections(nn::Module& net, const TopActivations& top,
                                                 const models::DataSplit& split,
                                                 const models::DataSource& source,
                                                 const Shape& model_input,
                                                 const std::vector<int64_t>& channels_in,
                                                 ag::ReluRule rule) {
  std::vector<int64_t> channels = channels_in;
  if (channels.empty())
    for (int64_t c = 0; c < static_cast<int64_t>(top.units.size()); ++c) channels.push_back(c);
  const Device device = split.images.device();
  std::vector<UnitPatches> out;
  for (int64_t ch : channels) {
    CS_CHECK(ch >= 0 && ch < static_cast<int64_t>(top.units.size()),
             "channel " << ch << " outside the layer's " << top.units.size());
    const std::vector<UnitActivation>& units = top.units[static_cast<size_t>(ch)];
    UnitPatches patches;
    if (units.empty()) {
      out.push_back(patches);
      continue;
    }
    // The unit's k images, prepared as the model sees them.
    std::vector<int32_t> rows;
    std::vector<UnitRef> refs;
    for (size_t r = 0; r < units.size(); ++r) {
      rows.push_back(static_cast<int32_t>(units[r].image));
      refs.push_back(UnitRef{static_cast<int64_t>(r), ch, units[r].p, units[r].q});
    }
    const int64_t k = static_cast<int64_t>(rows.size());
    const Shape image_shape = split.images.shape();
    Tensor raw = Tensor::empty({k, image_shape[1], image_shape[2], image_shape[3]}, device, DType::U8);
    kernels::gather_rows(split.images, Tensor::from_vector(rows, {k}, device), raw);
    const Tensor inputs = models::prepare_images(raw, source, model_input);
    const Tensor projections = project_units(net, inputs, top.layer, refs, rule);
    const Tensor inputs_cpu = inputs.to(Device::cpu());
    const int64_t h = inputs.dim(2), w = inputs.dim(3);
    for (int64_t r = 0; r < k; ++r) {
      const Box field = unit_field(top.rf, units[r].p, units[r].q);
      patches.patches.push_back(crop(inputs_cpu.narrow(r, 1).reshape({inputs.dim(1), h, w}), field));
      patches.projections.push_back(
          crop(projections.narrow(r, 1).reshape({inputs.dim(1), h, w}), field));
      patches.boxes.push_back(clip(field, h, w));
    }
    out.push_back(std::move(patches));
  }
  return out;
}

}  // namespace cs::viz
