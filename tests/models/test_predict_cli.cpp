// `convscope predict` end to end: a small checkpoint written through the
// checkpoint API, PNG files, the top-k table, class names from a file or
// from the checkpoint, and one-line errors with a non-zero exit status.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "autograd/ops.h"
#include "kernels/softmax.h"
#include "models/checkpoint.h"
#include "models/data.h"
#include "models/image_folder.h"
#include "runtime/file_io.h"
#include "runtime/image_io.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

namespace fs = std::filesystem;

const char* kSpec = R"(model tiny-rgb
param classes = 7
input 3 16 16
[features]
conv 4 3 padding=1
relu
maxpool 2
layer flatten: flatten
[classifier]
linear ${classes}
)";

struct Cli {
  std::string dir, binary = std::string(CONVSCOPE_BINARY_DIR) + "/cli/convscope";
  std::string out, err;
  int run(const std::string& args) {
    const std::string cmd = binary + " " + args + " > " + dir + "/stdout.txt 2> " + dir + "/stderr.txt";
    const int status = std::system(cmd.c_str());
    out = read_file_text(dir + "/stdout.txt");
    err = read_file_text(dir + "/stderr.txt");
    return status;
  }
};

struct Row {
  double percent;
  std::string name;
};

// The rows under the line that names `image`.
std::vector<Row> rows_for(const std::string& out, const std::string& image) {
  std::istringstream in(out);
  std::vector<Row> rows;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == image) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    double p = 0;
    char name[256] = {0};
    if (line.rfind("  ", 0) != 0 || std::sscanf(line.c_str(), " %lf%% %255[^\n]", &p, name) != 2) break;
    rows.push_back({p, name});
  }
  return rows;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class PredictCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: CTest may run them in parallel.
    cli.dir = ::testing::TempDir() + "convscope-predict-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(cli.dir);
    fs::create_directories(cli.dir);
    ASSERT_TRUE(file_exists(cli.binary)) << cli.binary;
    model = models::build_model(models::parse_net_spec(kSpec, "tiny-rgb.spec"), 11);
    checkpoint = cli.dir + "/tiny.safetensors";
    models::save_checkpoint(checkpoint, model);
    // A 20x24 RGB picture (resized to 16 on its shorter side, centre cropped).
    std::vector<uint8_t> px(3 * 20 * 24);
    for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 53 + i / 24 * 7) % 256);
    image = cli.dir + "/picture.png";
    save_png(image, Tensor::from_vector(px, {3, 20, 24}));
    names = cli.dir + "/names.txt";
    std::ofstream(names) << "shirt\ncoat\nsandal\nbag\nboot\nsneaker\ndress\n";
  }

  // The probabilities convscope should print, computed in-process.
  std::vector<float> expected_probabilities() {
    model.net->eval();
    const Tensor u8 = models::load_image_resized(image, 3, 16);
    models::DataSource norm;
    norm.mean = {0.485f, 0.456f, 0.406f};
    norm.std = {0.229f, 0.224f, 0.225f};
    const Tensor x = models::prepare_images(u8.reshape({1, 3, 16, 16}), norm, {3, 16, 16});
    ag::NoGradGuard no_grad;
    const Tensor logits = (*model.net)(ag::Variable(x)).value();
    Tensor probs = Tensor::empty_like(logits);
    kernels::softmax_forward(logits, probs);
    return probs.to_vector<float>();
  }

  Cli cli;
  models::Model model;
  std::string checkpoint, image, names;
};

TEST_F(PredictCli, PrintsTheTopFiveSortedWithNamesFromTheClassesFile) {
  ASSERT_EQ(cli.run("predict " + image + " --checkpoint " + checkpoint + " --classes " + names + " --device cpu"), 0)
      << cli.out << cli.err;
  const std::vector<Row> rows = rows_for(cli.out, image);
  ASSERT_EQ(rows.size(), 5u) << cli.out;
  const std::vector<std::string> all = {"shirt", "coat", "sandal", "bag", "boot", "sneaker", "dress"};
  const std::vector<float> probs = expected_probabilities();
  std::vector<int> order(7);
  for (int i = 0; i < 7; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return probs[a] > probs[b]; });
  double sum = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    EXPECT_NE(std::find(all.begin(), all.end(), rows[k].name), all.end()) << rows[k].name;
    EXPECT_EQ(rows[k].name, all[order[k]]) << "row " << k;
    EXPECT_NEAR(rows[k].percent, 100.0 * probs[order[k]], 0.006) << "row " << k;
    EXPECT_GE(rows[k].percent, 0.0);
    if (k > 0) {
      EXPECT_LE(rows[k].percent, rows[k - 1].percent) << "rows must be sorted";
    }
    sum += rows[k].percent;
  }
  EXPECT_LE(sum, 100.0 + 5 * 0.005) << "top-5 of 7 classes";
  EXPECT_GT(sum, 0.0);
  EXPECT_NE(cli.out.find("ImageNet"), std::string::npos) << "says which normalisation it used";
}

TEST_F(PredictCli, UsesTheCheckpointsNamesAndHonoursTop) {
  const std::string named = cli.dir + "/named.safetensors";
  models::save_checkpoint(named, model,
                          {{"convscope.class_names", R"(["a0","a1","a2","a3","a4","a5","a6"])"}});
  const std::string second = cli.dir + "/second.png";
  fs::copy_file(image, second);
  ASSERT_EQ(cli.run("predict " + image + " " + second + " --checkpoint " + named + " --top 3 --device cpu"), 0)
      << cli.out << cli.err;
  for (const std::string& path : {image, second}) {
    const std::vector<Row> rows = rows_for(cli.out, path);
    ASSERT_EQ(rows.size(), 3u) << cli.out;
    for (const Row& r : rows) EXPECT_EQ(r.name.rfind("a", 0), 0u) << r.name;
  }
  // --top above the class count shows every class once, summing to 100%.
  ASSERT_EQ(cli.run("predict " + image + " --checkpoint " + named + " --top 50 --device cpu"), 0) << cli.err;
  const std::vector<Row> rows = rows_for(cli.out, image);
  ASSERT_EQ(rows.size(), 7u);
  double sum = 0;
  for (const Row& r : rows) sum += r.percent;
  EXPECT_NEAR(sum, 100.0, 7 * 0.005);
}

TEST_F(PredictCli, BadInputsGiveOneLineErrorsAndAFailingExit) {
  // A corrupt image.
  const std::string corrupt = cli.dir + "/corrupt.png";
  std::ofstream(corrupt) << "definitely not a PNG";
  EXPECT_NE(cli.run("predict " + corrupt + " --checkpoint " + checkpoint + " --device cpu"), 0);
  std::vector<std::string> lines = lines_of(cli.err);
  ASSERT_EQ(lines.size(), 1u) << cli.err;
  EXPECT_NE(lines[0].find(corrupt), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].rfind("convscope: error: ", 0), 0u) << lines[0];
  // A classes file with the wrong number of names.
  const std::string short_names = cli.dir + "/short.txt";
  std::ofstream(short_names) << "one\ntwo\n";
  EXPECT_NE(cli.run("predict " + image + " --checkpoint " + checkpoint + " --classes " + short_names + " --device cpu"), 0);
  lines = lines_of(cli.err);
  ASSERT_EQ(lines.size(), 1u) << cli.err;
  EXPECT_NE(lines[0].find(short_names), std::string::npos) << lines[0];
  // A checkpoint that is not safetensors.
  EXPECT_NE(cli.run("predict " + image + " --checkpoint " + names + " --device cpu"), 0);
  lines = lines_of(cli.err);
  ASSERT_EQ(lines.size(), 1u) << cli.err;
  EXPECT_NE(lines[0].find(names), std::string::npos) << lines[0];
  // A missing image: refused before anything runs, naming the path.
  EXPECT_NE(cli.run("predict " + cli.dir + "/nope.png --checkpoint " + checkpoint + " --device cpu"), 0);
  EXPECT_NE(cli.err.find(cli.dir + "/nope.png"), std::string::npos) << cli.err;
}

}  // namespace
}  // namespace cs
