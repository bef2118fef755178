// The image-folder dataset: class discovery, labels, splits, shorter-side
// resize + centre crop, ImageNet normalisation, seeded crop/flip
// augmentation, and errors that name unreadable files. Every image is
// written here through the project's PNG writer into a fresh temp folder.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>

#include "models/data.h"
#include "models/image_folder.h"
#include "runtime/file_io.h"
#include "runtime/image_io.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "convscope-folder-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A (C, H, W) uint8 image with pixel(c, y, x) = f(c, y, x).
template <typename F>
Tensor make_image(int64_t c, int64_t h, int64_t w, F f) {
  std::vector<uint8_t> v(static_cast<size_t>(c * h * w));
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v[(ch * h + y) * w + x] = static_cast<uint8_t>(f(ch, y, x));
  return Tensor::from_vector(v, {c, h, w});
}

Tensor solid(int64_t h, int64_t w, uint8_t r, uint8_t g, uint8_t b) {
  const uint8_t rgb[3] = {r, g, b};
  return make_image(3, h, w, [&](int64_t c, int64_t, int64_t) { return rgb[c]; });
}

void write_png(const std::string& path, const Tensor& image) {
  fs::create_directories(fs::path(path).parent_path());
  save_png(path, image);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(ImageFolder, DiscoversClassesInNameOrderAndLabelsEveryImage) {
  const std::string root = fresh_dir("classes");
  // Folders created out of order; the class index is the sorted position, as
  // in torchvision's ImageFolder. Non-image files are ignored.
  const std::vector<std::string> created = {"zebra", "ant", "moth"};
  for (size_t k = 0; k < created.size(); ++k)
    for (const char* file : {"b.png", "c.png", "a.png"})
      write_png(root + "/" + created[k] + "/" + file,
                solid(6, 9, static_cast<uint8_t>(40 * k + 10), static_cast<uint8_t>(file[0]), 200));
  std::ofstream(root + "/README.txt") << "not a class\n";
  std::ofstream(root + "/ant/notes.txt") << "not an image\n";

  // Every 3rd image of a class (by name) is held out: c.png.
  const models::FolderSplits s = models::load_image_folder(root, 4, 1.0 / 3.0);
  EXPECT_EQ(s.train.class_names, (std::vector<std::string>{"ant", "moth", "zebra"}));
  EXPECT_EQ(s.test.class_names, s.train.class_names);
  const std::vector<std::string> want_train = {root + "/ant/a.png",  root + "/ant/b.png",
                                               root + "/moth/a.png", root + "/moth/b.png",
                                               root + "/zebra/a.png", root + "/zebra/b.png"};
  const std::vector<std::string> want_test = {root + "/ant/c.png", root + "/moth/c.png",
                                              root + "/zebra/c.png"};
  EXPECT_EQ(s.train_files, want_train);
  EXPECT_EQ(s.test_files, want_test);
  EXPECT_EQ(s.train.labels.to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(s.test.labels.to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2}));
  ASSERT_EQ(s.train.images.shape(), (Shape{6, 3, 4, 4}));
  ASSERT_EQ(s.test.images.shape(), (Shape{3, 3, 4, 4}));
  // The pixels are those of the right file: red encodes the folder as
  // created, green the file's first letter.
  const std::vector<uint8_t> px = s.train.images.to_vector<uint8_t>();
  const uint8_t red_of_class[3] = {50, 90, 10};  // ant was created 2nd, moth 3rd, zebra 1st
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(px[(i * 3 + 0) * 16 + 5], red_of_class[i / 2]) << i;
    EXPECT_EQ(px[(i * 3 + 1) * 16 + 5], i % 2 == 0 ? 'a' : 'b') << i;
    EXPECT_EQ(px[(i * 3 + 2) * 16 + 15], 200) << i;
  }
}

TEST(ImageFolder, UsesTrainAndValFoldersWhenPresent) {
  const std::string root = fresh_dir("splits");
  for (const char* split : {"train", "val"})
    for (const char* cls : {"dog", "cat"})
      for (int i = 0; i < (std::string(split) == "train" ? 3 : 1); ++i)
        write_png(root + "/" + split + "/" + cls + "/" + std::to_string(i) + ".png", solid(5, 5, 1, 2, 3));
  const models::FolderSplits s = models::load_image_folder(root, 5);
  EXPECT_EQ(s.train.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(s.train.labels.to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(s.test.labels.to_vector<int32_t>(), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(s.test_files.front(), root + "/val/cat/0.png");
  // A class the training split lacks is an error that names it.
  write_png(root + "/val/emu/0.png", solid(5, 5, 1, 2, 3));
  EXPECT_NE(error_of([&] { models::load_image_folder(root, 5); }).find("'emu'"), std::string::npos);
  EXPECT_NE(error_of([&] { models::load_image_folder(root + "/nope", 5); }).find(root + "/nope"),
            std::string::npos);
}

TEST(ImageFolder, ResizesTheShorterSideAndCropsTheCentre) {
  const std::string root = fresh_dir("resize");
  // A wide 8x4 image (W x H), R = 10x + 20y, G = 255 - R, B = 7 + 30y. Halving
  // with align_corners = false samples at 2d + 0.5: each output pixel is the
  // mean of a 2x2 block, so at size 2 the resized 4x2 image holds
  // R(e, d) = 20d + 40e + 15, and the centre crop keeps columns d = 1, 2.
  const Tensor wide = make_image(3, 4, 8, [](int64_t c, int64_t y, int64_t x) {
    const int64_t r = 10 * x + 20 * y;
    return c == 0 ? r : c == 1 ? 255 - r : 7 + 30 * y;
  });
  write_png(root + "/wide.png", wide);
  const Tensor w2 = models::load_image_resized(root + "/wide.png", 3, 2);
  ASSERT_EQ(w2.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(w2.to_vector<uint8_t>(), (std::vector<uint8_t>{35, 55, 75, 95,       // R
                                                           220, 200, 180, 160,   // G = 255 - R
                                                           22, 22, 82, 82}));    // B = 7 + 30 (2e + 0.5)
  // The same image standing up (8 tall, 4 wide): the crop keeps rows 1, 2.
  const Tensor tall = make_image(1, 8, 4, [](int64_t, int64_t y, int64_t x) { return 10 * y + 20 * x; });
  write_png(root + "/tall.png", tall);
  const Tensor t2 = models::load_image_resized(root + "/tall.png", 1, 2);
  EXPECT_EQ(t2.to_vector<uint8_t>(), (std::vector<uint8_t>{35, 75, 55, 95}));
  // Gray files become RGB when 3 channels are asked for: three equal planes.
  const Tensor t3 = models::load_image_resized(root + "/tall.png", 3, 2);
  EXPECT_EQ(t3.to_vector<uint8_t>(), (std::vector<uint8_t>{35, 75, 55, 95, 35, 75, 55, 95, 35, 75, 55, 95}));
  // Already at the size: unchanged.
  const Tensor same = models::load_image_resized(root + "/wide.png", 3, 4);
  ASSERT_EQ(same.shape(), (Shape{3, 4, 4}));
  const std::vector<uint8_t> sv = same.to_vector<uint8_t>(), wv = wide.to_vector<uint8_t>();
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 4; ++x) EXPECT_EQ(sv[y * 4 + x], wv[y * 8 + x + 2]) << y << "," << x;
  // Upscaling 3x2 (W x H) to size 4: 6x4, the middle 4 columns. Each output
  // pixel of row 0 is interpolated along x only (source rows clamp at 0.. 1):
  // x_src = (d + 0.5) / 2 - 0.5 for d = 1..4 -> 0.25, 0.75, 1.25, 1.75.
  const Tensor small = make_image(1, 2, 3, [](int64_t, int64_t y, int64_t x) { return 100 * x + 8 * y; });
  write_png(root + "/small.png", small);
  const std::vector<uint8_t> up = models::load_image_resized(root + "/small.png", 1, 4).to_vector<uint8_t>();
  ASSERT_EQ(up.size(), 16u);
  EXPECT_EQ((std::vector<uint8_t>(up.begin(), up.begin() + 4)), (std::vector<uint8_t>{25, 75, 125, 175}));
  EXPECT_EQ((std::vector<uint8_t>(up.end() - 4, up.end())), (std::vector<uint8_t>{33, 83, 133, 183}));
}

TEST(ImageFolder, NormalisesWithImageNetStatistics) {
  const std::string root = fresh_dir("normalise");
  write_png(root + "/train/a/0.png", make_image(3, 6, 6, [](int64_t c, int64_t y, int64_t x) { return 40 * c + 6 * y + x; }));
  write_png(root + "/train/a/1.png", solid(6, 6, 255, 0, 128));
  write_png(root + "/train/b/0.png", solid(6, 6, 1, 2, 3));
  write_png(root + "/val/a/0.png", solid(6, 6, 255, 0, 128));
  write_png(root + "/val/b/0.png", solid(6, 6, 4, 5, 6));
  models::DataConfig config;
  config.dataset = "folder";
  config.dir = root;
  config.image_size = 6;
  const models::DataSource source = models::load_dataset(config, Device::cpu(), {3, 6, 6});
  EXPECT_EQ(source.class_names, (std::vector<std::string>{"a", "b"}));
  const std::vector<float> mean = {0.485f, 0.456f, 0.406f}, stdev = {0.229f, 0.224f, 0.225f};
  EXPECT_EQ(source.mean, mean);
  EXPECT_EQ(source.std, stdev);
  EXPECT_EQ(source.train.labels_host, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(source.test.labels_host, (std::vector<int32_t>{0, 1}));
  const Tensor& u8 = source.train.images;
  const Tensor x = models::prepare_images(u8, source, {3, 6, 6});
  ASSERT_EQ(x.shape(), u8.shape());
  const std::vector<uint8_t> in = u8.to_vector<uint8_t>();
  const std::vector<float> out = x.to_vector<float>();
  EXPECT_EQ(in[36 + 2 * 6 + 3], 40 + 12 + 3);  // the gradient image survived the PNG round trip
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t c = (i / 36) % 3;
    EXPECT_NEAR(out[i], (in[i] / 255.0 - mean[c]) / stdev[c], 1e-6) << i;
  }
  // By hand: red 255 -> (1 - 0.485) / 0.229 = 2.2489083; green 0 -> -0.456 / 0.224 = -2.0357143;
  // blue 128 -> (128 / 255 - 0.406) / 0.225 = 0.4264924.
  const std::vector<float> t = models::prepare_images(source.test.images, source, {3, 6, 6}).to_vector<float>();
  EXPECT_NEAR(t[0], 2.2489083, 1e-5);
  EXPECT_NEAR(t[36], -2.0357143, 1e-5);
  EXPECT_NEAR(t[72], 0.4264924, 1e-5);
}

// True when `got` (C, h, w) is the (y, x) window of `image` (C, H, W),
// mirrored when `flip`, after normalisation (mean, std per channel).
bool is_window(const std::vector<float>& got, const std::vector<uint8_t>& image, int64_t C, int64_t H,
               int64_t W, int64_t h, int64_t w, int64_t y0, int64_t x0, bool flip,
               const std::vector<float>& mean, const std::vector<float>& stdev) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const int64_t sx = x0 + (flip ? w - 1 - x : x);
        const double want = (image[(c * H + y0 + y) * W + sx] / 255.0 - mean[c]) / stdev[c];
        if (std::fabs(got[(c * h + y) * w + x] - want) > 1e-5) return false;
      }
  return true;
}

TEST(ImageFolder, AugmentationIsRandomCropsAndMirrorsFixedByTheSeed) {
  const std::string root = fresh_dir("augment");
  // Random pixels (fixed seed), so a window identifies its image, offset and flip.
  std::mt19937 rng(static_cast<uint32_t>(testing::seed_for("pixels")));
  auto random_image = [&] {
    return make_image(3, 10, 10, [&](int64_t, int64_t, int64_t) { return rng() % 256; });
  };
  for (const char* cls : {"p", "q"}) {
    for (int i = 0; i < 5; ++i)
      write_png(root + "/train/" + cls + "/" + std::to_string(i) + ".png", random_image());
    write_png(root + "/val/" + cls + "/0.png", random_image());
  }
  models::DataConfig config;
  config.dataset = "folder";
  config.dir = root;
  config.image_size = 10;
  const Shape input = {3, 7, 7};
  const models::DataSource source = models::load_dataset(config, Device::cpu(), input);
  ASSERT_EQ(source.train.images.shape(), (Shape{10, 3, 10, 10}));
  auto epoch_batches = [&](uint64_t seed, bool augment, int64_t epoch) {
    models::BatchIterator it(source.train, source, 4, true, seed, input, augment);
    it.start_epoch(epoch);
    std::vector<float> all;
    std::vector<int32_t> labels;
    Tensor x, y;
    while (it.next(x, y)) {
      EXPECT_EQ(x.dim(1), 3);
      EXPECT_EQ(x.dim(2), 7);
      EXPECT_EQ(x.dim(3), 7);
      const std::vector<float> v = x.to_vector<float>();
      const std::vector<int32_t> l = y.to_vector<int32_t>();
      all.insert(all.end(), v.begin(), v.end());
      labels.insert(labels.end(), l.begin(), l.end());
    }
    return std::make_pair(all, labels);
  };
  const auto a = epoch_batches(42, true, 0), b = epoch_batches(42, true, 0);
  EXPECT_EQ(a.first, b.first) << "the same seed and epoch must give the same crops and flips";
  EXPECT_EQ(a.second, b.second);
  EXPECT_NE(a.first, epoch_batches(43, true, 0).first);
  EXPECT_NE(a.first, epoch_batches(42, true, 1).first);

  // Each augmented image is a 7x7 window of one stored image, maybe
  // mirrored; over two epochs both flips and several offsets occur.
  const std::vector<uint8_t> stored = source.train.images.to_vector<uint8_t>();
  const int64_t per_image = 3 * 7 * 7, per_stored = 3 * 10 * 10;
  int flips = 0;
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int64_t epoch : {0, 1}) {
    const auto run = epoch_batches(42, true, epoch);
    ASSERT_EQ(run.first.size(), static_cast<size_t>(10 * per_image));
    for (int64_t i = 0; i < 10; ++i) {
      const std::vector<float> got(run.first.begin() + i * per_image, run.first.begin() + (i + 1) * per_image);
      bool found = false;
      for (int64_t s = 0; s < 10 && !found; ++s) {
        const std::vector<uint8_t> img(stored.begin() + s * per_stored, stored.begin() + (s + 1) * per_stored);
        for (int64_t y0 = 0; y0 <= 3 && !found; ++y0)
          for (int64_t x0 = 0; x0 <= 3 && !found; ++x0)
            for (bool flip : {false, true})
              if (!found && is_window(got, img, 3, 10, 10, 7, 7, y0, x0, flip, source.mean, source.std)) {
                found = true;
                flips += flip;
                offsets.insert({y0, x0});
                EXPECT_EQ(run.second[i], source.train.labels_host[s]) << "label travels with its image";
              }
      }
      EXPECT_TRUE(found) << "epoch " << epoch << " image " << i << " is no window of a stored image";
    }
  }
  EXPECT_GT(flips, 0);
  EXPECT_LT(flips, 20);
  EXPECT_GE(offsets.size(), 3u);

  // Without augmentation: the centre window (offset 1, 1 of 10 -> 7), never mirrored.
  models::BatchIterator ordered(source.train, source, 10, false, 42, input, false);
  Tensor x, y;
  ASSERT_TRUE(ordered.next(x, y));
  const std::vector<float> v = x.to_vector<float>();
  for (int64_t i = 0; i < 10; ++i) {
    const std::vector<float> got(v.begin() + i * per_image, v.begin() + (i + 1) * per_image);
    const std::vector<uint8_t> img(stored.begin() + i * per_stored, stored.begin() + (i + 1) * per_stored);
    EXPECT_TRUE(is_window(got, img, 3, 10, 10, 7, 7, 1, 1, false, source.mean, source.std)) << i;
  }
}

TEST(ImageFolder, AnUnreadableImageIsAnErrorNamingTheFile) {
  const std::string root = fresh_dir("corrupt");
  write_png(root + "/good/0.png", solid(8, 8, 1, 2, 3));
  write_png(root + "/good/1.png", solid(8, 8, 1, 2, 3));
  // Not an image at all.
  const std::string garbage = root + "/bad/garbage.png";
  fs::create_directories(root + "/bad");
  std::ofstream(garbage) << "this is not a PNG file, just text";
  std::string message = error_of([&] { models::load_image_folder(root, 8, 0.5); });
  EXPECT_NE(message.find(garbage), std::string::npos) << message;
  // A real PNG cut in half.
  fs::remove(garbage);
  write_png(root + "/bad/big.png", make_image(3, 64, 64, [](int64_t c, int64_t y, int64_t x) { return (c * 7 + y * 13 + x * 31) % 256; }));
  const std::string bytes = read_file_text(root + "/bad/big.png");
  const std::string truncated = root + "/bad/truncated.png";
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  message = error_of([&] { models::load_image_folder(root, 8, 0.5); });
  EXPECT_NE(message.find(truncated), std::string::npos) << message;
  // An empty .jpg.
  fs::remove(truncated);
  const std::string empty = root + "/bad/empty.jpg";
  std::ofstream(empty).close();
  message = error_of([&] { models::load_image_folder(root, 8, 0.5); });
  EXPECT_NE(message.find(empty), std::string::npos) << message;
  // And through the single-image loader predict uses.
  message = error_of([&] { models::load_image_resized(empty, 3, 8); });
  EXPECT_NE(message.find(empty), std::string::npos) << message;
  message = error_of([&] { models::load_image_resized(root + "/missing.png", 3, 8); });
  EXPECT_NE(message.find(root + "/missing.png"), std::string::npos) << message;
  // A folder without images.
  const std::string none = fresh_dir("no-images");
  fs::create_directories(none + "/cls");
  EXPECT_NE(error_of([&] { models::load_image_folder(none, 8); }).find("no images"), std::string::npos);
}

}  // namespace
}  // namespace cs
