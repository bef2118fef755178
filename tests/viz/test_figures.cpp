// Every visualization writer on a tiny model and dataset: files exist, images
// are not blank and have sensible sizes, and the run report refers to
// nothing missing. One pass through the command-line binary as well.
#include <algorithm>
#include <filesystem>
#include <sstream>

#include "models/checkpoint.h"
#include "runtime/file_io.h"
#include "runtime/idx.h"
#include "runtime/image_io.h"
#include "runtime/npy.h"
#include "tests/common/test_util.h"
#include "tests/viz/render_test_util.h"
#include "viz/figures.h"
#include "viz/colormap.h"
#include "viz/image.h"
#include "viz/report.h"

namespace cs {
namespace {

namespace fs = std::filesystem;

const char* kTinySpec = R"(model tiny
param classes = 3
input 1 12 12
[features]
conv 4 3 padding=1
batchnorm
relu
maxpool 2
conv 6 3 padding=1
relu
layer flatten: flatten
[classifier]
dropout 0.1
linear 8
relu
linear ${classes}
)";

struct Tiny {
  models::Model model;
  models::DataSource data;
  viz::VizContext ctx;
};

std::unique_ptr<Tiny> make_tiny(const std::string& dir) {
  auto t = std::make_unique<Tiny>();
  t->model = models::build_model(models::parse_net_spec(kTinySpec, "tiny.spec"), 3);
  t->model.net->eval();
  const int64_t n = 24;
  std::vector<uint8_t> pixels(static_cast<size_t>(n * 144));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 37 + i / 144 * 11) % 256);
  std::vector<int32_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[i] = static_cast<int32_t>(i % 3);
  t->data.name = "tiny";
  t->data.class_names = {"zero", "one", "two"};
  t->data.mean = {0.5f};
  t->data.std = {0.25f};
  t->data.test.images = Tensor::from_vector(pixels, {n, 1, 12, 12});
  t->data.test.labels = Tensor::from_vector(labels, {n});
  t->data.test.labels_host = labels;
  t->data.train = t->data.test;
  fs::remove_all(dir);
  make_directories(dir);
  t->ctx.model = &t->model;
  t->ctx.data = &t->data;
  t->ctx.run_dir = dir;
  t->ctx.device = Device::cpu();
  return t;
}

viz::FiltersFigureOptions filters_of(const std::string& layer) {
  viz::FiltersFigureOptions o;
  o.layer = layer;
  return o;
}

// A PNG that exists, has a sensible size and more than one colour.
void expect_picture(const std::string& path, int min_side = 12) {
  ASSERT_TRUE(file_exists(path)) << path;
  const Tensor image = load_image(path);
  EXPECT_GE(image.dim(1), min_side) << path;
  EXPECT_GE(image.dim(2), min_side) << path;
  const std::vector<uint8_t> v = image.to_vector<uint8_t>();
  EXPECT_NE(*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())) << path << " is blank";
}

TEST(Figures, EveryWriterProducesPicturesAndAReport) {
  const std::string dir = ::testing::TempDir() + "convscope-figures";
  auto t = make_tiny(dir);
  viz::VizContext& c = t->ctx;
  viz::filters_figure(c);
  viz::filters_figure(c, filters_of("features.4"));
  viz::FeatureMapsFigureOptions maps;
  maps.image = 2;
  viz::feature_maps_figure(c, maps);
  viz::TopPatchesFigureOptions top;
  top.k = 3;
  top.units = 4;
  viz::top_patches_figure(c, top);
  viz::AttributionFigureOptions attribution;
  attribution.images = {0, 1};
  viz::attribution_figure(c, attribution);
  viz::OcclusionFigureOptions occ;
  occ.images = {0};
  viz::occlusion_figure(c, occ);
  viz::ClassModelFigureOptions class_model;
  class_model.steps = 5;
  viz::class_model_figure(c, class_model);
  viz::FeatureSpaceOptions fs_options;
  fs_options.points = 24;
  fs_options.neighbours = 3;
  fs_options.queries = 2;
  fs_options.tsne_iterations = 60;
  fs_options.perplexity = 5;
  viz::feature_space_figure(c, fs_options);
  viz::DreamFigureOptions dream;
  dream.octaves = 2;
  dream.steps = 3;
  viz::dream_figure(c, dream);
  viz::StyleFigureOptions style;
  style.steps = 4;
  viz::style_figure(c, style);
  std::vector<models::EpochRecord> history(2);
  for (int e = 0; e < 2; ++e) {
    history[e].epoch = e + 1;
    history[e].train_loss = 1.0 - 0.2 * e;
    history[e].test_loss = 0.9 - 0.2 * e;
    history[e].test_accuracy = 0.5 + 0.1 * e;
    history[e].per_class_accuracy = {0.5 + 0.1 * e, 0.4 + 0.1 * e, 0.6 + 0.1 * e};
    history[e].lr = 0.1 / (e + 1);
    history[e].seconds = 1.0;
    history[e].images_per_second = 100;
  }
  models::Evaluation eval;
  eval.examples = 24;
  eval.accuracy = 0.6;
  eval.per_class_accuracy = {0.6, 0.5, 0.7};
  eval.confusion = {{5, 2, 1}, {2, 4, 2}, {1, 1, 6}};
  viz::write_training_figures(dir, history, eval, t->data.class_names);

  // File names carry the variant (layer, image, rule, ...), so variants never overwrite each other.
  for (const char* png : {"viz/filters/features_0.png", "viz/filters/features_4.png",
                          "viz/feature_maps/test2_features_2.png", "viz/top_patches/deconvnet_k3_features_2.png",
                          "viz/attribution/all_predicted_test0+test1.png", "viz/occlusion/gray_w3_s1_test0.png",
                          "viz/class_models/classes.png", "viz/feature_space/test24_2d_auto_neighbours.png",
                          "viz/feature_space/test24_2d_auto_tsne_thumbnails.png", "viz/deepdream/test0.png",
                          "viz/style_transfer/test0_in_test1_lbfgs_from_content.png"})
    expect_picture(dir + "/" + png);
  for (const char* other : {"training/loss.svg", "training/confusion.svg", "viz/feature_space/test24_2d_auto_tsne.svg",
                            "viz/feature_space/test24_2d_auto_projector/projector_config.pbtxt",
                            "viz/feature_space/test24_2d_auto_features.npy", "viz/feature_space/test24_2d_auto_features.csv",
                            "viz/feature_space/test24_2d_auto_tsne.json",
                            "viz/attribution/all_predicted_test0+test1_saliency.npy",
                            "viz/style_transfer/test0_in_test1_lbfgs_from_content_losses.svg"})
    EXPECT_TRUE(file_exists(dir + "/" + other)) << other;

  const std::string report = viz::write_run_report(dir);
  EXPECT_TRUE(viz::missing_report_files(report).empty());
  const std::string html = read_file_text(report);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  const std::vector<std::string> refs = viz::html_references(html);
  EXPECT_GE(refs.size(), 15u);
  for (const char* heading : {"Training", "Filters of", "Feature maps", "Top-3 patches", "Which pixels matter",
                              "Occlusion", "Feature space", "DeepDream", "Style transfer"})
    EXPECT_NE(html.find(heading), std::string::npos) << heading;
  // A deleted picture is caught.
  EXPECT_TRUE(testing::well_formed_html(html));
  fs::remove(dir + "/viz/occlusion/gray_w3_s1_test0.png");
  EXPECT_THROW(viz::write_run_report(dir), Error);
}

// Two variants of one technique (two layers, two projection rules) both reach
// the report; re-making a variant replaces its section instead of adding one.
TEST(Figures, SectionsAreKeyedByTechniqueAndVariant) {
  const std::string dir = ::testing::TempDir() + "convscope-sections";
  auto t = make_tiny(dir);
  viz::VizContext& c = t->ctx;
  // A section.json from before sections were keyed goes away when its folder gets keyed ones.
  make_directories(dir + "/viz/filters");
  write_file_atomic(dir + "/viz/filters/section.json",
                    std::string(R"({"order": 20, "heading": "Old filters", "figures": []})"));
  viz::filters_figure(c, filters_of("features.4"));
  viz::filters_figure(c, filters_of("features.0"));
  viz::TopPatchesFigureOptions top;
  top.k = 2;
  top.units = 2;
  viz::top_patches_figure(c, top);
  top.rule = ag::ReluRule::Guided;
  viz::top_patches_figure(c, top);
  viz::filters_figure(c, filters_of("features.0"));  // again: replaces, does not duplicate
  std::vector<std::string> headings;
  for (const viz::SavedSection& s : viz::load_sections(dir)) headings.push_back(s.section.heading);
  EXPECT_EQ(headings, (std::vector<std::string>{"Filters of features.0", "Filters of features.4",
                                                "Top-2 patches and deconvnet projections",
                                                "Top-2 patches and guided projections"}));
  const std::string html = read_file_text(viz::write_run_report(dir));
  EXPECT_TRUE(testing::well_formed_html(html));
  for (const char* ref : {"viz/filters/features_0.png", "viz/filters/features_4.png",
                          "viz/top_patches/deconvnet_k2_features_2.png", "viz/top_patches/guided_k2_features_2.png"})
    EXPECT_NE(html.find(std::string("src=\"") + ref + "\""), std::string::npos) << ref;
  EXPECT_EQ(html.find("Old filters"), std::string::npos);
  EXPECT_LT(html.find("Filters of features.0"), html.find("Filters of features.4")) << "shallow layers first";
}

// The label map is categorical: stretched by nearest neighbour, every pixel is
// one of the legend's colours (bilinear stretching blends neighbours).
TEST(Figures, OcclusionLabelMapsUseOnlyLegendColours) {
  const std::string dir = ::testing::TempDir() + "convscope-occlusion";
  auto t = make_tiny(dir);
  viz::OcclusionFigureOptions o;
  o.images = {0, 4};
  o.window = 4;
  o.stride = 3;
  o.unit_layer = "features.2";
  o.unit = 1;
  o.target_class = 2;
  viz::occlusion_figure(t->ctx, o);
  std::vector<viz::Color> legend;
  for (int k = 0; k < 3; ++k) legend.push_back(viz::category_color(k));
  for (const char* key : {"test0", "test4"}) {
    const std::string base = dir + "/viz/occlusion/gray_w4_s3_class2_unit_features_2_1_test0+test4_" + key;
    const viz::Image map = viz::Image::load(base + "_top_class.png");
    EXPECT_EQ(map.width(), 12);
    EXPECT_EQ(map.height(), 12);
    for (int y = 0; y < map.height(); ++y)
      for (int x = 0; x < map.width(); ++x)
        EXPECT_NE(std::find(legend.begin(), legend.end(), map.at(x, y)), legend.end()) << key << " at " << x << "," << y;
    EXPECT_TRUE(file_exists(base + "_unit.npy"));
  }
  expect_picture(dir + "/viz/occlusion/gray_w4_s3_class2_unit_features_2_1_test0+test4.png");
  o.target_class = 3;
  EXPECT_THROW(viz::occlusion_figure(t->ctx, o), Error);
}

TEST(Figures, FeatureMapsPerMapAndSharedScale) {
  const std::string dir = ::testing::TempDir() + "convscope-feature-maps";
  auto t = make_tiny(dir);
  viz::FeatureMapsFigureOptions o;
  o.image = 5;
  o.layers = {"features.0"};
  viz::feature_maps_figure(t->ctx, o);
  o.shared_scale = true;
  viz::feature_maps_figure(t->ctx, o);
  const viz::Image per_map = viz::Image::load(dir + "/viz/feature_maps/test5_features_0.png");
  const viz::Image shared = viz::Image::load(dir + "/viz/feature_maps/test5_shared_features_0.png");
  ASSERT_EQ(per_map.width(), shared.width());
  EXPECT_NE(std::vector<uint8_t>(per_map.data(), per_map.data() + 3 * per_map.width() * per_map.height()),
            std::vector<uint8_t>(shared.data(), shared.data() + 3 * shared.width() * shared.height()))
      << "one colour range per layer differs from one per map";
  EXPECT_EQ(viz::load_sections(dir).size(), 2u);
}

TEST(Figures, AttributionOfFilesForAClassAndOneTechnique) {
  const std::string dir = ::testing::TempDir() + "convscope-attribution";
  auto t = make_tiny(dir);
  viz::Image picture(20, 16, viz::kWhite);
  viz::fill_rect(picture, 4, 4, 8, 6, viz::kBlack);
  picture.save_png(dir + "/shoe.png");
  viz::AttributionFigureOptions o;
  o.files = {dir + "/shoe.png"};
  o.images = {3};
  o.target_class = 1;
  o.techniques = {"saliency"};
  viz::attribution_figure(t->ctx, o);
  const std::string base = dir + "/viz/attribution/saliency_class1_test3+file_shoe";
  expect_picture(base + ".png");
  const Tensor maps = load_npy(base + "_saliency.npy");
  EXPECT_EQ(maps.shape(), (Shape{2, 12, 12}));  // the file was resized to the model's input
  EXPECT_FALSE(file_exists(base + "_smoothgrad.npy")) << "only the named technique runs";
  // Guided backprop of one unit.
  o.techniques = {"guided-backprop"};
  o.unit_layer = "features.5";
  o.unit = 2;
  viz::attribution_figure(t->ctx, o);
  EXPECT_EQ(load_npy(dir + "/viz/attribution/guided-backprop_class1_unit_features_5_2_test3+file_shoe_guided_backprop_unit.npy")
                .shape(),
            (Shape{2, 1, 12, 12}));
  o.unit = 6;  // features.5 has 6 channels
  EXPECT_THROW(viz::attribution_figure(t->ctx, o), Error);
  o.unit = 0;
  o.techniques = {"sailency"};
  EXPECT_THROW(viz::attribution_figure(t->ctx, o), Error);
  o.techniques = {};
  o.target_class = 3;
  EXPECT_THROW(viz::attribution_figure(t->ctx, o), Error);
  o.target_class = -1;
  o.files = {dir + "/none.png"};
  EXPECT_THROW(viz::attribution_figure(t->ctx, o), Error);
}

TEST(Figures, TheCommandLineWritesPicturesFromACheckpoint) {
  const std::string dir = ::testing::TempDir() + "convscope-cli-figures";
  fs::remove_all(dir);
  make_directories(dir);
  const std::string binary = std::string(CONVSCOPE_BINARY_DIR) + "/cli/convscope";
  ASSERT_TRUE(file_exists(binary)) << binary;
  auto run = [&](const std::string& args) {
    const std::string cmd = binary + " " + args + " > " + dir + "/log.txt 2>&1";
    return std::system(cmd.c_str());
  };
  // A 3-class model on 10-class FashionMNIST is refused with a clear message.
  auto t = make_tiny(dir + "/three");
  models::save_checkpoint(dir + "/three.safetensors", t->model);
  EXPECT_NE(run("viz filters --checkpoint " + dir + "/three.safetensors --out " + dir + "/out --device cpu"), 0);
  EXPECT_NE(read_file_text(dir + "/log.txt").find("classes"), std::string::npos) << read_file_text(dir + "/log.txt");
  if (!file_exists(default_fashion_mnist_dir() + "/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "FashionMNIST not installed";
  // A 10-class model for 28x28 images: filters and attribution maps from its checkpoint.
  std::string spec = kTinySpec;
  spec.replace(spec.find("classes = 3"), 11, "classes = 10");
  spec.replace(spec.find("input 1 12 12"), 13, "input 1 28 28");
  models::Model ten = models::build_model(models::parse_net_spec(spec, "tiny.spec"), 4);
  models::save_checkpoint(dir + "/ten.safetensors", ten);
  ASSERT_EQ(run("viz filters --checkpoint " + dir + "/ten.safetensors --out " + dir + "/out --device cpu --max-test 50"), 0)
      << read_file_text(dir + "/log.txt");
  const std::string source = " --checkpoint " + dir + "/ten.safetensors --out " + dir + "/out --device cpu --max-test 50";
  ASSERT_EQ(run("viz saliency --images 0 3" + source), 0) << read_file_text(dir + "/log.txt");
  expect_picture(dir + "/out/viz/filters/features_0.png");
  expect_picture(dir + "/out/viz/attribution/saliency_predicted_test0+test3.png");
  // An image file, a chosen class, and only the named technique.
  viz::Image picture(40, 30, viz::kWhite);
  viz::fill_rect(picture, 10, 5, 20, 20, viz::kBlack);
  picture.save_png(dir + "/bag.png");
  ASSERT_EQ(run("viz gradcam --image " + dir + "/bag.png --class 8" + source), 0) << read_file_text(dir + "/log.txt");
  expect_picture(dir + "/out/viz/attribution/gradcam+guided-gradcam_class8_file_bag.png");
  EXPECT_FALSE(file_exists(dir + "/out/viz/attribution/gradcam+guided-gradcam_class8_file_bag_saliency.npy"));
  // The story: filters of every conv layer, not only the first.
  ASSERT_EQ(run("viz story --max-images 20 --k 2 --units 2 --scale shared" + source), 0) << read_file_text(dir + "/log.txt");
  expect_picture(dir + "/out/viz/filters/features_4.png");
  expect_picture(dir + "/out/viz/feature_maps/test0_shared_features_2.png");
  // The train split for the feature space, in 3-D, with the exact method.
  ASSERT_EQ(run("viz tsne --split train --max-images 60 --dims 3 --method exact --iterations 60 --perplexity 5 "
                "--neighbours 3 --queries 2" + source),
            0)
      << read_file_text(dir + "/log.txt");
  EXPECT_EQ(load_npy(dir + "/out/viz/feature_space/train60_3d_exact_tsne.npy").shape(), (Shape{60, 3}));
  EXPECT_TRUE(file_exists(dir + "/out/viz/feature_space/train60_3d_exact_features.csv"));
  // Both splits at once (train then test), with the FFT-accelerated t-SNE.
  ASSERT_EQ(run("viz tsne --split all --max-train 40 --method fft --iterations 60 --perplexity 5 "
                "--neighbours 3 --queries 2" + source),
            0)
      << read_file_text(dir + "/log.txt");
  EXPECT_EQ(load_npy(dir + "/out/viz/feature_space/all90_2d_fft_tsne.npy").shape(), (Shape{90, 2}));
  const std::vector<int32_t> all_labels = load_npy(dir + "/out/viz/feature_space/all90_2d_fft_labels.npy").to_vector<int32_t>();
  ASSERT_EQ(all_labels.size(), 90u);
  const IdxArray train_labels = read_idx(default_fashion_mnist_dir() + "/train-labels-idx1-ubyte.gz");
  const IdxArray test_labels = read_idx(default_fashion_mnist_dir() + "/t10k-labels-idx1-ubyte.gz");
  for (int i = 0; i < 90; ++i)
    EXPECT_EQ(all_labels[i], i < 40 ? train_labels.data[i] : test_labels.data[i - 40]) << "image " << i;
  const std::string html = read_file_text(dir + "/out/report.html");
  EXPECT_TRUE(viz::missing_report_files(dir + "/out/report.html").empty());
  EXPECT_TRUE(testing::well_formed_html(html));
  // Both attribution variants are in the report.
  const std::vector<std::string> refs = viz::html_references(html);
  for (const char* ref : {"viz/attribution/saliency_predicted_test0+test3.png",
                          "viz/attribution/gradcam+guided-gradcam_class8_file_bag.png"})
    EXPECT_NE(std::find(refs.begin(), refs.end(), ref), refs.end()) << ref;
  // Bad values: a non-zero exit and one error line naming the option (CLI11 adds a
  // "Run with --help" hint to its own parse errors).
  for (const char* bad : {"viz occlusion --fill purple", "viz features --dims 4", "viz features --method fast",
                          "viz dream --octave-scale 0.5", "viz style --init random", "viz saliency --class -2",
                          "viz saliency --image /no/such.png", "viz dream --image /no/such.png",
                          "viz class-model --unit 3", "viz saliency --class 12"}) {
    EXPECT_NE(run(std::string(bad) + source), 0) << bad;
    const std::string log = read_file_text(dir + "/log.txt");
    // Progress lines ("... on cpu ...") and CLI11's hint aside, one line: the error.
    std::vector<std::string> lines;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);)
      if (line != "Run with --help for more information." && !line.ends_with(" ...")) lines.push_back(line);
    ASSERT_EQ(lines.size(), 1u) << bad << ":\n" << log;
    const std::string option = std::string(bad).substr(std::string(bad).find(" --") + 1);
    EXPECT_NE(lines[0].find(option.substr(0, option.find(' '))), std::string::npos) << bad << ":\n" << log;
    EXPECT_LT(lines[0].size(), 200u) << bad << ":\n" << log;
  }
  // --help states every default.
  EXPECT_EQ(run("viz dream --help"), 0);
  const std::string help = read_file_text(dir + "/log.txt");
  for (const char* text : {"--octave-scale", "1.4", "--jitter", "--channels", "--layers", "--image"})
    EXPECT_NE(help.find(text), std::string::npos) << text << " in\n" << help;
}

}  // namespace
}  // namespace cs
