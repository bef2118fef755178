// Every visualization writer on a tiny model and dataset: files exist, images
// are not blank and have sensible sizes, and the run report refers to
// nothing missing. One pass through the command-line binary as well.
#include <filesystem>

#include "models/checkpoint.h"
#include "runtime/file_io.h"
#include "runtime/idx.h"
#include "runtime/image_io.h"
#include "tests/common/test_util.h"
#include "viz/figures.h"
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
  viz::filters_figure(c, "features.4");
  viz::feature_maps_figure(c, 2);
  viz::TopPatchesFigureOptions top;
  top.k = 3;
  top.units = 4;
  viz::top_patches_figure(c, top);
  viz::attribution_figure(c, {0, 1});
  viz::OcclusionFigureOptions occ;
  occ.images = {0};
  viz::occlusion_figure(c, occ);
  viz::class_model_figure(c, 5);
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
  const std::vector<models::EpochRecord> history = {{1, 1.0, 0.9, 0.5, {0.5, 0.4, 0.6}, 0.1, 1.0, 100},
                                                    {2, 0.8, 0.7, 0.6, {0.6, 0.5, 0.7}, 0.05, 1.0, 100}};
  models::Evaluation eval;
  eval.examples = 24;
  eval.accuracy = 0.6;
  eval.per_class_accuracy = {0.6, 0.5, 0.7};
  eval.confusion = {{5, 2, 1}, {2, 4, 2}, {1, 1, 6}};
  viz::write_training_figures(dir, history, eval, t->data.class_names);

  for (const char* png : {"viz/filters/features_0.png", "viz/filters/features_4.png", "viz/feature_maps/features_2.png",
                          "viz/top_patches/features_2.png", "viz/attribution/attribution.png",
                          "viz/occlusion/occlusion.png", "viz/class_models/class_models.png",
                          "viz/feature_space/neighbours.png", "viz/feature_space/tsne_thumbnails.png",
                          "viz/deepdream/deepdream.png", "viz/style_transfer/style_transfer.png"})
    expect_picture(dir + "/" + png);
  for (const char* other : {"training/loss.svg", "training/confusion.svg", "viz/feature_space/tsne.svg",
                            "viz/feature_space/projector/projector_config.pbtxt", "viz/feature_space/features.npy",
                            "viz/attribution/saliency.npy", "viz/style_transfer/losses.svg"})
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
  fs::remove(dir + "/viz/occlusion/occlusion.png");
  EXPECT_THROW(viz::write_run_report(dir), Error);
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
  ASSERT_EQ(run("viz saliency --images 0 3 --checkpoint " + dir + "/ten.safetensors --out " + dir + "/out --device cpu --max-test 50"), 0)
      << read_file_text(dir + "/log.txt");
  expect_picture(dir + "/out/viz/filters/features_0.png");
  expect_picture(dir + "/out/viz/attribution/attribution.png");
  EXPECT_TRUE(viz::missing_report_files(dir + "/out/report.html").empty());
}

}  // namespace
}  // namespace cs
