// Why it decided: saliency, guided backpropagation, Grad-CAM, guided
// Grad-CAM, SmoothGrad, occlusion and class-model images.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "runtime/npy.h"
#include "viz/attribution.h"
#include "viz/class_model.h"
#include "viz/colormap.h"
#include "viz/csv.h"
#include "viz/figures.h"
#include "viz/filters.h"
#include "viz/grid.h"
#include "viz/feature_maps.h"
#include "viz/occlusion.h"
#include "viz/projection.h"

namespace cs::viz {

namespace {

std::string fs_stem(const std::string& file) { return std::filesystem::path(file).stem().string(); }

int scale_for(int64_t size) { return static_cast<int>(std::max<int64_t>(1, (96 + size - 1) / size)); }

// One image's (C, H, W) slice of a (B, C, H, W) CPU tensor.
Tensor slice(const Tensor& batch, int64_t i) {
  Shape s(batch.shape().begin() + 1, batch.shape().end());
  return batch.narrow(i, 1).reshape(s);
}

// A signed (C, H, W) gradient as a picture: for one channel blue-white-red;
// for RGB, the gradient itself shifted so zero is mid-gray (as the guided
// backprop papers show it).
Image signed_picture(const Tensor& g) {
  if (g.dim(0) == 1) return colorize(g.reshape({g.dim(1), g.dim(2)}), colormap("bwr"), Normalization::symmetric());
  return to_image(g, Normalization::symmetric());
}

// The most spatially detailed conv layer whose map is still coarse: the last conv's ReLU.
std::string default_cam_layer(nn::Module& net) {
  const std::vector<std::string> convs = conv_layers(net);
  CS_CHECK(!convs.empty(), "Grad-CAM needs a convolution layer");
  std::string best = convs.back();
  const auto leaves = net.leaves();
  for (size_t i = 0; i < leaves.size(); ++i)
    if (leaves[i].first == convs.back())
      for (size_t j = i + 1; j < leaves.size() && leaves[j].second->type() != "Conv2d"; ++j)
        if (leaves[j].second->type() == "ReLU") return leaves[j].first;
  return best;
}

}  // namespace

namespace {

const std::vector<std::string>& attribution_techniques() {
  static const std::vector<std::string> names = {"saliency", "guided-backprop", "gradcam", "guided-gradcam",
                                                 "smoothgrad"};
  return names;
}

// A short name for a list of images: the per-class default, or their keys.
std::string images_key(const InputImages& in, bool per_class) {
  if (per_class) return "per-class";
  std::string key;
  for (size_t i = 0; i < in.keys.size(); ++i) key += (i ? "+" : "") + in.keys[i];
  return key;
}

// Where channel `unit` of `layer` is strongest for one image (1, C, H, W).
UnitRef strongest_position(nn::Module& net, const Tensor& image, const std::string& layer, int64_t unit,
                           int64_t batch_index) {
  const Tensor maps = feature_maps(net, image, layer);  // (C, h, w) or (C)
  CS_CHECK(unit >= 0 && unit < maps.dim(0),
           "--unit " << unit << " does not exist: layer '" << layer << "' has " << maps.dim(0) << " channels");
  UnitRef u{batch_index, unit, 0, 0};
  if (maps.ndim() != 3) return u;
  const int64_t h = maps.dim(1), w = maps.dim(2);
  const std::vector<float> v = maps.narrow(unit, 1).to_vector<float>();
  const auto best = std::max_element(v.begin(), v.end()) - v.begin();
  u.p = best / w;
  u.q = best % w;
  (void)h;
  return u;
}

}  // namespace

std::vector<std::string> attribution_technique_names() { return attribution_techniques(); }

void attribution_figure(VizContext& ctx, const AttributionFigureOptions& o) {
  nn::Module& net = *ctx.model->net;
  const bool per_class = o.images.empty() && o.files.empty();
  const InputImages in = input_images(ctx, per_class ? one_image_per_class(ctx) : o.images, o.files);
  std::vector<std::string> techniques = o.techniques.empty() ? attribution_techniques() : o.techniques;
  for (const std::string& t : techniques) {
    const auto& known = attribution_techniques();
    CS_CHECK(std::find(known.begin(), known.end(), t) != known.end(),
             "attribution: unknown technique '" << t << "' (saliency, guided-backprop, gradcam, guided-gradcam or smoothgrad)");
  }
  auto wants = [&](const char* t) { return std::find(techniques.begin(), techniques.end(), t) != techniques.end(); };
  const bool unit_mode = !o.unit_layer.empty();
  CS_CHECK(!unit_mode || o.unit >= 0, "guided backprop of a unit needs --unit N (>= 0) with --layer");
  const std::string cam_layer = o.cam_layer.empty() ? default_cam_layer(net) : o.cam_layer;
  const Tensor& inputs = in.batch;  // (B, C, H, W)
  const int64_t b = inputs.dim(0), h = inputs.dim(2), w = inputs.dim(3);
  if (o.target_class >= 0)
    CS_CHECK(o.target_class < ctx.model->classes,
             "--class " << o.target_class << " does not exist: the model has " << ctx.model->classes << " classes");
  std::vector<int> classes = o.target_class >= 0 ? std::vector<int>(static_cast<size_t>(b), o.target_class)
                                                 : predict_classes(net, inputs);
  const std::string name = "attribution";
  const std::string dir = output_dir(ctx, name);
  const std::string class_key = o.target_class >= 0 ? "class" + std::to_string(o.target_class) : "predicted";
  const std::string unit_key = unit_mode ? "_unit_" + o.unit_layer + "_" + std::to_string(o.unit) : "";
  const std::string variant = variant_key((o.techniques.empty() ? "all" : [&] {
    std::string t;
    for (size_t i = 0; i < techniques.size(); ++i) t += (i ? "+" : "") + techniques[i];
    return t;
  }()) + "_" + class_key + unit_key + "_" + images_key(in, per_class));
  std::vector<std::string> data_files;
  auto save = [&](const std::string& what, const Tensor& t) {
    save_npy(dir + "/" + variant + "_" + what + ".npy", t);
    data_files.push_back(relative_path(name, variant + "_" + what + ".npy"));
  };

  // Every map is computed once for the whole batch.
  InputGradients saliency, guided, smooth;
  GradCam cam;
  Tensor unit_projection;  // (B, C, H, W): guided backprop of the unit's strongest activation
  std::vector<float> scores(static_cast<size_t>(b), 0.0f);
  // Always: it gives the class scores for the table.
  saliency = class_gradients(net, inputs, classes, ag::ReluRule::Standard);
  scores = saliency.scores;
  if (wants("saliency")) {
    save("saliency", saliency.maps);
    save("saliency_signed", saliency.gradients);
  }
  if (wants("guided-backprop") || wants("guided-gradcam")) {
    guided = class_gradients(net, inputs, classes, ag::ReluRule::Guided);
    if (wants("guided-backprop") && !unit_mode) save("guided_backprop", guided.gradients);
  }
  if (unit_mode && wants("guided-backprop")) {
    std::vector<UnitRef> units;
    for (int64_t i = 0; i < b; ++i) units.push_back(strongest_position(net, inputs.narrow(i, 1), o.unit_layer, o.unit, i));
    unit_projection = project_units(net, inputs, o.unit_layer, units, ag::ReluRule::Guided);
    save("guided_backprop_unit", unit_projection);
  }
  if (wants("gradcam") || wants("guided-gradcam")) {
    cam = grad_cam(net, inputs, classes, cam_layer);
    save("grad_cam", cam.maps);
  }
  if (wants("smoothgrad")) {
    SmoothGradOptions sg;
    sg.samples = o.smoothgrad_samples;
    sg.noise = o.smoothgrad_noise;
    smooth = smooth_grad(net, inputs, classes, sg);
    save("smoothgrad", smooth.maps);
  }

  const int scale = scale_for(std::max(h, w));
  std::vector<Image> tiles;
  std::vector<std::string> row_labels, col_labels = {"input"};
  for (const std::string& t : techniques)
    col_labels.push_back(t == "guided-backprop" && unit_mode ? "guided BP, unit " + std::to_string(o.unit)
                         : t == "gradcam"                   ? "Grad-CAM"
                         : t == "guided-gradcam"            ? "guided Grad-CAM"
                         : t == "smoothgrad"                ? "SmoothGrad"
                         : t == "guided-backprop"           ? "guided backprop"
                                                            : t);
  CsvWriter csv({"image", "true_class", "target_class", "score"});
  for (int64_t i = 0; i < b; ++i) {
    const int64_t truth = in.labels[static_cast<size_t>(i)];
    const std::string from = truth >= 0 ? class_name(ctx, truth) : in.names[static_cast<size_t>(i)];
    row_labels.push_back(from + " -> " + class_name(ctx, classes[i]));
    csv.add_row({in.names[static_cast<size_t>(i)], truth >= 0 ? class_name(ctx, truth) : std::string("?"),
                 class_name(ctx, classes[i]), static_cast<double>(scores[i])});
    const Image input = input_picture(ctx, inputs.narrow(i, 1));
    OverlayOptions overlay;
    overlay.alpha = 0.6;
    tiles.push_back(enlarge(input, scale));
    for (const std::string& t : techniques) {
      if (t == "saliency") {
        tiles.push_back(enlarge(colorize(saliency.maps.narrow(i, 1).reshape({h, w}), colormap("inferno")), scale));
      } else if (t == "guided-backprop") {
        tiles.push_back(enlarge(signed_picture(unit_mode ? slice(unit_projection, i) : slice(guided.gradients, i)), scale));
      } else if (t == "gradcam") {
        tiles.push_back(enlarge(overlay_heatmap(input, cam.maps.narrow(i, 1).reshape({h, w}), colormap("inferno"), overlay), scale));
      } else if (t == "guided-gradcam") {
        // Guided backprop weighted by the (normalised) Grad-CAM map.
        const Tensor g = slice(guided.gradients, i);
        std::vector<float> gg = g.to_vector<float>(), cv = cam.maps.narrow(i, 1).reshape({h, w}).to_vector<float>();
        const float cam_max = std::max(1e-12f, *std::max_element(cv.begin(), cv.end()));
        for (int64_t c = 0; c < g.dim(0); ++c)
          for (int64_t j = 0; j < h * w; ++j) gg[c * h * w + j] *= cv[j] / cam_max;
        tiles.push_back(enlarge(signed_picture(Tensor::from_vector(gg, g.shape())), scale));
      } else if (t == "smoothgrad") {
        tiles.push_back(enlarge(colorize(smooth.maps.narrow(i, 1).reshape({h, w}), colormap("inferno")), scale));
      }
    }
  }
  csv.save(dir + "/" + variant + "_classes.csv");
  data_files.push_back(relative_path(name, variant + "_classes.csv"));
  GridOptions grid;
  grid.cols = static_cast<int>(col_labels.size());
  grid.row_labels = row_labels;
  grid.col_labels = col_labels;
  make_grid(tiles, grid).save_png(dir + "/" + variant + ".png");
  const std::string target = o.target_class >= 0 ? "class " + class_name(ctx, o.target_class) + "'s score"
                                                 : "predicted class's score";
  Section section;
  section.heading = std::string(o.techniques.size() == 1 ? "Which pixels matter: " + techniques[0] : "Which pixels matter") +
                    (per_class ? "" : " (" + std::to_string(b) + " chosen images)");
  section.text = std::string(per_class ? "For one test image of each class" : "For the chosen images") +
                 " (rows: true class or file -> target class), the gradient of the " + target +
                 " with respect to the pixels, computed on convscope's tape." +
                 (wants("gradcam") || wants("guided-gradcam") ? " Grad-CAM uses layer " + cam_layer + "." : "") +
                 (unit_mode ? " Guided backprop here starts from the strongest activation of unit " +
                                  std::to_string(o.unit) + " of " + o.unit_layer + " instead of a class score."
                            : "");
  std::string caption;
  if (wants("saliency")) caption += "Saliency (Simonyan et al.): |d score / d pixel|, bright where a small change moves the score most. ";
  if (wants("guided-backprop"))
    caption += "Guided backprop (Springenberg et al.): only positive gradients through active units; gray is zero, "
               "light pixels raise the score. ";
  if (wants("gradcam")) caption += "Grad-CAM (Selvaraju et al.): where the conv layer's class evidence lies, over the image. ";
  if (wants("guided-gradcam")) caption += "Guided Grad-CAM multiplies guided backprop by Grad-CAM. ";
  if (wants("smoothgrad")) caption += "SmoothGrad averages " + std::to_string(o.smoothgrad_samples) + " noisy saliency maps.";
  section.figures.push_back({relative_path(name, variant + ".png"), caption, 0, data_files});
  save_section(ctx, name, variant, 30, section, per_class ? 0 : 1);
}

void occlusion_figure(VizContext& ctx, const OcclusionFigureOptions& o) {
  nn::Module& net = *ctx.model->net;
  const bool default_images = o.images.empty() && o.files.empty();
  const InputImages in = input_images(ctx, default_images ? std::vector<int64_t>{0, 1, 2} : o.images, o.files);
  const int64_t h = ctx.model->input_shape[1], w = ctx.model->input_shape[2];
  OcclusionOptions opts;
  opts.window = o.window > 0 ? o.window : static_cast<int>(std::max<int64_t>(2, std::max(h, w) / 4));
  opts.stride = o.stride > 0 ? o.stride : std::max(1, static_cast<int>(std::max(h, w) / 16));
  opts.fill = parse_occlusion_fill(o.fill);
  opts.unit_layer = o.unit_layer;
  opts.unit_channel = o.unit;
  CS_CHECK(o.unit_layer.empty() || o.unit >= 0, "occlusion: --unit N (>= 0) is needed with --unit-layer");
  if (o.target_class >= 0)
    CS_CHECK(o.target_class < ctx.model->classes,
             "--class " << o.target_class << " does not exist: the model has " << ctx.model->classes << " classes");
  const bool want_unit = !o.unit_layer.empty();
  const std::string name = "occlusion";
  const std::string dir = output_dir(ctx, name);
  const std::string variant = variant_key(
      o.fill + "_w" + std::to_string(opts.window) + "_s" + std::to_string(opts.stride) +
      (o.target_class >= 0 ? "_class" + std::to_string(o.target_class) : "") +
      (want_unit ? "_unit_" + o.unit_layer + "_" + std::to_string(o.unit) : "") + "_" + images_key(in, false));
  const int scale = scale_for(std::max(h, w));
  std::vector<Image> tiles;
  std::vector<std::string> row_labels;
  std::vector<std::string> data_files;
  const std::vector<int> predicted = predict_classes(net, in.batch);
  for (int64_t i = 0; i < in.batch.dim(0); ++i) {
    const Tensor input = in.batch.narrow(i, 1);
    // The class whose probability is mapped: --class, else the true class (the prediction for files).
    const int64_t truth = in.labels[static_cast<size_t>(i)];
    const int target = o.target_class >= 0 ? o.target_class : truth >= 0 ? static_cast<int>(truth) : predicted[i];
    const OcclusionResult r = occlusion(net, input.reshape({input.dim(1), h, w}), target, *ctx.data, opts);
    const std::string base = variant + "_" + in.keys[static_cast<size_t>(i)];
    save_npy(dir + "/" + base + "_class_probability.npy", r.true_class_probability);
    save_npy(dir + "/" + base + "_top_class.npy", r.top_class);
    data_files.push_back(relative_path(name, base + "_class_probability.npy"));
    data_files.push_back(relative_path(name, base + "_top_class.npy"));
    const Image picture = input_picture(ctx, input);
    // The maps live on the grid of window positions; stretch them over the image.
    OverlayOptions overlay;
    overlay.alpha = 0.65;
    overlay.norm = Normalization::fixed(0.0, 1.0);
    tiles.push_back(enlarge(picture, scale));
    tiles.push_back(enlarge(overlay_heatmap(picture, r.true_class_probability, colormap("inferno"), overlay), scale));
    // The most probable class at each position: categories, so nearest neighbour, never blended.
    const Image labels = label_map(r.top_class, static_cast<int>(w), static_cast<int>(h));
    labels.save_png(dir + "/" + base + "_top_class.png");
    tiles.push_back(enlarge(labels, scale));
    if (want_unit) {
      save_npy(dir + "/" + base + "_unit.npy", r.unit_activation);
      data_files.push_back(relative_path(name, base + "_unit.npy"));
      OverlayOptions unit_overlay;
      unit_overlay.alpha = 0.65;
      tiles.push_back(enlarge(overlay_heatmap(picture, r.unit_activation, colormap("viridis"), unit_overlay), scale));
    }
    char label[160];
    std::snprintf(label, sizeof label, "%s: %s (p=%.2f)", in.names[static_cast<size_t>(i)].c_str(),
                  class_name(ctx, target).c_str(), r.clean_probability);
    row_labels.push_back(label);
  }
  // A legend for the label maps.
  Image legend(220, static_cast<int>(14 * ctx.data->class_names.size() + 8), kWhite);
  for (size_t c = 0; c < ctx.data->class_names.size(); ++c) {
    fill_rect(legend, 4, static_cast<int>(4 + 14 * c), 12, 12, category_color(static_cast<int>(c)));
    draw_text(legend, 20, static_cast<int>(3 + 14 * c), ctx.data->class_names[c], TextStyle{1, kBlack, false, kWhite, 0});
  }
  legend.save_png(dir + "/legend.png");
  GridOptions grid;
  grid.cols = want_unit ? 4 : 3;
  grid.row_labels = row_labels;
  grid.col_labels = {"input", o.target_class >= 0 ? "p(class)" : "p(true class)", "most probable class"};
  if (want_unit) grid.col_labels.push_back("unit " + std::to_string(o.unit));
  make_grid(tiles, grid).save_png(dir + "/" + variant + ".png");
  Section section;
  section.heading = "Occlusion" + (default_images ? std::string() : " (" + std::to_string(in.batch.dim(0)) + " chosen images)");
  char text[400];
  std::snprintf(text, sizeof text,
                "A %dx%d %s square slides over each image in steps of %d pixels; every occluded copy goes "
                "through the network in one batch (Zeiler & Fergus 2013, Figure 7).",
                opts.window, opts.window, o.fill.c_str(), opts.stride);
  section.text = text;
  std::string caption =
      "Second column: the probability of the " + std::string(o.target_class >= 0 ? "chosen" : "true") +
      " class (files: the predicted class) with the square at each position (dark: covering there destroys the "
      "evidence). Third: the class the network picks with the square at each position (colours as the legend below).";
  if (want_unit)
    caption += " Fourth: the strongest activation of unit " + std::to_string(o.unit) + " of " + o.unit_layer +
               " with the square at each position (dark: the square hides what the unit sees).";
  section.figures.push_back({relative_path(name, variant + ".png"), caption, 0, data_files});
  section.figures.push_back({relative_path(name, "legend.png"), "Class colours of the label maps.", 0, {}});
  save_section(ctx, name, variant, 31, section);
}

void class_model_figure(VizContext& ctx, const ClassModelFigureOptions& o) {
  nn::Module& net = *ctx.model->net;
  const Shape& input = ctx.model->input_shape;
  const std::string name = "class_models";
  const std::string dir = output_dir(ctx, name);
  const bool unit_mode = !o.unit_layer.empty();
  CS_CHECK(!unit_mode || o.unit >= 0, "class model: --unit N (>= 0) is needed with --layer");
  if (o.target_class >= 0)
    CS_CHECK(o.target_class < ctx.model->classes,
             "--class " << o.target_class << " does not exist: the model has " << ctx.model->classes << " classes");
  Tensor start;
  std::string start_name = "faint noise";
  if (!o.start_file.empty()) {
    start = prepared_image_file(ctx, o.start_file);
    start_name = o.start_file;
  } else if (o.start_image >= 0) {
    start = prepared_test_images(ctx, {o.start_image}).reshape(input);
    start_name = "test image " + std::to_string(o.start_image);
  }
  const std::string start_key = !o.start_file.empty() ? "_from_" + fs_stem(o.start_file)
                                : o.start_image >= 0  ? "_from_test" + std::to_string(o.start_image)
                                                      : "";
  const std::string variant = variant_key(
      (unit_mode ? "unit_" + o.unit_layer + "_" + std::to_string(o.unit)
                 : o.target_class >= 0 ? "class" + std::to_string(o.target_class) : std::string("classes")) +
      start_key);
  ClassModelOptions opts;
  opts.steps = o.steps;
  opts.step_size = o.step_size;
  opts.l2 = o.l2;
  opts.jitter = o.jitter;
  opts.blur_every = o.blur_every;
  opts.unit_layer = o.unit_layer;
  opts.unit_channel = o.unit;
  std::vector<int> targets;
  if (unit_mode) targets = {0};  // the class is unused when a unit is the target
  else if (o.target_class >= 0) targets = {o.target_class};
  else
    for (int c = 0; c < ctx.model->classes; ++c) targets.push_back(c);
  std::vector<Image> tiles;
  std::vector<std::string> captions;
  CsvWriter csv({"target", "objective_start", "objective_end"});
  for (int c : targets) {
    opts.seed = static_cast<uint64_t>(c) + 1;
    const ClassModelResult r = class_model_image(net, input, c, start, opts);
    const std::string what = unit_mode ? "unit " + std::to_string(o.unit) : class_name(ctx, c);
    save_npy(dir + "/" + variant + "_" + std::to_string(c) + ".npy", r.image);
    csv.add_row({what, r.objective.front(), r.objective.back()});
    tiles.push_back(enlarge(input_picture(ctx, r.image), scale_for(std::max(input[1], input[2]))));
    captions.push_back(what);
  }
  csv.save(dir + "/" + variant + "_objective.csv");
  GridOptions grid;
  grid.cols = std::min(static_cast<int>(tiles.size()), 10);
  grid.captions = captions;
  make_grid(tiles, grid).save_png(dir + "/" + variant + ".png");
  Section section;
  section.heading = unit_mode ? "What excites unit " + std::to_string(o.unit) + " of " + o.unit_layer
                              : "What the network thinks each class looks like";
  section.text = "Activation maximisation (Simonyan et al. 2013): starting from " + start_name + ", " +
                 std::to_string(o.steps) + " steps of gradient ascent on " +
                 (unit_mode ? "the unit's mean activation" : std::string("each class's score")) +
                 " minus an L2 penalty, with random jitter and an occasional blur to keep the pictures natural.";
  section.figures.push_back({relative_path(name, variant + ".png"),
                             unit_mode ? "The optimised input: the pattern that drives this unit hardest."
                                       : "One optimised input per class: the patterns that raise that class's score most.",
                             0, {relative_path(name, variant + "_objective.csv")}});
  save_section(ctx, name, variant, 32, section, unit_mode ? 2 : o.target_class >= 0 ? 1 : 0);
}

}  // namespace cs::viz
