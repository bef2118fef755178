// convscope viz <technique>: pictures of what a trained network sees and why.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/viz_session.h"
#include "viz/figures.h"

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

}  // namespace

void register_viz(CLI::App& app) {
  CLI::App* viz = app.add_subcommand("viz", "Visualize a trained network (writes PNG/SVG, raw .npy/.csv and a report section)");
  viz->require_subcommand(1);

  {
    auto src = std::make_shared<VizSource>();
    auto layer = std::make_shared<std::string>();
    CLI::App* cmd = technique(viz, "filters", "The filters of a conv layer as pictures (default: the first)", src);
    cmd->add_option("--layer", *layer, "A conv layer path (see `convscope summary`)");
    set_action(cmd, [src, layer] { return with_session(*src, "filters", [&](viz::VizContext& c) { viz::filters_figure(c, *layer); }); });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto image = std::make_shared<int64_t>(0);
    auto layers = std::make_shared<std::vector<std::string>>();
    CLI::App* cmd = technique(viz, "feature-maps", "Every channel of chosen layers for one test image", src);
    cmd->add_option("--image", *image, "Test image index")->capture_default_str();
    cmd->add_option("--layers", *layers, "Layer paths (default: the ReLU after every conv)");
    set_action(cmd, [src, image, layers] {
      return with_session(*src, "feature maps", [&](viz::VizContext& c) { viz::feature_maps_figure(c, *image, *layers); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::TopPatchesFigureOptions>();
    auto guided = std::make_shared<bool>(false);
    CLI::App* cmd = technique(viz, "top-patches", "Top-k test patches per unit with deconvnet projections (Zeiler & Fergus)", src);
    cmd->alias("deconv");
    cmd->add_option("--layers", o->layers, "Layer paths (default: the ReLU after every conv)");
    cmd->add_option("--k", o->k, "Patches per unit")->capture_default_str();
    cmd->add_option("--units", o->units, "Units shown per layer (the most active)")->capture_default_str();
    cmd->add_option("--max-images", o->max_images, "Scan only the first N test images (0: all)")->capture_default_str();
    cmd->add_flag("--guided", *guided, "Guided-backpropagation projections instead of deconvnet ones");
    set_action(cmd, [src, o, guided] {
      o->rule = *guided ? ag::ReluRule::Guided : ag::ReluRule::Deconvnet;
      return with_session(*src, "top patches", [&](viz::VizContext& c) { viz::top_patches_figure(c, *o); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto image = std::make_shared<int64_t>(0);
    auto max_images = std::make_shared<int64_t>(0);
    CLI::App* cmd = technique(viz, "story", "Layer by layer: filters, feature maps, top-9 patches and projections of every conv layer", src);
    cmd->add_option("--image", *image, "Test image for the feature maps")->capture_default_str();
    cmd->add_option("--max-images", *max_images, "Scan only the first N test images for top patches (0: all)");
    set_action(cmd, [src, image, max_images] {
      return with_session(*src, "layer-by-layer story", [&](viz::VizContext& c) {
        viz::filters_figure(c);
        viz::feature_maps_figure(c, *image);
        viz::TopPatchesFigureOptions o;
        o.max_images = *max_images;
        viz::top_patches_figure(c, o);
      });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto images = std::make_shared<std::vector<int64_t>>();
    auto layer = std::make_shared<std::string>();
    CLI::App* cmd = technique(viz, "attribution",
                              "Saliency, guided backprop, Grad-CAM, guided Grad-CAM and SmoothGrad for test images", src);
    for (const char* alias : {"saliency", "guided-backprop", "gradcam", "smoothgrad"}) cmd->alias(alias);
    cmd->add_option("--images", *images, "Test image indices (default: one per class)");
    cmd->add_option("--cam-layer", *layer, "Grad-CAM layer (default: the ReLU after the last conv)");
    set_action(cmd, [src, images, layer] {
      return with_session(*src, "attribution maps", [&](viz::VizContext& c) { viz::attribution_figure(c, *images, *layer); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::OcclusionFigureOptions>();
    CLI::App* cmd = technique(viz, "occlusion", "Occlusion maps: true-class probability and most probable class per patch position", src);
    cmd->add_option("--images", o->images, "Test image indices (default: 0 1 2)");
    cmd->add_option("--window", o->window, "Patch side in pixels (default: a quarter of the image)");
    cmd->add_option("--stride", o->stride, "Step between patches (default: a sixteenth of the image)");
    cmd->add_option("--fill", o->fill, "gray, mean, zero or blur")->capture_default_str();
    set_action(cmd, [src, o] { return with_session(*src, "occlusion", [&](viz::VizContext& c) { viz::occlusion_figure(c, *o); }); });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto steps = std::make_shared<int>(200);
    CLI::App* cmd = technique(viz, "class-model", "An image per class that maximises the class score (activation maximisation)", src);
    cmd->add_option("--steps", *steps, "Gradient-ascent steps")->capture_default_str();
    set_action(cmd, [src, steps] {
      return with_session(*src, "class-model images", [&](viz::VizContext& c) { viz::class_model_figure(c, *steps); });
    });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::FeatureSpaceOptions>();
    CLI::App* cmd = technique(viz, "features",
                              "Feature space: neighbours in pixels vs features, PCA, t-SNE, TensorBoard projector files", src);
    for (const char* alias : {"neighbors", "pca", "tsne"}) cmd->alias(alias);
    cmd->add_option("--points", o->points, "Test images (default: 10000 on a GPU, 2000 on the CPU)");
    cmd->add_option("--neighbours", o->neighbours, "k of k-NN")->capture_default_str();
    cmd->add_option("--queries", o->queries, "Query rows in the neighbours picture")->capture_default_str();
    cmd->add_option("--metric", o->metric, "l2, l1 or cosine")->capture_default_str();
    cmd->add_option("--layer", o->layer, "Feature layer (default: the input of the last linear layer)");
    cmd->add_option("--iterations", o->tsne_iterations, "t-SNE iterations")->capture_default_str();
    cmd->add_option("--perplexity", o->perplexity, "t-SNE perplexity")->capture_default_str();
    set_action(cmd, [src, o] { return with_session(*src, "feature space", [&](viz::VizContext& c) { viz::feature_space_figure(c, *o); }); });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::DreamFigureOptions>();
    CLI::App* cmd = technique(viz, "dream", "DeepDream at several layers, side by side", src);
    cmd->add_option("--layers", o->layers, "Layer paths (default: a shallow, a middle and a deep conv layer)");
    cmd->add_option("--image", o->image, "Test image to start from (default: the first)");
    cmd->add_flag("--noise", o->noise, "Start from noise instead");
    cmd->add_option("--octaves", o->octaves, "Octaves")->capture_default_str();
    cmd->add_option("--steps", o->steps, "Steps per octave")->capture_default_str();
    cmd->add_option("--step-size", o->step_size, "Mean change per pixel per step")->capture_default_str();
    set_action(cmd, [src, o] { return with_session(*src, "DeepDream", [&](viz::VizContext& c) { viz::dream_figure(c, *o); }); });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto o = std::make_shared<viz::StyleFigureOptions>();
    CLI::App* cmd = technique(viz, "style", "Neural style transfer (Gatys et al.) with Adam or L-BFGS", src);
    cmd->add_option("--content", o->content, "Test image index for the content")->capture_default_str();
    cmd->add_option("--style", o->style, "Test image index for the style")->capture_default_str();
    cmd->add_option("--content-file", o->content_file, "Content image file (PNG/JPEG) instead");
    cmd->add_option("--style-file", o->style_file, "Style image file (PNG/JPEG) instead");
    cmd->add_option("--optimizer", o->optimizer, "lbfgs or adam")->capture_default_str();
    cmd->add_option("--steps", o->steps, "Iterations (L-BFGS) or steps (Adam)")->capture_default_str();
    cmd->add_option("--content-layer", o->content_layer, "Content layer (default: the second-to-last conv)");
    cmd->add_option("--style-layers", o->style_layers, "Style layers (default: every conv layer)");
    set_action(cmd, [src, o] { return with_session(*src, "style transfer", [&](viz::VizContext& c) { viz::style_figure(c, *o); }); });
  }
  {
    auto src = std::make_shared<VizSource>();
    auto quick = std::make_shared<bool>(false);
    CLI::App* cmd = technique(viz, "all", "Every visualization with its defaults (the run's full report)", src);
    cmd->add_flag("--quick", *quick, "Smaller settings: fewer scanned images, points and steps");
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
  step("filters");
  viz::filters_figure(c);
  step("feature maps");
  viz::feature_maps_figure(c, 0);
  step("top patches and deconvnet projections");
  viz::TopPatchesFigureOptions top;
  top.max_images = quick ? 2000 : 0;
  viz::top_patches_figure(c, top);
  step("attribution maps");
  viz::attribution_figure(c, {});
  step("occlusion");
  viz::occlusion_figure(c, {});
  step("class-model images");
  viz::class_model_figure(c, quick ? 60 : 200);
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
