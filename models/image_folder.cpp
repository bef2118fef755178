#include "models/image_folder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "kernels/resize.h"
#include "runtime/image_io.h"

namespace cs::models {

namespace fs = std::filesystem;

namespace {

bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".gif" ||
         ext == ".tga" || ext == ".ppm" || ext == ".pgm";
}

std::vector<std::string> sorted_subfolders(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

struct Listing {
  std::vector<std::string> classes;
  std::vector<std::pair<std::string, int32_t>> files;  // (path, label)
};

Listing list_folder(const fs::path& dir, const std::vector<std::string>& classes) {
  Listing l;
  l.classes = classes;
  for (size_t c = 0; c < classes.size(); ++c) {
    const fs::path sub = dir / classes[c];
    if (!fs::is_directory(sub)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(sub))
      if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) l.files.emplace_back(f, static_cast<int32_t>(c));
  }
  return l;
}

ImageDataset load_files(const std::vector<std::pair<std::string, int32_t>>& files,
                        const std::vector<std::string>& classes, int64_t size) {
  ImageDataset d;
  d.class_names = classes;
  const int64_t n = static_cast<int64_t>(files.size());
  d.images = Tensor::empty({n, 3, size, size}, Device::cpu(), DType::U8);
  std::vector<int32_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const Tensor image = load_image_resized(files[i].first, 3, size);
    d.images.narrow(i, 1).copy_from(image.reshape({1, 3, size, size}));
    labels[i] = files[i].second;
  }
  d.labels = Tensor::from_vector(labels, {n});
  return d;
}

}  // namespace

Tensor load_image_resized(const std::string& path, int channels, int64_t size) {
  CS_CHECK(size > 0, "image size must be positive, got " << size);
  const Tensor raw = load_image(path, channels);
  const int64_t c = raw.dim(0), h = raw.dim(1), w = raw.dim(2);
  // Shorter side to `size`, aspect kept.
  const double scale = static_cast<double>(size) / static_cast<double>(std::min(h, w));
  const int64_t rh = std::max<int64_t>(size, std::lround(h * scale));
  const int64_t rw = std::max<int64_t>(size, std::lround(w * scale));
  Tensor f = raw.to(DType::F32).reshape({1, c, h, w});
  Tensor resized = Tensor::empty({1, c, rh, rw});
  kernels::resize_bilinear_forward(f, resized);
  const int64_t top = (rh - size) / 2, left = (rw - size) / 2;
  const float* src = resized.data<float>();
  Tensor out = Tensor::empty({c, size, size}, Device::cpu(), DType::U8);
  uint8_t* dst = out.data<uint8_t>();
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < size; ++y)
      for (int64_t x = 0; x < size; ++x) {
        const float v = src[(ch * rh + top + y) * rw + left + x];
        dst[(ch * size + y) * size + x] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
  return out;
}

FolderSplits load_image_folder(const std::string& root, int64_t size, double test_fraction) {
  CS_CHECK(fs::is_directory(root), "image folder " << root << " does not exist or is not a folder");
  CS_CHECK(test_fraction > 0 && test_fraction < 1, "test fraction must be in (0, 1), got " << test_fraction);
  const fs::path base(root);
  fs::path train_dir, test_dir;
  if (fs::is_directory(base / "train")) {
    train_dir = base / "train";
    for (const char* name : {"val", "test"})
      if (fs::is_directory(base / name)) test_dir = base / name;
    CS_CHECK(!test_dir.empty(), root << " has train/ but no val/ or test/ folder");
  }
  FolderSplits out;
  if (!train_dir.empty()) {
    const std::vector<std::string> classes = sorted_subfolders(train_dir);
    CS_CHECK(!classes.empty(), train_dir.string() << " holds no class folders");
    const Listing train = list_folder(train_dir, classes), test = list_folder(test_dir, classes);
    for (const std::string& extra : sorted_subfolders(test_dir))
      CS_CHECK(std::find(classes.begin(), classes.end(), extra) != classes.end(),
               test_dir.string() << " has a class folder '" << extra << "' that train/ lacks");
    CS_CHECK(!train.files.empty() && !test.files.empty(), root << ": no images in train/ or in the test folder");
    for (const auto& [f, l] : train.files) out.train_files.push_back(f);
    for (const auto& [f, l] : test.files) out.test_files.push_back(f);
    out.train = load_files(train.files, classes, size);
    out.test = load_files(test.files, classes, size);
    return out;
  }
  const std::vector<std::string> classes = sorted_subfolders(base);
  CS_CHECK(!classes.empty(), root << " holds no class folders (expected one folder of images per class)");
  const Listing all = list_folder(base, classes);
  CS_CHECK(!all.files.empty(), root << " holds no images (.png, .jpg, .bmp, ...)");
  // Every k-th image of each class to the test split.
  const int64_t every = std::max<int64_t>(2, std::lround(1.0 / test_fraction));
  std::vector<std::pair<std::string, int32_t>> train, test;
  std::vector<int64_t> seen(classes.size(), 0);
  for (const auto& entry : all.files) {
    ((seen[entry.second]++ % every) == every - 1 ? test : train).push_back(entry);
  }
  CS_CHECK(!train.empty() && !test.empty(), root << ": too few images to hold out a test split");
  for (const auto& [f, l] : train) out.train_files.push_back(f);
  for (const auto& [f, l] : test) out.test_files.push_back(f);
  out.train = load_files(train, classes, size);
  out.test = load_files(test, classes, size);
  return out;
}

}  // namespace cs::models
