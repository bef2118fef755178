#include "models/summary.h"

#include <cstdio>
#include <sstream>

namespace cs::models {

std::string format_count(double n) {
  char text[32];
  if (n >= 1e9)
    std::snprintf(text, sizeof text, "%.2f G", n / 1e9);
  else if (n >= 1e6)
    std::snprintf(text, sizeof text, "%.2f M", n / 1e6);
  else if (n >= 1e4)
    std::snprintf(text, sizeof text, "%.1f k", n / 1e3);
  else
    std::snprintf(text, sizeof text, "%.0f", n);
  return text;
}

ModelSummary summarize(Model& model) {
  ModelSummary s;
  s.input = {1, model.input_shape[0], model.input_shape[1], model.input_shape[2]};
  Shape shape = s.input;
  for (auto& [path, module] : model.net->leaves()) {
    LayerRow row;
    row.path = path;
    row.description = module->describe();
    row.flops = module->flops(shape);
    shape = module->output_shape(shape);
    row.output = shape;
    row.parameters = module->parameter_count();
    s.total_parameters += row.parameters;
    s.total_flops += row.flops;
    s.rows.push_back(row);
  }
  return s;
}

std::string format_summary(const ModelSummary& summary, const std::string& title) {
  std::ostringstream out;
  char line[256];
  out << title << "  (input " << shape_str(summary.input) << ")\n";
  std::snprintf(line, sizeof line, "%-16s %-46s %-18s %12s %10s\n", "layer", "type", "output",
                "parameters", "FLOPs");
  out << line << std::string(106, '-') << "\n";
  for (const LayerRow& r : summary.rows) {
    Shape per_example(r.output.begin() + 1, r.output.end());
    std::snprintf(line, sizeof line, "%-16s %-46s %-18s %12lld %10s\n", r.path.c_str(),
                  r.description.c_str(), shape_str(per_example).c_str(),
                  static_cast<long long>(r.parameters), format_count(static_cast<double>(r.flops)).c_str());
    out << line;
  }
  out << std::string(106, '-') << "\n";
  std::snprintf(line, sizeof line, "total: %lld parameters (%s), %s FLOPs per example forward\n",
                static_cast<long long>(summary.total_parameters),
                format_count(static_cast<double>(summary.total_parameters)).c_str(),
                format_count(static_cast<double>(summary.total_flops)).c_str());
  out << line;
  return out.str();
}

}  // namespace cs::models
