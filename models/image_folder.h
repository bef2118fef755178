// Image-folder datasets: one subfolder per class, JPEG/PNG/BMP files inside,
// as torchvision's ImageFolder. Images are resized so the shorter side is
// `size`, centre-cropped to size x size, and kept as bytes (RGB).
//   root/<class>/<image>             one split (a test fraction is held out)
//   root/train/<class>/..., root/val/<class>/... (or test/)   two splits
#pragma once

#include <string>
#include <vector>

#include "runtime/idx.h"

namespace cs::models {

struct FolderSplits {
  ImageDataset train, test;
  std::vector<std::string> train_files, test_files;
};

// Throws naming the file when an image cannot be read; test_fraction is
// used only when the root has no train/ and val/ (or test/) folders: every
// k-th image of each class (sorted by name) goes to the test split.
FolderSplits load_image_folder(const std::string& root, int64_t size, double test_fraction = 0.1);

// Loads one image file as the model sees it: RGB or gray to `channels`,
// shorter side resized to `size`, centre crop `size` x `size`. (C, size, size) u8.
Tensor load_image_resized(const std::string& path, int channels, int64_t size);

}  // namespace cs::models
