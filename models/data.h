// Datasets for training and evaluation, resident on the device they are used
// on (all of FashionMNIST is 47 MB as bytes), and the batch iterator that
// shuffles, gathers, normalises and (when the model wants another input size
// or channel count) resizes batches on that device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace cs::models {

struct DataConfig {
  std::string dataset = "fashion-mnist";  // fashion-mnist | mnist | folder
  std::string dir;                        // default: the dataset's usual place
  int64_t max_train = 0;                  // use only the first N examples (0 = all)
  int64_t max_test = 0;
  int64_t image_size = 0;                 // folder: stored side (0: the model's input + 1/8)
  bool augment = false;                   // random crops and mirror images in training
};

struct DataSplit {
  Tensor images;                   // (N, C, H, W) uint8, on the device
  Tensor labels;                   // (N) int32, on the device
  std::vector<int32_t> labels_host;
  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};

struct DataSource {
  std::string name;
  DataSplit train, test;
  std::vector<std::string> class_names;
  std::vector<float> mean, std;  // per channel, applied after scaling to [0, 1]
};

// model_input (C, H, W) sets the stored size of image-folder datasets.
DataSource load_dataset(const DataConfig& config, Device device, const Shape& model_input = {});

// Converts uint8 images (B, C, H, W) to the model's float input
// (B, model C, model H, model W): normalise, replicate gray to 3 channels
// when asked, bilinear resize when the sizes differ.
Tensor prepare_images(const Tensor& images_u8, const DataSource& source, const Shape& model_input);

class BatchIterator {
 public:
  // model_input: (C, H, W) the network expects.
  // augment: random crops (when the stored images are larger than the
  // model's input) and left-right mirroring; otherwise larger images are
  // centre-cropped.
  BatchIterator(const DataSplit& split, const DataSource& source, int64_t batch_size, bool shuffle,
                uint64_t seed, Shape model_input, bool augment = false);

  // Starts an epoch: the order is a Philox-seeded permutation of (seed, epoch),
  // so it is the same on every run and on resume.
  void start_epoch(int64_t epoch);
  int64_t batches() const;
  // The next batch (the last one may be smaller); false at the end of the epoch.
  bool next(Tensor& images, Tensor& labels);
  // The labels of the batch `next` returned last, from the split's host copy
  // (no device read-back); empty when the split has no host copy.
  const std::vector<int32_t>& last_labels_host() const { return last_labels_host_; }

 private:
  const DataSplit& split_;
  const DataSource& source_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  Shape model_input_;
  bool augment_;
  uint64_t epoch_seed_ = 0;
  std::vector<int32_t> order_;
  int64_t position_ = 0;
  std::vector<int32_t> last_labels_host_;
};

// A Philox-seeded Fisher-Yates permutation of 0..n-1.
std::vector<int32_t> seeded_permutation(int64_t n, uint64_t seed);

}  // namespace cs::models
