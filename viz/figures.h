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
void filters_figure(VizContext& ctx, const std::string& layer = "");     // default: first conv
void feature_maps_figure(VizContext& ctx, int64_t image, const std::vector<std::string>& layers = {});
struct TopPatchesFigureOptions {
  std::vector<std::string> layers;  // default: the ReLU after every conv layer
  int k = 9;
  int units = 16;                   // channels shown per layer (the most active ones)
  int64_t max_images = 0;           // scan this many test images (0: all)
  ag::ReluRule rule = ag::ReluRule::Deconvnet;
};
void top_patches_figure(VizContext& ctx, const TopPatchesFigureOptions& options);

// ---- why it decided ----
void attribution_figure(VizContext& ctx, const std::vector<int64_t>& images, const std::string& cam_layer = "");
struct OcclusionFigureOptions {
  std::vector<int64_t> images;
  int window = 0, stride = 0;  // 0: a quarter / an eighth of the image side
  std::string fill = "gray";
};
void occlusion_figure(VizContext& ctx, const OcclusionFigureOptions& options);
void class_model_figure(VizContext& ctx, int steps = 200);

// ---- feature space ----
struct FeatureSpaceOptions {
  int64_t points = 0;      // test images embedded (0: 10000 on a GPU, 2000 on the CPU)
  int neighbours = 8;
  int queries = 6;
  std::string metric = "l2";
  std::string layer;       // default: the input of the last linear layer
  int tsne_iterations = 1000;
  double perplexity = 30;
};
void feature_space_figure(VizContext& ctx, const FeatureSpaceOptions& options);

// ---- generation ----
struct DreamFigureOptions {
  std::vector<std::string> layers;  // default: a shallow, a middle and a deep conv layer
  int64_t image = -1;               // test image (-1: the first); or noise when `noise`
  bool noise = false;
  int octaves = 3, steps = 20;
  double step_size = 0.02;
};
void dream_figure(VizContext& ctx, const DreamFigureOptions& options);
struct StyleFigureOptions {
  int64_t content = 0, style = 1;   // test images (when no files are given)
  std::string content_file, style_file;
  std::string optimizer = "lbfgs";
  int steps = 60;
  std::string content_layer;        // default: the second-to-last conv layer
  std::vector<std::string> style_layers;  // default: every conv layer
};
void style_figure(VizContext& ctx, const StyleFigureOptions& options);

// ---- the report ----
// <run>/report.html: config, training curves, and every saved section.
std::string write_run_report(const std::string& run_dir);

}  // namespace cs::viz
