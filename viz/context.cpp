#include "viz/context.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kernels/image_ops.h"
#include "kernels/tensor_ops.h"
#include "models/image_folder.h"
#include "runtime/file_io.h"

namespace cs::viz {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string output_dir(const VizContext& ctx, const std::string& name) {
  const std::string dir = ctx.run_dir + "/viz/" + name;
  make_directories(dir);
  return dir;
}

std::string relative_path(const std::string& name, const std::string& file) {
  return "viz/" + name + "/" + file;
}

std::string variant_key(const std::string& variant) {
  std::string key = variant.empty() ? "default" : variant;
  for (char& ch : key)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '+') ch = '_';
  // Long lists of images or layers: a prefix and a hash keep file names short and distinct.
  if (key.size() > 80) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (char ch : key) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    key = key.substr(0, 60) + "_" + hex;
  }
  return key;
}

namespace {

json section_json(int order, int suborder, const Section& s) {
  json figures = json::array();
  for (const Figure& f : s.figures)
    figures.push_back({{"path", f.path}, {"caption", f.caption}, {"width", f.width}, {"data", f.data_files}});
  json tables = json::array();
  for (const Table& t : s.tables) tables.push_back({{"header", t.header}, {"rows", t.rows}});
  return {{"order", order}, {"suborder", suborder}, {"heading", s.heading}, {"text", s.text},
          {"figures", figures}, {"tables", tables}};
}

bool is_section_file(const fs::path& p) {
  const std::string name = p.filename().string();
  const std::string suffix = ".section.json";
  return name == "section.json" ||
         (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0);
}

}  // namespace

void save_section(const VizContext& ctx, const std::string& name, const std::string& variant, int order,
                  const Section& s, int suborder) {
  const std::string dir = output_dir(ctx, name);
  // A section.json from before sections were keyed would duplicate this one.
  std::error_code ec;
  fs::remove(dir + "/section.json", ec);
  write_file_atomic(dir + "/" + variant_key(variant) + ".section.json", section_json(order, suborder, s).dump(2) + "\n");
}

void save_section_file(const std::string& dir, int order, const Section& s) {
  make_directories(dir);
  write_file_atomic(dir + "/section.json", section_json(order, 0, s).dump(2) + "\n");
}

std::vector<SavedSection> load_sections(const std::string& run_dir) {
  std::vector<SavedSection> out;
  std::vector<fs::path> files;
  for (const fs::path& base : {fs::path(run_dir), fs::path(run_dir) / "viz"}) {
    if (!fs::is_directory(base)) continue;
    for (const auto& e : fs::directory_iterator(base)) {
      if (!e.is_directory()) continue;
      for (const auto& f : fs::directory_iterator(e.path()))
        if (f.is_regular_file() && is_section_file(f.path())) files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    try {
      const json j = json::parse(read_file_text(file.string()));
      SavedSection s;
      s.order = j.at("order").get<int>();
      s.suborder = j.value("suborder", 0);
      s.file = file.string();
      s.section.heading = j.at("heading").get<std::string>();
      s.section.text = j.value("text", "");
      for (const json& f : j.at("figures")) {
        Figure fig;
        fig.path = f.at("path").get<std::string>();
        fig.caption = f.value("caption", "");
        fig.width = f.value("width", 0);
        fig.data_files = f.value("data", std::vector<std::string>{});
        s.section.figures.push_back(fig);
      }
      for (const json& t : j.value("tables", json::array())) {
        Table table;
        table.header = t.at("header").get<std::vector<std::string>>();
        table.rows = t.at("rows").get<std::vector<std::vector<std::string>>>();
        s.section.tables.push_back(table);
      }
      out.push_back(s);
    } catch (const json::exception& e) {
      CS_FAIL(file.string() << " is not a valid report section: " << e.what());
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const SavedSection& a, const SavedSection& b) {
    return a.order != b.order ? a.order < b.order : a.suborder < b.suborder;
  });
  return out;
}

Tensor prepared_test_images(const VizContext& ctx, const std::vector<int64_t>& indices) {
  const models::DataSplit& split = ctx.data->test;
  std::vector<int32_t> rows;
  for (int64_t i : indices) {
    CS_CHECK(i >= 0 && i < split.size(), "test image " << i << " does not exist (the test set has "
                                                        << split.size() << ")");
    rows.push_back(static_cast<int32_t>(i));
  }
  const int64_t n = static_cast<int64_t>(rows.size());
  const Shape s = split.images.shape();
  Tensor raw = Tensor::empty({n, s[1], s[2], s[3]}, split.images.device(), DType::U8);
  kernels::gather_rows(split.images, Tensor::from_vector(rows, {n}, split.images.device()), raw);
  // Larger stored images (image folders) are centre-cropped to the model's size first.
  const Shape& in = ctx.model->input_shape;
  if (s[2] > in[1] || s[3] > in[2]) {
    const int64_t h = std::min(s[2], in[1]), w = std::min(s[3], in[2]);
    std::vector<int32_t> params;
    for (int64_t i = 0; i < n; ++i) {
      params.push_back(static_cast<int32_t>((s[2] - h) / 2));
      params.push_back(static_cast<int32_t>((s[3] - w) / 2));
      params.push_back(0);
    }
    Tensor cropped = Tensor::empty({n, s[1], h, w}, raw.device(), DType::U8);
    kernels::crop_flip(raw, Tensor::from_vector(params, {n, 3}, raw.device()), cropped);
    raw = cropped;
  }
  return models::prepare_images(raw.to(ctx.device), *ctx.data, in);
}

Tensor prepared_image_file(const VizContext& ctx, const std::string& file) {
  CS_CHECK(file_exists(file), "cannot find the image file " << file);
  const Shape& in = ctx.model->input_shape;
  const Tensor image = models::load_image_resized(file, static_cast<int>(in[0]), std::max(in[1], in[2]));
  const Tensor batch = image.reshape({1, image.dim(0), image.dim(1), image.dim(2)}).to(ctx.device);
  const Tensor x = models::prepare_images(batch, *ctx.data, in);
  return x.reshape({x.dim(1), x.dim(2), x.dim(3)});
}

InputImages input_images(const VizContext& ctx, const std::vector<int64_t>& test_indices,
                         const std::vector<std::string>& files) {
  InputImages out;
  std::vector<Tensor> parts;
  if (!test_indices.empty()) {
    parts.push_back(prepared_test_images(ctx, test_indices));
    for (int64_t i : test_indices) {
      out.labels.push_back(ctx.data->test.labels_host[static_cast<size_t>(i)]);
      out.names.push_back("test " + std::to_string(i));
      out.keys.push_back("test" + std::to_string(i));
    }
  }
  for (const std::string& f : files) {
    const Tensor x = prepared_image_file(ctx, f);  // (C, H, W)
    parts.push_back(x.reshape({1, x.dim(0), x.dim(1), x.dim(2)}));
    out.labels.push_back(-1);
    out.names.push_back(fs::path(f).filename().string());
    out.keys.push_back("file_" + variant_key(fs::path(f).stem().string()));
  }
  CS_CHECK(!parts.empty(), "no input images: name test images (--images N ...) or files (--image FILE)");
  if (parts.size() == 1) {
    out.batch = parts[0];
    return out;
  }
  // Concatenate along the batch: every part is (b_i, C, H, W) with the model's input shape.
  const Shape& in = ctx.model->input_shape;
  const int64_t n = static_cast<int64_t>(out.labels.size());
  out.batch = Tensor::empty({n, in[0], in[1], in[2]}, ctx.device);
  int64_t at = 0;
  for (const Tensor& p : parts) {
    out.batch.narrow(at, p.dim(0)).copy_from(p);
    at += p.dim(0);
  }
  return out;
}

std::vector<int64_t> one_image_per_class(const VizContext& ctx, int per_class) {
  const std::vector<int32_t>& labels = ctx.data->test.labels_host;
  const size_t classes = ctx.data->class_names.size();
  std::vector<std::vector<int64_t>> by_class(classes);
  for (size_t i = 0; i < labels.size(); ++i)
    if (static_cast<int>(by_class[labels[i]].size()) < per_class) by_class[labels[i]].push_back(static_cast<int64_t>(i));
  std::vector<int64_t> out;
  for (const auto& list : by_class) out.insert(out.end(), list.begin(), list.end());
  return out;
}

Image input_picture(const VizContext& ctx, const Tensor& input) {
  const Tensor x = input.ndim() == 4 ? input.reshape({input.dim(1), input.dim(2), input.dim(3)}) : input;
  std::vector<float> v = x.to(Device::cpu()).to_vector<float>();
  const int64_t c = x.dim(0), hw = x.dim(1) * x.dim(2);
  const std::vector<float>& mean = ctx.data->mean;
  const std::vector<float>& std = ctx.data->std;
  for (int64_t ch = 0; ch < c; ++ch) {
    const size_t k = mean.size() == 1 ? 0 : static_cast<size_t>(ch);
    for (int64_t i = 0; i < hw; ++i) v[ch * hw + i] = v[ch * hw + i] * std[k] + mean[k];
  }
  return to_image(Tensor::from_vector(v, x.shape()), Normalization::fixed(0.0, 1.0));
}

const std::string& class_name(const VizContext& ctx, int64_t c) {
  static const std::string unknown = "?";
  const auto& names = ctx.data->class_names;
  return c >= 0 && c < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(c)] : unknown;
}

}  // namespace cs::viz
