// What every visualization writer shares: the model, the data its images
// come from, and the run folder its pictures go to. Each writer puts its
// files in <run>/viz/<name>/ with a section.json describing its report
// section (heading, text, figures and captions), so `convscope report` can
// gather every visualization made for a run.
#pragma once

#include <string>
#include <vector>

#include "models/data.h"
#include "models/netspec.h"
#include "viz/image.h"
#include "viz/report.h"

namespace cs::viz {

struct VizContext {
  models::Model* model = nullptr;           // on `device`
  const models::DataSource* data = nullptr;  // images come from data->test
  std::string run_dir;
  Device device;
};

// <run>/viz/<name>, created.
std::string output_dir(const VizContext& ctx, const std::string& name);
// <name>/<file> relative to the run folder, for report figures.
std::string relative_path(const std::string& name, const std::string& file);

// Writes <run>/viz/<name>/section.json; `order` places it in the report.
void save_section(const VizContext& ctx, const std::string& name, int order, const Section& section);
// Writes <dir>/section.json (figure paths relative to the run folder).
void save_section_file(const std::string& dir, int order, const Section& section);

struct SavedSection {
  int order = 0;
  Section section;  // figure paths relative to the run folder
};
// Every section.json under <run>/ (one folder deep) and <run>/viz/, sorted by order.
std::vector<SavedSection> load_sections(const std::string& run_dir);

// Test images by index, prepared for the model: (B, C, H, W) on the model's device.
Tensor prepared_test_images(const VizContext& ctx, const std::vector<int64_t>& indices);
// The first test image of every class (in class order), up to `per_class` each.
std::vector<int64_t> one_image_per_class(const VizContext& ctx, int per_class = 1);
// A prepared input (C, H, W) (or (1, C, H, W)) back to a picture: denormalised to [0, 1].
Image input_picture(const VizContext& ctx, const Tensor& input);
const std::string& class_name(const VizContext& ctx, int64_t c);

}  // namespace cs::viz
