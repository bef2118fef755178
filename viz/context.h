// What every visualization writer shares: the model, the data its images
// come from, and the run folder its pictures go to. Each writer puts its
// files in <run>/viz/<name>/ with one <variant>.section.json per variant
// (layer, image, rule...) describing its report section (heading, text,
// figures and captions), so `convscope report` gathers every visualization
// made for a run and a new variant never replaces another's section.
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

// A variant as a file-name stem: letters, digits, '-', '_' and '+' kept, the
// rest '_'; long ones shortened with a hash.
std::string variant_key(const std::string& variant);

// Writes <run>/viz/<name>/<variant_key(variant)>.section.json: the same
// technique and variant replaces its section, any other variant adds one.
// `order` places the technique in the report, `suborder` the variant within it
// (e.g. the layer's depth); ties go by variant name.
void save_section(const VizContext& ctx, const std::string& name, const std::string& variant, int order,
                  const Section& section, int suborder = 0);
// Writes <dir>/section.json (figure paths relative to the run folder).
void save_section_file(const std::string& dir, int order, const Section& section);

struct SavedSection {
  int order = 0, suborder = 0;
  std::string file;  // the section file, for messages
  Section section;   // figure paths relative to the run folder
};
// Every section.json and *.section.json under <run>/ (one folder deep) and
// <run>/viz/*/, sorted by (order, suborder, file name).
std::vector<SavedSection> load_sections(const std::string& run_dir);

// Images named on the command line or by a writer: test images by index and
// image files (PNG/JPEG, resized and centre-cropped to the model's input).
struct InputImages {
  Tensor batch;                 // (B, C, H, W) prepared, on the model's device
  std::vector<int64_t> labels;  // true class per image; -1 for files (unknown)
  std::vector<std::string> names;  // "test 12" or the file name
  std::vector<std::string> keys;   // file-name stems: "test12", "file_<stem>"
};
// Test images first, then files. Throws naming the index or file when one is bad.
InputImages input_images(const VizContext& ctx, const std::vector<int64_t>& test_indices,
                         const std::vector<std::string>& files);
// One image file prepared for the model: (C, H, W) on the model's device.
Tensor prepared_image_file(const VizContext& ctx, const std::string& file);

// Test images by index, prepared for the model: (B, C, H, W) on the model's device.
Tensor prepared_test_images(const VizContext& ctx, const std::vector<int64_t>& indices);
// The first test image of every class (in class order), up to `per_class` each.
std::vector<int64_t> one_image_per_class(const VizContext& ctx, int per_class = 1);
// A prepared input (C, H, W) (or (1, C, H, W)) back to a picture: denormalised to [0, 1].
Image input_picture(const VizContext& ctx, const Tensor& input);
const std::string& class_name(const VizContext& ctx, int64_t c);

}  // namespace cs::viz
