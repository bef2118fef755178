// The IDX format of MNIST and FashionMNIST (raw or gzip-compressed), read
// with every size checked before it is trusted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace cs {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Reads an unsigned-byte IDX file (magic 0x00000801 or 0x00000803, or any
// rank); gzip is detected from the content, not the name.
IdxArray read_idx(const std::string& path);

struct ImageDataset {
  Tensor images;  // (N, C, H, W) uint8 on the CPU
  Tensor labels;  // (N) int32 on the CPU
  std::vector<std::string> class_names;
};

// Loads train-* (train = true) or t10k-* images and labels from `dir`,
// with or without .gz; labels must lie below class_names.size().
ImageDataset load_mnist_format(const std::string& dir, bool train,
                               const std::vector<std::string>& class_names);

// /usr/share/datasets/fashion-mnist: Debian's dataset-fashion-mnist package.
std::string default_fashion_mnist_dir();
const std::vector<std::string>& fashion_mnist_class_names();

}  // namespace cs
