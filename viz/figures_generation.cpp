// Features back into pictures: DeepDream at several layers, style transfer.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "kernels/random.h"
#include "models/checkpoint.h"
#include "models/summary.h"
#include <nlohmann/json.hpp>

#include "runtime/file_io.h"
#include "runtime/npy.h"
#include "viz/csv.h"
#include "viz/deepdream.h"
#include "viz/figures.h"
#include "viz/filters.h"
#include "viz/grid.h"
#include "viz/style_transfer.h"
#include "viz/svg.h"

namespace cs::viz {

namespace {

int scale_for(int64_t size) { return static_cast<int>(std::max<int64_t>(1, (128 + size - 1) / size)); }

// The valid range of normalised inputs: pixel values 0 and 1.
std::pair<double, double> input_range(const VizContext& ctx) {
  double lo = 1e30, hi = -1e30;
  for (size_t c = 0; c < ctx.data->mean.size(); ++c) {
    lo = std::min(lo, (0.0 - ctx.data->mean[c]) / ctx.data->std[c]);
    hi = std::max(hi, (1.0 - ctx.data->mean[c]) / ctx.data->std[c]);
  }
  return {lo, hi};
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string stem(const std::string& file) { return std::filesystem::path(file).stem().string(); }

}  // namespace

void dream_figure(VizContext& ctx, const DreamFigureOptions& o) {
  nn::Module& net = *ctx.model->net;
  std::vector<std::string> layers = o.layers;
  if (layers.empty()) {
    const std::vector<std::string> convs = conv_layers(net);
    layers = {convs.front(), convs[convs.size() / 2], convs.back()};
    layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
  }
  const Shape& in = ctx.model->input_shape;
  CS_CHECK(o.octaves >= 1 && o.steps >= 1, "dream: --octaves and --steps must be at least 1");
  CS_CHECK(o.octave_scale >= 1.0, "dream: --octave-scale must be at least 1, got " << o.octave_scale);
  CS_CHECK(o.step_size > 0, "dream: --step-size must be positive, got " << o.step_size);
  CS_CHECK(o.jitter >= -1, "dream: --jitter must be 0 (off) or more pixels, got " << o.jitter);
  Tensor start;
  std::string start_key, start_caption = "start", start_name;
  if (o.noise) {
    start = Tensor::empty(in, ctx.device);
    kernels::normal_(start, 7, 0, 0.0, 0.3);
    start_key = "noise";
    start_caption = "start: noise";
    start_name = "noise";
  } else if (!o.image_file.empty()) {
    start = prepared_image_file(ctx, o.image_file);
    start_key = "file_" + stem(o.image_file);
    start_name = std::filesystem::path(o.image_file).filename().string();
  } else {
    const int64_t index = std::max<int64_t>(o.image, 0);
    start = prepared_test_images(ctx, {index}).reshape(in);
    start_key = "test" + std::to_string(index);
    start_name = "test image " + std::to_string(index);
  }
  std::vector<std::string> channel_names;
  for (int64_t c : o.channels) channel_names.push_back(std::to_string(c));
  const std::string variant = variant_key(start_key + (o.layers.empty() ? "" : "_" + join(layers, "+")) +
                                          (o.channels.empty() ? "" : "_ch" + join(channel_names, "+")));
  const auto [lo, hi] = input_range(ctx);
  const std::string name = "deepdream";
  const std::string dir = output_dir(ctx, name);
  std::vector<Image> tiles = {enlarge(input_picture(ctx, start), scale_for(std::max(in[1], in[2])))};
  std::vector<std::string> captions = {start_caption};
  std::vector<Series> curves;
  for (const std::string& layer : layers) {
    DreamOptions d;
    d.layer = layer;
    d.channels = o.channels;
    d.octaves = o.octaves;
    d.octave_scale = o.octave_scale;
    d.steps = o.steps;
    d.step_size = o.step_size;
    d.clip_low = lo;
    d.clip_high = hi;
    d.jitter = o.jitter >= 0 ? o.jitter : static_cast<int>(std::max<int64_t>(1, std::max(in[1], in[2]) / 14));
    const DreamResult r = deep_dream(net, start, d);
    std::string base = layer;
    std::replace(base.begin(), base.end(), '.', '_');
    base = variant + "_" + base;
    save_npy(dir + "/" + base + ".npy", r.image);
    input_picture(ctx, r.image).save_png(dir + "/" + base + ".png");
    for (size_t k = 0; k < r.octave_images.size(); ++k)
      input_picture(ctx, r.octave_images[k]).save_png(dir + "/" + base + "_octave" + std::to_string(k) + ".png");
    tiles.push_back(enlarge(input_picture(ctx, r.image), scale_for(std::max(in[1], in[2]))));
    captions.push_back(layer);
    Series s{layer, {}, {}};
    int step = 0;
    for (const auto& octave : r.objective)
      for (double v : octave) {
        s.x.push_back(step++);
        s.y.push_back(v);
      }
    curves.push_back(s);
  }
  GridOptions grid;
  grid.cols = static_cast<int>(tiles.size());
  grid.captions = captions;
  make_grid(tiles, grid).save_png(dir + "/" + variant + ".png");
  LinePlotOptions plot;
  plot.text = {"DeepDream objective 1/2 |a|^2 per step (octaves back to back)", "step", "objective"};
  plot.log_y = true;
  save_svg(dir + "/" + variant + "_objective.svg", line_plot(curves, plot));
  Section section;
  section.heading = "DeepDream from " + start_name +
                    (o.channels.empty() ? std::string() : " (channels " + join(channel_names, ", ") + ")");
  char text[300];
  std::snprintf(text, sizeof text,
                "%d octaves x %d steps: each step adds the normalised gradient of 1/2 |a|^2 at one layer to "
                "the image, so the image grows more of what that layer already sees.",
                o.octaves, o.steps);
  section.text = text;
  section.figures.push_back({relative_path(name, variant + ".png"),
                             "The starting image and the dream at each layer, shallow to deep: early layers "
                             "amplify edges and strokes, deeper layers parts and textures.",
                             0, {}});
  section.figures.push_back(
      {relative_path(name, variant + "_objective.svg"), "The objective rises within every octave.", 0, {}});
  save_section(ctx, name, variant, 50, section);
}

void style_figure(VizContext& ctx, const StyleFigureOptions& o) {
  nn::Module& net = *ctx.model->net;
  const Shape& in = ctx.model->input_shape;
  const Tensor content = o.content_file.empty() ? prepared_test_images(ctx, {o.content}).reshape(in)
                                                : prepared_image_file(ctx, o.content_file);
  const Tensor style = o.style_file.empty() ? prepared_test_images(ctx, {o.style}).reshape(in)
                                            : prepared_image_file(ctx, o.style_file);
  CS_CHECK(o.init == "content" || o.init == "noise", "style: --init must be content or noise, got '" << o.init << "'");
  CS_CHECK(o.optimizer == "lbfgs" || o.optimizer == "adam",
           "style: --optimizer must be lbfgs or adam, got '" << o.optimizer << "'");
  CS_CHECK(o.steps >= 1, "style: --steps must be at least 1, got " << o.steps);
  CS_CHECK(o.content_weight >= 0 && o.style_weight >= 0 && o.tv_weight >= 0,
           "style: --content-weight, --style-weight and --tv-weight must be >= 0");
  CS_CHECK(o.frame_every >= -1, "style: --frame-every must be 0 (none) or more steps, got " << o.frame_every);
  const std::vector<std::string> convs = conv_layers(net);
  StyleOptions s;
  s.content_layer = o.content_layer.empty() ? convs[convs.size() >= 2 ? convs.size() - 2 : 0] : o.content_layer;
  s.style_layers = o.style_layers.empty() ? convs : o.style_layers;
  s.optimizer = o.optimizer;
  s.steps = o.steps;
  s.start_from_content = o.init == "content";
  s.content_weight = o.content_weight;
  s.style_weight = o.style_weight;
  s.tv_weight = o.tv_weight;
  s.frame_every = o.frame_every >= 0 ? o.frame_every : std::max(1, o.steps / 4);
  const StyleResult r = style_transfer(net, content, style, s);
  const std::string name = "style_transfer";
  const std::string dir = output_dir(ctx, name);
  const std::string variant = variant_key(
      (o.content_file.empty() ? "test" + std::to_string(o.content) : "file_" + stem(o.content_file)) + "_in_" +
      (o.style_file.empty() ? "test" + std::to_string(o.style) : "file_" + stem(o.style_file)) + "_" + o.optimizer +
      "_from_" + o.init);
  save_npy(dir + "/" + variant + "_stylised.npy", r.image);
  const int scale = scale_for(std::max(in[1], in[2]));
  input_picture(ctx, r.image).save_png(dir + "/" + variant + "_stylised.png");
  std::vector<Image> tiles = {enlarge(input_picture(ctx, content), scale), enlarge(input_picture(ctx, style), scale)};
  std::vector<std::string> captions = {"content", "style"};
  for (size_t f = 0; f < r.frames.size(); ++f) {
    tiles.push_back(enlarge(input_picture(ctx, r.frames[f]), scale));
    captions.push_back("step " + std::to_string(r.frame_steps[f]));
  }
  tiles.push_back(enlarge(input_picture(ctx, r.image), scale));
  captions.push_back("result");
  GridOptions grid;
  grid.cols = static_cast<int>(tiles.size());
  grid.captions = captions;
  make_grid(tiles, grid).save_png(dir + "/" + variant + ".png");
  Series content_loss{"content", {}, {}}, style_loss{"style", {}, {}}, tv{"total variation", {}, {}};
  CsvWriter csv({"step", "content", "style", "tv", "total"});
  for (size_t i = 0; i < r.history.size(); ++i) {
    const double x = static_cast<double>(i);
    content_loss.x.push_back(x);
    content_loss.y.push_back(r.history[i].content);
    style_loss.x.push_back(x);
    style_loss.y.push_back(r.history[i].style);
    tv.x.push_back(x);
    tv.y.push_back(r.history[i].tv);
    csv.add_numbers({x, r.history[i].content, r.history[i].style, r.history[i].tv, r.history[i].total});
  }
  csv.save(dir + "/" + variant + "_losses.csv");
  LinePlotOptions plot;
  plot.text = {"Style transfer losses (" + o.optimizer + ")", o.optimizer == "lbfgs" ? "iteration" : "step", "weighted loss"};
  plot.log_y = true;
  save_svg(dir + "/" + variant + "_losses.svg", line_plot({content_loss, style_loss, tv}, plot));
  Section section;
  const std::string content_name = o.content_file.empty() ? "test image " + std::to_string(o.content)
                                                         : std::filesystem::path(o.content_file).filename().string();
  const std::string style_name = o.style_file.empty() ? "test image " + std::to_string(o.style)
                                                     : std::filesystem::path(o.style_file).filename().string();
  section.heading = "Style transfer: " + content_name + " in the style of " + style_name + " (" + o.optimizer +
                    ", from " + o.init + ")";
  section.text = "Gatys et al. (2016) on this network: content matched at " + s.content_layer +
                 ", style as the Gram matrices (the custom Gram kernel) of " + std::to_string(s.style_layers.size()) +
                 " layers, total variation for smoothness, optimised with " + o.optimizer + " from the " +
                 (o.init == "content" ? "content image" : "noise") + ".";
  section.figures.push_back({relative_path(name, variant + ".png"),
                             "Content and style images, frames of the optimisation, and the result.", 0,
                             {relative_path(name, variant + "_stylised.npy")}});
  section.figures.push_back({relative_path(name, variant + "_losses.svg"),
                             "The style loss falls by orders of magnitude while the content loss stays bounded.", 0,
                             {relative_path(name, variant + "_losses.csv")}});
  save_section(ctx, name, variant, 51, section);
}

std::string write_run_report(const std::string& run_dir) {
  Report report("convscope run: " + run_dir);
  const std::string config_path = run_dir + "/config.json";
  nlohmann::json config = nlohmann::json::object();
  if (file_exists(config_path)) {
    try {
      config = nlohmann::json::parse(read_file_text(config_path));
    } catch (const nlohmann::json::exception& e) {
      CS_FAIL(config_path << " is not valid JSON: " << e.what());
    }
  }
  const nlohmann::json params = config.value("params", nlohmann::json::object());
  const nlohmann::json settings = config.value("settings", nlohmann::json::object());
  report.add_config("model", config.value("model", "?"));
  report.add_config("device", config.value("device", "?"));
  for (auto it = params.begin(); it != params.end(); ++it)
    report.add_config("param " + it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  for (auto it = settings.begin(); it != settings.end(); ++it)
    report.add_config(it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  // The model's layer table, rebuilt from the spec the run recorded.
  if (config.contains("spec")) {
    models::NetSpec spec = models::parse_net_spec(config["spec"].get<std::string>(), config.value("spec_source", "spec"));
    models::params_from_json(spec, params.dump());
    models::Model model = models::build_model(spec, 0);
    const models::ModelSummary summary = models::summarize(model);
    Section& m = report.add_section("Model", spec.name + ": " + std::to_string(summary.total_parameters) +
                                                 " parameters, " + models::format_count(static_cast<double>(summary.total_flops)) +
                                                 "FLOPs per image (forward).");
    Table table{{"layer", "type", "output", "parameters", "FLOPs"}, {}};
    for (const models::LayerRow& r : summary.rows)
      table.rows.push_back({r.path, r.description, shape_str(Shape(r.output.begin() + 1, r.output.end())),
                            std::to_string(r.parameters), models::format_count(static_cast<double>(r.flops))});
    m.tables.push_back(table);
  }
  for (const SavedSection& s : load_sections(run_dir)) {
    Section& out = report.add_section(s.section.heading, s.section.text);
    out.figures = s.section.figures;
    out.tables = s.section.tables;
  }
  const std::vector<std::string> missing = report.missing_files(run_dir);
  CS_CHECK(missing.empty(), "the report of " << run_dir << " refers to " << missing.size()
                                             << " missing files, e.g. " << missing.front());
  const std::string path = run_dir + "/report.html";
  report.save(path);
  return path;
}

}  // namespace cs::viz
