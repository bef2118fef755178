// convscope viz <technique>: pictures of what a trained network sees and why.
// Every option states its default in --help; a bad value is a one-line error
// naming the option (CLI11 validators here, the library's checks for the rest).
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/viz_session.h"
#include "runtime/file_io.h"
#include "viz/figures.h"
#include "viz/filters.h"
#include "viz/tsne.h"

namespace cs::cli {

namespace {

using Clock = std::chrono::steady_clock;

// Runs `body` on an opened session, then refreshes the report of the folder.
int with_session(const VizSource& source, const char* what,
                 const std::function<void(viz::VizContext&)>& body) {
  auto session = open_viz_session(source);
  const auto start = Clock::now();
  std::printf("%s for %s on %s ...\n", what, session->model.spec.name.c_str(), session->context.device.str().c_str());
  std::fflush(stdout);
  body(session->context);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::string report = viz::write_run_report(session->context.run_dir);
  std::printf("%s done in %.1f s; pictures in %s/viz, report %s\n", what, seconds,
              session->context.run_dir.c_str(), report.c_str());
  return 0;
}

CLI::App* technique(CLI::App* viz, const std::string& name, const std::string& help,
                    std::shared_ptr<VizSource> source) {
  CLI::App* cmd = viz->add_subcommand(name, help);
  add_viz_source_options(cmd, *source);
  return cmd;
}

// Whole numbers >= 0 (> 0): CLI11's NonNegativeNumber prints its range as 1.8e308 digits.
const CLI::Validator kCount(
    [](std::string& v) -> std::string {
      if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos) return "";
      return "expected a whole number >= 0, got '" + v + "'";
    },
    "N>=0");
const CLI::Validator kPositive(
    [](std::string& v) -> std::string {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (end && *end == 0 && !v.empty() && x > 0) return "";
      return "expected a number > 0, got '" + v + "'";
    },
    "X>0");
const CLI::Validator kNonNegative(
    [](std::string& v) -> std::string {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (end && *end == 0 && !v.empty() && x >= 0) return "";
      return "expected a number >= 0, got '" + v + "'";
    },
    "X>=0");

// "12" is test image 12, anything else an image file.
struct ImageRef {
  int64_t index = -1;
  std::string file;
};
ImageRef parse_image_ref(const std::string& option, const std::string& value) {
  ImageRef r;
  if (value.empty()) return r;
  if (value.find_first_not_of("0123456789") == std::string::npos) {
    r.index = std::stoll(value);
    return r;
  }
  CS_CHECK(file_exists(value), option << ": '" << value << "' is neither a test image index nor an existing image file");
  r.file = value;
  return r;
}

// --images N ... (test indices) and --image FILE ... (PNG/JPEG files).
void add_input_options(CLI::App* cmd, std::vector<int64_t>& images, std::vector<std::string>& files,
                       const std::string& default_images) {
  cmd->add_option("--images", images, "Test image indices (default: " + default_images + ")")
      ->check(kCount);
  cmd->add_option("--image", files, "Image files (PNG/JPEG, resized to the model's input); repeatable")
      ->check(CLI::ExistingFile);
}

void add_class_option(CLI::App* cmd, int& target_class, const std::string& default_text) {
  cmd->add_option("--class", target_class, "Target class index (default: " + default_text + ")")
      ->check(kCount);
}

// saliency, guided-backprop, gradcam, smoothgrad, and attribution (all of them together).
void register_attribution(CLI::App* viz, const std::string& name, const std::string& help,
                          const std::vector<std::string>& techniques) {
  auto src = std::make_shared<VizSource>();
  auto o = std::make_shared<viz::AttributionFigureOptions>();
  o->techniques = techniques;
  CLI::App* cmd = technique(viz, name, help, src);
  add_input_options(cmd, o->images, o->files, "one per class when no --image is given");
  add_class_option(cmd, o->target_class, "each image's predicted class");
  const bool all = techniques.empty();
  auto has = [&](const char* t) { return all || std::find(techniques.begin(), techniques.end(), t) != techniques.end(); };
  if (has("gradcam")) cmd->add_option("--cam-layer", o->cam_layer, "Grad-CAM layer (default: the ReLU after the last conv)");
  if (has("guided-backprop")) {
    cmd->add_option("--layer", o->unit_layer,
                    "Guided backprop of a unit of this layer instead of a class score (default: the class score)");
    cmd->add_option("--unit", o->unit, "The unit (channel) of --layer; its strongest position is used")
        ->check(kCount);
  }
  if (has("smoothgrad")) {
    cmd->add_option("--samples", o->smoothgrad_samples, "SmoothGrad: noisy copies averaged")
        ->capture_default_str()->check(kPositive);
    cmd->add_option("--noise", o->smoothgrad_noise, "SmoothGrad: noise std as a fraction of the image's range")
        ->capture_default_str()->check(kPositive);
  }
  set_action(cmd, [src, o, name] {
    CS_CHECK(o->unit_layer.empty() == (o->unit < 0), name << ": --layer and --unit go together");
    return with_session(*src, name.c_str(), [&](viz::VizContext& c) { viz::attribution_figure(c, *o); });
  });
}

}  // namespace

void register_viz(CLI::App& app) {
  CLI::App* viz = app.add_subcommand("viz", "Visualize a trained network (writes PNG/SVG, raw .npy/.csv and a report section)");
  viz->require_subcommand(1);

  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::FiltersFigureOptions>();
    auto every = std::make_shared<bool>(false);
    CLI::App* cmd = technique(viz, "filters", "The filters of a conv layer as pictures (default: the first)", src);
    cmd->add_option("--layer", o->layer, "A conv layer path, see `convscope summary` (default: the first conv)");
    cmd->add_flag("--all-layers", *every, "Every conv layer, one section each (default: off)");
    cmd->add_option("--max-filters", o->max_filters, "Deeper layers: filters shown, one row each")
        ->capture_default_str()->check(kPositive);
    cmd->add_option("--max-channels", o->max_channels, "Deeper layers: input channels shown, one tile each")
        ->capture_default_str()->check(kPositive);
    set_action(cmd, [src, o, every] {
      return with_session(*src, "filters", [&](viz::VizContext& c) {
        if (!*every) return viz::filters_figure(c, *o);
        for (const std::string& layer : viz::conv_layers(*c.model->net)) {
          viz::FiltersFigureOptions one = *o;
          one.layer = layer;
          viz::filters_figure(c, one);
        }
      });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::FeatureMapsFigureOptions>();
    auto image = std::make_shared<std::string>("0");
    auto scale = std::make_shared<std::string>("per-map");
    CLI::App* cmd = technique(viz, "feature-maps", "Every channel of chosen layers for one image", src);
    cmd->add_option("--image", *image, "A test image index or an image file (PNG/JPEG)")->capture_default_str();
    cmd->add_option("--layers", o->layers, "Layer paths, comma-separated (default: the ReLU after every conv)")
        ->delimiter(',');
    cmd->add_option("--scale", *scale, "per-map: each map its own colour range; shared: one range per layer")
        ->capture_default_str()->check(CLI::IsMember({"per-map", "shared"}));
    set_action(cmd, [src, o, image, scale] {
      const ImageRef ref = parse_image_ref("--image", *image);
      o->image = ref.index;
      o->image_file = ref.file;
      o->shared_scale = *scale == "shared";
      return with_session(*src, "feature maps", [&](viz::VizContext& c) { viz::feature_maps_figure(c, *o); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::TopPatchesFigureOptions>();
    auto guided = std::make_shared<bool>(false);
    CLI::App* cmd = technique(viz, "top-patches", "Top-k test patches per unit with deconvnet projections (Zeiler & Fergus)", src);
    cmd->alias("deconv");
    cmd->add_option("--layers", o->layers, "Layer paths, comma-separated (default: the ReLU after every conv)")
        ->delimiter(',');
    cmd->add_option("--k", o->k, "Patches per unit")->capture_default_str()->check(kPositive);
    cmd->add_option("--units", o->units, "Units shown per layer (the most active)")->capture_default_str()->check(kPositive);
    cmd->add_option("--max-images", o->max_images, "Scan only the first N test images (0: all)")
        ->capture_default_str()->check(kCount);
    cmd->add_flag("--guided", *guided, "Guided-backpropagation projections instead of deconvnet ones (default: off)");
    set_action(cmd, [src, o, guided] {
      o->rule = *guided ? ag::ReluRule::Guided : ag::ReluRule::Deconvnet;
      return with_session(*src, "top patches", [&](viz::VizContext& c) { viz::top_patches_figure(c, *o); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto image = std::make_shared<std::string>("0");
    auto scale = std::make_shared<std::string>("per-map");
    auto top = std::make_shared<viz::TopPatchesFigureOptions>();
    auto guided = std::make_shared<bool>(false);
    CLI::App* cmd = technique(viz, "story",
                              "Layer by layer: filters, feature maps, top-9 patches and projections of every conv layer", src);
    cmd->add_option("--image", *image, "Test image index or image file for the feature maps")->capture_default_str();
    cmd->add_option("--scale", *scale, "Feature maps: per-map or shared colour range")
        ->capture_default_str()->check(CLI::IsMember({"per-map", "shared"}));
    cmd->add_option("--k", top->k, "Top patches per unit")->capture_default_str()->check(kPositive);
    cmd->add_option("--units", top->units, "Units shown per layer")->capture_default_str()->check(kPositive);
    cmd->add_option("--max-images", top->max_images, "Scan only the first N test images for top patches (0: all)")
        ->capture_default_str()->check(kCount);
    cmd->add_flag("--guided", *guided, "Guided-backpropagation projections instead of deconvnet ones (default: off)");
    set_action(cmd, [src, image, scale, top, guided] {
      const ImageRef ref = parse_image_ref("--image", *image);
      top->rule = *guided ? ag::ReluRule::Guided : ag::ReluRule::Deconvnet;
      return with_session(*src, "layer-by-layer story", [&](viz::VizContext& c) {
        // Every conv layer, shallow to deep: the progression is the point.
        for (const std::string& layer : viz::conv_layers(*c.model->net)) {
          viz::FiltersFigureOptions f;
          f.layer = layer;
          viz::filters_figure(c, f);
        }
        viz::FeatureMapsFigureOptions maps;
        maps.image = ref.index;
        maps.image_file = ref.file;
        maps.shared_scale = *scale == "shared";
        viz::feature_maps_figure(c, maps);
        viz::top_patches_figure(c, *top);
      });
    });
  }
  register_attribution(viz, "attribution",
                       "Saliency, guided backprop, Grad-CAM, guided Grad-CAM and SmoothGrad side by side", {});
  register_attribution(viz, "saliency", "Saliency maps (Simonyan et al.): |d class score / d pixel|", {"saliency"});
  register_attribution(viz, "guided-backprop",
                       "Guided backpropagation (Springenberg et al.) of a class score or of one unit",
                       {"guided-backprop"});
  register_attribution(viz, "gradcam", "Grad-CAM and guided Grad-CAM at a conv layer", {"gradcam", "guided-gradcam"});
  register_attribution(viz, "smoothgrad", "SmoothGrad: saliency averaged over noisy copies", {"smoothgrad"});
  {
    auto src = std::make_shared<viz::OcclusionFigureOptions>();
    auto source = std::make_shared<VizSource>();
    CLI::App* cmd = technique(viz, "occlusion",
                              "Occlusion maps: class probability, most probable class and a unit's activation per patch position",
                              source);
    add_input_options(cmd, src->images, src->files, "0 1 2 when no --image is given");
    add_class_option(cmd, src->target_class, "the true class; for files the predicted one");
    cmd->add_option("--window", src->window, "Patch side in pixels (default: a quarter of the image)")
        ->check(kPositive);
    cmd->add_option("--stride", src->stride, "Step between patches (default: a sixteenth of the image)")
        ->check(kPositive);
    cmd->add_option("--fill", src->fill, "gray, mean, zero or blur")
        ->capture_default_str()->check(CLI::IsMember({"gray", "mean", "zero", "blur"}));
    cmd->add_option("--unit-layer", src->unit_layer, "Map (c): a layer whose unit's activation is mapped (default: none)");
    cmd->add_option("--unit", src->unit, "Map (c): the unit (channel) of --unit-layer")->check(kCount);
    set_action(cmd, [source, src] {
      CS_CHECK(src->unit_layer.empty() == (src->unit < 0), "occlusion: --unit-layer and --unit go together");
      return with_session(*source, "occlusion", [&](viz::VizContext& c) { viz::occlusion_figure(c, *src); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::ClassModelFigureOptions>();
    auto start = std::make_shared<std::string>();
    CLI::App* cmd = technique(viz, "class-model", "Images that maximise a class score or a unit (activation maximisation)", src);
    cmd->add_option("--steps", o->steps, "Gradient-ascent steps")->capture_default_str()->check(kPositive);
    add_class_option(cmd, o->target_class, "one image per class");
    cmd->add_option("--layer", o->unit_layer, "Maximise a unit of this layer instead of a class score");
    cmd->add_option("--unit", o->unit, "The unit (channel) of --layer")->check(kNonNegative);
    cmd->add_option("--start", *start, "Start from a test image index or an image file (default: faint noise)");
    cmd->add_option("--step-size", o->step_size, "RMS change per step (normalised units)")
        ->capture_default_str()->check(kPositive);
    cmd->add_option("--l2", o->l2, "Weight of the L2 penalty")->capture_default_str()->check(kNonNegative);
    cmd->add_option("--jitter", o->jitter, "Random roll per step, in pixels (0: off)")
        ->capture_default_str()->check(kNonNegative);
    cmd->add_option("--blur-every", o->blur_every, "Blur every n steps (0: never)")
        ->capture_default_str()->check(kNonNegative);
    set_action(cmd, [src, o, start] {
      CS_CHECK(o->unit_layer.empty() == (o->unit < 0), "class-model: --layer and --unit go together");
      CS_CHECK(o->unit_layer.empty() || o->target_class < 0, "class-model: --class and --unit exclude each other");
      const ImageRef ref = parse_image_ref("--start", *start);
      o->start_image = ref.index;
      o->start_file = ref.file;
      return with_session(*src, "class-model images", [&](viz::VizContext& c) { viz::class_model_figure(c, *o); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::FeatureSpaceOptions>();
    CLI::App* cmd = technique(viz, "features",
                              "Feature space: neighbours in pixels vs features, PCA, t-SNE, TensorBoard projector files", src);
    for (const char* alias : {"neighbors", "pca", "tsne"}) cmd->alias(alias);
    cmd->add_option("--split", o->split, "Images embedded: test, train or all (train then test)")
        ->capture_default_str()->check(CLI::IsMember({"test", "train", "all"}));
    cmd->add_option("--max-images,--points", o->points,
                    "Images embedded (default: 10000 on a GPU, 2000 on the CPU; with --split all, all of them)")
        ->check(kCount);
    cmd->add_option("--max-train", src->max_train, "With --split train or all: use only the first N train images (0: all)")
        ->check(kCount);
    cmd->add_option("--neighbours", o->neighbours, "k of k-NN")->capture_default_str()->check(kPositive);
    cmd->add_option("--queries", o->queries, "Query rows in the neighbours picture")
        ->capture_default_str()->check(kNonNegative);
    cmd->add_option("--metric", o->metric, "l2, l1 or cosine")
        ->capture_default_str()->check(CLI::IsMember({"l2", "l1", "cosine"}));
    cmd->add_option("--layer", o->layer, "Feature layer (default: the input of the last linear layer)");
    cmd->add_option("--dims", o->dims, "PCA and t-SNE dimensions: 2 or 3")
        ->capture_default_str()->check(CLI::IsMember({2, 3}));
    cmd->add_option("--method", o->tsne_method, "t-SNE: auto (exact to 10k points, then fft on a GPU, barnes-hut on the CPU), exact, sparse, barnes-hut or fft")
        ->capture_default_str()->check(CLI::IsMember(viz::tsne_methods()));
    cmd->add_option("--iterations", o->tsne_iterations, "t-SNE iterations")->capture_default_str()->check(kPositive);
    cmd->add_option("--perplexity", o->perplexity, "t-SNE perplexity")->capture_default_str()->check(kPositive);
    set_action(cmd, [src, o] {
      // The train split is only loaded when asked for (and only as much of it as is used).
      src->load_train = o->split != "test";
      if (src->max_train == 0 && o->split == "train") src->max_train = o->points;  // load no more than is used
      return with_session(*src, "feature space", [&](viz::VizContext& c) { viz::feature_space_figure(c, *o); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::DreamFigureOptions>();
    auto image = std::make_shared<std::string>("0");
    CLI::App* cmd = technique(viz, "dream", "DeepDream at several layers, side by side", src);
    cmd->add_option("--layers", o->layers, "Layer paths, comma-separated (default: a shallow, a middle and a deep conv)")
        ->delimiter(',');
    cmd->add_option("--image", *image, "Start from a test image index or an image file (PNG/JPEG)")->capture_default_str();
    cmd->add_flag("--noise", o->noise, "Start from noise instead (default: off)");
    cmd->add_option("--channels", o->channels, "Amplify only these channels, comma-separated (default: all)")
        ->delimiter(',')->check(kCount);
    cmd->add_option("--octaves", o->octaves, "Octaves")->capture_default_str()->check(kPositive);
    cmd->add_option("--octave-scale", o->octave_scale, "Size ratio between octaves (>= 1)")
        ->capture_default_str()->check(CLI::Range(1.0, 4.0));
    cmd->add_option("--steps", o->steps, "Steps per octave")->capture_default_str()->check(kPositive);
    cmd->add_option("--step-size", o->step_size, "Mean change per pixel per step")
        ->capture_default_str()->check(kPositive);
    cmd->add_option("--jitter", o->jitter, "Random roll per step in pixels, 0: off (default: 1/14 of the image side)")
        ->check(kNonNegative);
    set_action(cmd, [src, o, image] {
      const ImageRef ref = parse_image_ref("--image", *image);
      o->image = ref.index;
      o->image_file = ref.file;
      return with_session(*src, "DeepDream", [&](viz::VizContext& c) { viz::dream_figure(c, *o); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::StyleFigureOptions>();
    CLI::App* cmd = technique(viz, "style", "Neural style transfer (Gatys et al.) with Adam or L-BFGS", src);
    cmd->add_option("--content", o->content, "Test image index for the content")->capture_default_str()->check(kCount);
    cmd->add_option("--style", o->style, "Test image index for the style")->capture_default_str()->check(kCount);
    cmd->add_option("--content-file", o->content_file, "Content image file (PNG/JPEG) instead")->check(CLI::ExistingFile);
    cmd->add_option("--style-file", o->style_file, "Style image file (PNG/JPEG) instead")->check(CLI::ExistingFile);
    cmd->add_option("--optimizer", o->optimizer, "lbfgs or adam")
        ->capture_default_str()->check(CLI::IsMember({"lbfgs", "adam"}));
    cmd->add_option("--steps", o->steps, "Iterations (L-BFGS) or steps (Adam)")->capture_default_str()->check(kPositive);
    cmd->add_option("--init", o->init, "Start from the content image or from noise: content or noise")
        ->capture_default_str()->check(CLI::IsMember({"content", "noise"}));
    cmd->add_option("--content-weight", o->content_weight, "Weight of the content loss")
        ->capture_default_str()->check(kNonNegative);
    cmd->add_option("--style-weight", o->style_weight, "Weight of the style loss")
        ->capture_default_str()->check(kNonNegative);
    cmd->add_option("--tv-weight", o->tv_weight, "Weight of the total-variation loss")
        ->capture_default_str()->check(kNonNegative);
    cmd->add_option("--frame-every", o->frame_every, "Keep a frame every n steps, 0: none (default: a quarter of the steps)")
        ->check(kNonNegative);
    cmd->add_option("--content-layer", o->content_layer, "Content layer (default: the second-to-last conv)");
    cmd->add_option("--style-layers", o->style_layers, "Style layers, comma-separated (default: every conv layer)")
        ->delimiter(',');
    set_action(cmd, [src, o] { return with_session(*src, "style transfer", [&](viz::VizContext& c) { viz::style_figure(c, *o); }); });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto quick = std::make_shared<bool>(false);
    CLI::App* cmd = technique(viz, "all", "Every visualization with its defaults (the run's full report)", src);
    cmd->add_flag("--quick", *quick, "Smaller settings: fewer scanned images, points and steps (default: off)");
    set_action(cmd, [src, quick] {
      return with_session(*src, "every visualization", [&](viz::VizContext& c) { write_all_figures(c, *quick); });
    });
  }
}

void write_all_figures(viz::VizContext& c, bool quick) {
  const bool gpu = c.device.is_cuda();
  auto step = [](const char* what) {
    std::printf("  %s\n", what);
    std::fflush(stdout);
  };
  step("filters of every conv layer");
  for (const std::string& layer : viz::conv_layers(*c.model->net)) {
    viz::FiltersFigureOptions f;
    f.layer = layer;
    viz::filters_figure(c, f);
  }
  step("feature maps");
  viz::feature_maps_figure(c, {});
  step("top patches and deconvnet projections");
  viz::TopPatchesFigureOptions top;
  top.max_images = quick ? 2000 : 0;
  viz::top_patches_figure(c, top);
  step("attribution maps");
  viz::attribution_figure(c, {});
  step("occlusion");
  viz::occlusion_figure(c, {});
  step("class-model images");
  viz::ClassModelFigureOptions cm;
  cm.steps = quick ? 60 : 200;
  viz::class_model_figure(c, cm);
  step("feature space");
  viz::FeatureSpaceOptions fs;
  fs.points = quick ? 1000 : 0;
  fs.tsne_iterations = quick ? 500 : 1000;
  viz::feature_space_figure(c, fs);
  step("DeepDream");
  viz::DreamFigureOptions dream;
  dream.steps = quick ? 8 : 20;
  viz::dream_figure(c, dream);
  step("style transfer");
  viz::StyleFigureOptions style;
  style.steps = quick || !gpu ? 30 : 100;
  viz::style_figure(c, style);
}

}  // namespace cs::cli
