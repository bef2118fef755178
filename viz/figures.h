// The pictures of a run: one writer per technique. Each computes (through the
// technique's library function), renders PNG/SVG, saves the raw numbers
// (.npy/.csv) beside them, and leaves a report section (context.h).
#pragma once

#include <string>
#include <vector>

#include "autograd/tape.h"
#include "models/evaluate.h"
#include "models/trainer.h"
#include "viz/context.h"

namespace cs::viz {

// ---- training (run folder's training/) ----
void write_training_figures(const std::string& run_dir, const std::vector<models::EpochRecord>& history,
                            const models::Evaluation& test, const std::vector<std::string>& class_names);

// ---- inside the network ----
struct FiltersFigureOptions {
  std::string layer;      // default: the first conv layer
  int max_filters = 16;   // deeper layers: rows shown (one filter each)
  int max_channels = 24;  // deeper layers: columns shown (one input channel each)
};
void filters_figure(VizContext& ctx, const FiltersFigureOptions& options = {});
struct FeatureMapsFigureOptions {
  int64_t image = 0;                // test image
  std::string image_file;           // or an image file (PNG/JPEG)
  std::vector<std::string> layers;  // default: the ReLU after every conv
  bool shared_scale = false;        // one colour scale for every map of a layer (default: per map)
};
void feature_maps_figure(VizContext& ctx, const FeatureMapsFigureOptions& options);
struct TopPatchesFigureOptions {
  std::vector<std::string> layers;  // default: the ReLU after every conv layer
  int k = 9;
  int units = 16;                   // channels shown per layer (the most active ones)
  int64_t max_images = 0;           // scan this many test images (0: all)
  ag::ReluRule rule = ag::ReluRule::Deconvnet;
};
void top_patches_figure(VizContext& ctx, const TopPatchesFigureOptions& options);

// ---- why it decided ----
struct AttributionFigureOptions {
  std::vector<int64_t> images;      // test images (default, with no files: one per class)
  std::vector<std::string> files;   // image files (PNG/JPEG), resized to the model's input
  int target_class = -1;            // -1: each image's predicted class
  std::string cam_layer;            // default: the ReLU after the last conv
  // Columns, from attribution_technique_names(); empty: all of them.
  std::vector<std::string> techniques;
  std::string unit_layer;           // guided backprop of a unit (its strongest position) instead
  int64_t unit = -1;
  int smoothgrad_samples = 25;
  double smoothgrad_noise = 0.15;
};
// saliency, guided-backprop, gradcam, guided-gradcam, smoothgrad.
std::vector<std::string> attribution_technique_names();
void attribution_figure(VizContext& ctx, const AttributionFigureOptions& options);
struct OcclusionFigureOptions {
  std::vector<int64_t> images;      // test images (default, with no files: 0 1 2)
  std::vector<std::string> files;   // image files (PNG/JPEG)
  int window = 0, stride = 0;       // 0: a quarter / a sixteenth of the image side
  std::string fill = "gray";
  int target_class = -1;            // map (a): -1: the true class (files: the predicted one)
  std::string unit_layer;           // map (c): the strongest activation of this unit
  int64_t unit = -1;
};
void occlusion_figure(VizContext& ctx, const OcclusionFigureOptions& options);
struct ClassModelFigureOptions {
  int steps = 200;
  int target_class = -1;            // -1: one image per class
  std::string unit_layer;           // maximise a unit's mean activation instead
  int64_t unit = -1;
  std::string start_file;           // start from this image file ...
  int64_t start_image = -1;         // ... or this test image (default: faint noise)
  double step_size = 0.02, l2 = 1e-3;
  int jitter = 2, blur_every = 10;
};
void class_model_figure(VizContext& ctx, const ClassModelFigureOptions& options);

// ---- feature space ----
struct FeatureSpaceOptions {
  std::string split = "test";  // test | train | all (train then test): the images embedded
  int64_t points = 0;      // images embedded (0: 10000 on a GPU, 2000 on the CPU; all with split "all")
  int neighbours = 8;
  int queries = 6;
  std::string metric = "l2";
  std::string layer;       // default: the input of the last linear layer
  int tsne_iterations = 1000;
  double perplexity = 30;
  int dims = 2;            // 2 | 3: PCA and t-SNE dimensions (the pictures show the first two)
  std::string tsne_method = "auto";  // auto | exact | sparse | barnes-hut | fft
};
void feature_space_figure(VizContext& ctx, const FeatureSpaceOptions& options);

// ---- generation ----
struct DreamFigureOptions {
  std::vector<std::string> layers;  // default: a shallow, a middle and a deep conv layer
  int64_t image = -1;               // test image (-1: the first); or noise when `noise`
  std::string image_file;           // or start from this image file (PNG/JPEG)
  bool noise = false;
  std::vector<int64_t> channels;    // amplify only these channels (default: all)
  int octaves = 3, steps = 20;
  double octave_scale = 1.4;
  double step_size = 0.02;
  int jitter = -1;                  // roll up to this many pixels per step (-1: 1/14 of the side; 0: off)
};
void dream_figure(VizContext& ctx, const DreamFigureOptions& options);
struct StyleFigureOptions {
  int64_t content = 0, style = 1;   // test images (when no files are given)
  std::string content_file, style_file;
  std::string optimizer = "lbfgs";
  int steps = 60;
  std::string init = "content";     // content | noise: where the optimisation starts
  double content_weight = 1.0, style_weight = 1e4, tv_weight = 1e-3;
  int frame_every = -1;             // keep a frame every n steps (-1: a quarter of the steps; 0: none)
  std::string content_layer;        // default: the second-to-last conv layer
  std::vector<std::string> style_layers;  // default: every conv layer
};
void style_figure(VizContext& ctx, const StyleFigureOptions& options);

// ---- the report ----
// <run>/report.html: config, training curves, and every saved section.
std::string write_run_report(const std::string& run_dir);

}  // namespace cs::viz
