// Receptive fields: which input pixels each unit of a layer can see.
//
// Walking the layers in order, with k_eff = dilation * (k - 1) + 1:
//   jump_out  = jump_in * stride             (input pixels between neighbouring units)
//   size_out  = size_in + (k_eff - 1) * jump_in
//   first_out = first_in - pad * jump_in     (input coordinate where unit 0's field starts)
// Unit p of the layer then sees input rows [first + p*jump, first + p*jump + size).
// Layers without geometry (ReLU, batch norm, dropout) change nothing.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "layers/module.h"

namespace cs::viz {

struct ReceptiveField {
  int64_t size_h = 1, size_w = 1;
  int64_t jump_h = 1, jump_w = 1;
  int64_t first_h = 0, first_w = 0;
};

// Input-space rectangle [top, bottom) x [left, right).
struct Box {
  int64_t top = 0, left = 0, bottom = 0, right = 0;
  int64_t height() const { return bottom - top; }
  int64_t width() const { return right - left; }
};

// The receptive field of every leaf layer of `net`, in forward order, up to
// (and including) the first layer whose geometry is unknown to this
// arithmetic (adaptive pooling, flatten): spatial layers after it have none.
std::vector<std::pair<std::string, ReceptiveField>> receptive_fields(nn::Module& net);

// The field of one layer; throws naming the layer if it has none.
ReceptiveField receptive_field(nn::Module& net, const std::string& layer);

// The field of unit (p, q), unclipped and clipped to an in_h x in_w input.
Box unit_field(const ReceptiveField& rf, int64_t p, int64_t q);
Box clip(const Box& box, int64_t in_h, int64_t in_w);

}  // namespace cs::viz
