#include "viz/receptive_field.h"

#include <algorithm>

namespace cs::viz {

std::vector<std::pair<std::string, ReceptiveField>> receptive_fields(nn::Module& net) {
  std::vector<std::pair<std::string, ReceptiveField>> out;
  ReceptiveField rf;
  for (auto& [path, layer] : net.leaves()) {
    const std::string& type = layer->type();
    if (type == "AdaptiveAvgPool2d" || type == "Flatten" || type == "Linear") break;
    if (const auto g = layer->geometry()) {
      const int64_t keff_h = static_cast<int64_t>(g->dilation_h) * (g->kernel_h - 1) + 1;
      const int64_t keff_w = static_cast<int64_t>(g->dilation_w) * (g->kernel_w - 1) + 1;
      rf.size_h += (keff_h - 1) * rf.jump_h;
      rf.size_w += (keff_w - 1) * rf.jump_w;
      rf.first_h -= g->pad_h * rf.jump_h;
      rf.first_w -= g->pad_w * rf.jump_w;
      rf.jump_h *= g->stride_h;
      rf.jump_w *= g->stride_w;
    }
    out.emplace_back(path, rf);
  }
  return out;
}

ReceptiveField receptive_field(nn::Module& net, const std::string& layer) {
  for (const auto& [path, rf] : receptive_fields(net))
    if (path == layer) return rf;
  CS_FAIL("layer '" << layer << "' has no receptive field in input space (it is not a "
                    << "convolutional-part layer of this model; see `convscope summary`)");
}

Box unit_field(const ReceptiveField& rf, int64_t p, int64_t q) {
  Box b;
  b.top = rf.first_h + p * rf.jump_h;
  b.left = rf.first_w + q * rf.jump_w;
  b.bottom = b.top + rf.size_h;
  b.right = b.left + rf.size_w;
  return b;
}

Box clip(const Box& box, int64_t in_h, int64_t in_w) {
  Box b;
  b.top = std::clamp<int64_t>(box.top, 0, in_h);
  b.left = std::clamp<int64_t>(box.left, 0, in_w);
  b.bottom = std::clamp<int64_t>(box.bottom, 0, in_h);
  b.right = std::clamp<int64_t>(box.right, 0, in_w);
  return b;
}

}  // namespace cs::viz
