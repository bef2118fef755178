// The layer table of a model: every layer's name, description, output shape,
// parameter count and forward FLOPs for one example, plus totals.
#pragma once

#include <string>
#include <vector>

#include "models/netspec.h"

namespace cs::models {

struct LayerRow {
  std::string path;         // "features.0"
  std::string description;  // "Conv2d(1, 32, kernel=3x3, padding=1x1)"
  Shape output;             // for batch 1
  int64_t parameters = 0;
  int64_t flops = 0;
};

struct ModelSummary {
  std::vector<LayerRow> rows;
  int64_t total_parameters = 0;
  int64_t total_flops = 0;
  Shape input;  // (1, C, H, W)
};

ModelSummary summarize(Model& model);
// A readable fixed-width table.
std::string format_summary(const ModelSummary& summary, const std::string& title);
// "1.23 M", "45.6 k", "789"
std::string format_count(double n);

}  // namespace cs::models
