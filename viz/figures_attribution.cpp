// Why it decided: saliency, guided backpropagation, Grad-CAM, guided
// Grad-CAM, SmoothGrad, occlusion and class-model images.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "runtime/npy.h"
#include "viz/attribution.h"
#include "viz/class_model.h"
#include "viz/colormap.h"
#include "viz/csv.h"
#include "viz/figures.h"
#include "viz/filters.h"
#include "viz/grid.h"
#include "viz/occlusion.h"

namespace cs::viz {

namespace {

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

void attribution_figure(VizContext& ctx, const std::vector<int64_t>& images_in, const std::string& cam_layer_in) {
  nn::Module& net = *ctx.model->net;
  const std::vector<int64_t> images = images_in.empty() ? one_image_per_class(ctx) : images_in;
  const std::string cam_layer = cam_layer_in.empty() ? default_cam_layer(net) : cam_layer_in;
  const Tensor inputs = prepared_test_images(ctx, images);
  const int64_t b = inputs.dim(0), h = inputs.dim(2), w = inputs.dim(3);
  const InputGradients saliency = class_gradients(net, inputs, {}, ag::ReluRule::Standard);
  const InputGradients guided = class_gradients(net, inputs, saliency.classes, ag::ReluRule::Guided);
  const GradCam cam = grad_cam(net, inputs, saliency.classes, cam_layer);
  SmoothGradOptions sg;
  const InputGradients smooth = smooth_grad(net, inputs, saliency.classes, sg);
  const std::string name = "attribution";
  const std::string dir = output_dir(ctx, name);
  save_npy(dir + "/saliency.npy", saliency.maps);
  save_npy(dir + "/saliency_signed.npy", saliency.gradients);
  save_npy(dir + "/guided_backprop.npy", guided.gradients);
  save_npy(dir + "/grad_cam.npy", cam.maps);
  save_npy(dir + "/smoothgrad.npy", smooth.maps);
  const int scale = scale_for(std::max(h, w));
  std::vector<Image> tiles;
  std::vector<std::string> row_labels;
  CsvWriter csv({"test_image", "true_class", "predicted_class", "score"});
  for (int64_t i = 0; i < b; ++i) {
    const int64_t truth = ctx.data->test.labels_host[static_cast<size_t>(images[i])];
    row_labels.push_back(class_name(ctx, truth) + " -> " + class_name(ctx, saliency.classes[i]));
    csv.add_row({images[i], class_name(ctx, truth), class_name(ctx, saliency.classes[i]),
                 static_cast<double>(saliency.scores[i])});
    const Image input = input_picture(ctx, inputs.narrow(i, 1));
    const Tensor cam_i = cam.maps.narrow(i, 1).reshape({h, w});
    // Guided Grad-CAM: guided backprop weighted by the (normalised) Grad-CAM map.
    const Tensor g = slice(guided.gradients, i);
    std::vector<float> gg = g.to_vector<float>(), cv = cam_i.to_vector<float>();
    const float cam_max = std::max(1e-12f, *std::max_element(cv.begin(), cv.end()));
    for (int64_t c = 0; c < g.dim(0); ++c)
      for (int64_t j = 0; j < h * w; ++j) gg[c * h * w + j] *= cv[j] / cam_max;
    OverlayOptions overlay;
    overlay.alpha = 0.6;
    tiles.push_back(enlarge(input, scale));
    tiles.push_back(enlarge(colorize(saliency.maps.narrow(i, 1).reshape({h, w}), colormap("inferno")), scale));
    tiles.push_back(enlarge(signed_picture(g), scale));
    tiles.push_back(enlarge(overlay_heatmap(input, cam_i, colormap("inferno"), overlay), scale));
    tiles.push_back(enlarge(signed_picture(Tensor::from_vector(gg, g.shape())), scale));
    tiles.push_back(enlarge(colorize(smooth.maps.narrow(i, 1).reshape({h, w}), colormap("inferno")), scale));
  }
  csv.save(dir + "/classes.csv");
  GridOptions grid;
  grid.cols = 6;
  grid.row_labels = row_labels;
  grid.col_labels = {"input", "saliency", "guided backprop", "Grad-CAM", "guided Grad-CAM", "SmoothGrad"};
  make_grid(tiles, grid).save_png(dir + "/attribution.png");
  Section section;
  section.heading = "Which pixels matter";
  section.text =
      "For one test image of each class (rows: true class -> predicted class), the gradient of the "
      "predicted class's score with respect to the pixels, computed on convscope's tape under three "
      "ReLU rules. Grad-CAM uses layer " + cam_layer + ".";
  section.figures.push_back(
      {relative_path(name, "attribution.png"),
       "Saliency (Simonyan et al.): |d score / d pixel|, bright where a small change moves the score most. "
       "Guided backprop (Springenberg et al.): only positive gradients through active units; gray is zero, "
       "light pixels raise the score. Grad-CAM (Selvaraju et al.): where the last conv layer's class evidence "
       "lies, over the image. Guided Grad-CAM multiplies the two; SmoothGrad averages 25 noisy saliency maps.",
       0,
       {relative_path(name, "saliency.npy"), relative_path(name, "guided_backprop.npy"),
        relative_path(name, "grad_cam.npy"), relative_path(name, "smoothgrad.npy"), relative_path(name, "classes.csv")}});
  save_section(ctx, name, 30, section);
}

void occlusion_figure(VizContext& ctx, const OcclusionFigureOptions& o) {
  nn::Module& net = *ctx.model->net;
  const std::vector<int64_t> images = o.images.empty() ? std::vector<int64_t>{0, 1, 2} : o.images;
  const int64_t h = ctx.model->input_shape[1], w = ctx.model->input_shape[2];
  OcclusionOptions opts;
  opts.window = o.window > 0 ? o.window : static_cast<int>(std::max<int64_t>(2, std::max(h, w) / 4));
  opts.stride = o.stride > 0 ? o.stride : std::max(1, static_cast<int>(std::max(h, w) / 16));
  opts.fill = parse_occlusion_fill(o.fill);
  const std::string name = "occlusion";
  const std::string dir = output_dir(ctx, name);
  const int scale = scale_for(std::max(h, w));
  std::vector<Image> tiles;
  std::vector<std::string> row_labels;
  for (int64_t index : images) {
    const Tensor input = prepared_test_images(ctx, {index});
    const int truth = ctx.data->test.labels_host[static_cast<size_t>(index)];
    const OcclusionResult r = occlusion(net, input.reshape({input.dim(1), h, w}), truth, *ctx.data, opts);
    const std::string base = "image_" + std::to_string(index);
    save_npy(dir + "/" + base + "_true_class_probability.npy", r.true_class_probability);
    save_npy(dir + "/" + base + "_top_class.npy", r.top_class);
    const Image picture = input_picture(ctx, input);
    // The maps live on the grid of window positions; stretch them over the image.
    OverlayOptions overlay;
    overlay.alpha = 0.65;
    overlay.norm = Normalization::fixed(0.0, 1.0);
    tiles.push_back(enlarge(picture, scale));
    tiles.push_back(enlarge(overlay_heatmap(picture, r.true_class_probability, colormap("inferno"), overlay), scale));
    // The most probable class at each position, one colour per class.
    const std::vector<int32_t> classes = r.top_class.to_vector<int32_t>();
    Image labels(static_cast<int>(r.cols), static_cast<int>(r.rows));
    for (int64_t y = 0; y < r.rows; ++y)
      for (int64_t x = 0; x < r.cols; ++x)
        labels.set(static_cast<int>(x), static_cast<int>(y), category_color(classes[y * r.cols + x]));
    tiles.push_back(enlarge(resize_bilinear(labels, static_cast<int>(w), static_cast<int>(h)), scale));
    char label[128];
    std::snprintf(label, sizeof label, "%s (p=%.2f)", class_name(ctx, truth).c_str(), r.clean_probability);
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
  grid.cols = 3;
  grid.row_labels = row_labels;
  grid.col_labels = {"input", "p(true class)", "most probable class"};
  make_grid(tiles, grid).save_png(dir + "/occlusion.png");
  Section section;
  section.heading = "Occlusion";
  char text[400];
  std::snprintf(text, sizeof text,
                "A %dx%d %s square slides over each image in steps of %d pixels; every occluded copy goes "
                "through the network in one batch (Zeiler & Fergus 2013, Figure 7).",
                opts.window, opts.window, o.fill.c_str(), opts.stride);
  section.text = text;
  section.figures.push_back({relative_path(name, "occlusion.png"),
                             "Middle: the probability of the true class with the square at each position (dark: "
                             "covering there destroys the evidence). Right: the class the network picks with the "
                             "square at each position (colours as the legend below).",
                             0, {}});
  section.figures.push_back({relative_path(name, "legend.png"), "Class colours of the label maps.", 0, {}});
  save_section(ctx, name, 31, section);
}

void class_model_figure(VizContext& ctx, int steps) {
  nn::Module& net = *ctx.model->net;
  const Shape& input = ctx.model->input_shape;
  const std::string name = "class_models";
  const std::string dir = output_dir(ctx, name);
  ClassModelOptions o;
  o.steps = steps;
  std::vector<Image> tiles;
  CsvWriter csv({"class", "objective_start", "objective_end"});
  for (int c = 0; c < ctx.model->classes; ++c) {
    o.seed = static_cast<uint64_t>(c) + 1;
    const ClassModelResult r = class_model_image(net, input, c, Tensor(), o);
    save_npy(dir + "/class_" + std::to_string(c) + ".npy", r.image);
    csv.add_row({class_name(ctx, c), r.objective.front(), r.objective.back()});
    tiles.push_back(enlarge(input_picture(ctx, r.image), scale_for(std::max(input[1], input[2]))));
  }
  csv.save(dir + "/objective.csv");
  GridOptions grid;
  grid.cols = std::min(ctx.model->classes, 10);
  grid.captions = ctx.data->class_names;
  grid.captions.resize(tiles.size());
  make_grid(tiles, grid).save_png(dir + "/class_models.png");
  Section section;
  section.heading = "What the network thinks each class looks like";
  section.text = "Class-model images (Simonyan et al. 2013): starting from faint noise, " + std::to_string(steps) +
                 " steps of gradient ascent on each class's score minus an L2 penalty, with random jitter and an "
                 "occasional blur to keep the pictures natural.";
  section.figures.push_back({relative_path(name, "class_models.png"),
                             "One optimised input per class: the patterns that raise that class's score most.",
                             0, {relative_path(name, "objective.csv")}});
  save_section(ctx, name, 32, section);
}

}  // namespace cs::viz
