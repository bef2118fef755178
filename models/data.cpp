#include "models/data.h"

#include <numeric>

#include "kernels/image_ops.h"
#include "kernels/resize.h"
#include "models/image_folder.h"
#include "kernels/tensor_ops.h"
#include "layers/module.h"
#include "runtime/idx.h"
#include "runtime/philox.h"

namespace cs::models {

namespace {

DataSplit make_split(const ImageDataset& data, int64_t limit, Device device) {
  DataSplit split;
  int64_t n = data.labels.numel();
  if (limit > 0 && limit < n) n = limit;
  split.images = data.images.narrow(0, n).to(device);
  split.labels = data.labels.narrow(0, n).to(device);
  split.labels_host = data.labels.narrow(0, n).to_vector<int32_t>();
  return split;
}

}  // namespace

DataSource load_dataset(const DataConfig& config, Device device, const Shape& model_input) {
  DataSource source;
  source.name = config.dataset;
  if (config.dataset == "fashion-mnist" || config.dataset == "mnist") {
    const bool fashion = config.dataset == "fashion-mnist";
    const std::string dir = config.dir.empty()
                                ? (fashion ? default_fashion_mnist_dir() : std::string("/usr/share/datasets/mnist"))
                                : config.dir;
    std::vector<std::string> names = fashion ? fashion_mnist_class_names()
                                             : std::vector<std::string>{"0", "1", "2", "3", "4",
                                                                        "5", "6", "7", "8", "9"};
    const ImageDataset train = load_mnist_format(dir, true, names);
    const ImageDataset test = load_mnist_format(dir, false, names);
    source.train = make_split(train, config.max_train, device);
    source.test = make_split(test, config.max_test, device);
    source.class_names = names;
    // Statistics of the training images, the usual published values.
    source.mean = {fashion ? 0.2860f : 0.1307f};
    source.std = {fashion ? 0.3530f : 0.3081f};
    return source;
  }
  if (config.dataset == "folder") {
    CS_CHECK(!config.dir.empty(), "the folder dataset needs --data DIR (one subfolder per class)");
    int64_t size = config.image_size;
    if (size <= 0) {
      const int64_t side = model_input.size() == 3 ? std::max(model_input[1], model_input[2]) : 224;
      size = side + side / 8;  // e.g. 224 -> 252: room for random crops
    }
    const FolderSplits splits = load_image_folder(config.dir, size);
    source.train = make_split(splits.train, config.max_train, device);
    source.test = make_split(splits.test, config.max_test, device);
    source.class_names = splits.train.class_names;
    // ImageNet statistics, as torchvision's pretrained models expect.
    source.mean = {0.485f, 0.456f, 0.406f};
    source.std = {0.229f, 0.224f, 0.225f};
    return source;
  }
  CS_FAIL("unknown dataset '" << config.dataset << "' (expected fashion-mnist, mnist or folder)");
}

std::vector<int32_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    // Unbiased enough for n << 2^32 (the modulo bias is below n / 2^64).
    const uint64_t r = (static_cast<uint64_t>(philox::word(seed, 0, 2 * i)) << 32) |
                       philox::word(seed, 0, 2 * i + 1);
    std::swap(order[i], order[r % static_cast<uint64_t>(i + 1)]);
  }
  return order;
}

Tensor prepare_images(const Tensor& images_u8, const DataSource& source, const Shape& model_input) {
  const Device device = images_u8.device();
  const int64_t b = images_u8.dim(0), c = images_u8.dim(1), h = images_u8.dim(2),
                w = images_u8.dim(3);
  Tensor x = Tensor::empty(images_u8.shape(), device);
  kernels::u8_to_float_normalized(images_u8, source.mean, source.std, x);
  const int64_t want_c = model_input[0], want_h = model_input[1], want_w = model_input[2];
  if (want_c != c) {
    CS_CHECK(c == 1, "the model expects " << want_c << " channels but the images have " << c);
    // Gray to colour: each image's plane repeated want_c times, by a row gather.
    std::vector<int32_t> rows;
    for (int64_t i = 0; i < b; ++i)
      for (int64_t k = 0; k < want_c; ++k) rows.push_back(static_cast<int32_t>(i));
    Tensor index = Tensor::from_vector(rows, {static_cast<int64_t>(rows.size())}, device);
    Tensor replicated = Tensor::empty({b * want_c, h * w}, device);
    kernels::gather_rows(x.reshape({b, h * w}), index, replicated);
    x = replicated.reshape({b, want_c, h, w});
  }
  if (want_h != h || want_w != w) {
    Tensor resized = Tensor::empty({b, want_c, want_h, want_w}, device);
    kernels::resize_bilinear_forward(x, resized);
    x = resized;
  }
  return x;
}

BatchIterator::BatchIterator(const DataSplit& split, const DataSource& source, int64_t batch_size,
                             bool shuffle, uint64_t seed, Shape model_input, bool augment)
    : split_(split),
      source_(source),
      batch_size_(batch_size),
      shuffle_(shuffle),
      seed_(seed),
      model_input_(std::move(model_input)),
      augment_(augment) {
  CS_CHECK(batch_size > 0, "batch size must be positive, got " << batch_size);
  CS_CHECK(split.size() > 0, "the dataset split is empty");
  start_epoch(0);
}

void BatchIterator::start_epoch(int64_t epoch) {
  epoch_seed_ = nn::mix_seed(nn::mix_seed(seed_, static_cast<uint64_t>(epoch)), 0xA46);
  if (shuffle_) {
    order_ = seeded_permutation(split_.size(), nn::mix_seed(seed_, static_cast<uint64_t>(epoch)));
  } else {
    order_.resize(static_cast<size_t>(split_.size()));
    std::iota(order_.begin(), order_.end(), 0);
  }
  position_ = 0;
}

int64_t BatchIterator::batches() const { return (split_.size() + batch_size_ - 1) / batch_size_; }

bool BatchIterator::next(Tensor& images, Tensor& labels) {
  const int64_t n = split_.size();
  if (position_ >= n) return false;
  const int64_t count = std::min(batch_size_, n - position_);
  const Device device = split_.labels.device();
  std::vector<int32_t> chosen(order_.begin() + position_, order_.begin() + position_ + count);
  position_ += count;
  // Splits built without a host copy of their labels leave this empty.
  last_labels_host_.resize(split_.labels_host.size() == static_cast<size_t>(n) ? static_cast<size_t>(count) : 0);
  for (size_t i = 0; i < last_labels_host_.size(); ++i)
    last_labels_host_[i] = split_.labels_host[static_cast<size_t>(chosen[i])];
  Tensor index = Tensor::from_vector(chosen, {count}, device);
  const Shape image_shape = split_.images.shape();
  Tensor batch_u8 = Tensor::empty({count, image_shape[1], image_shape[2], image_shape[3]}, device,
                                  DType::U8);
  kernels::gather_rows(split_.images, index, batch_u8);
  labels = Tensor::empty({count}, device, DType::I32);
  kernels::gather_rows(split_.labels, index, labels);
  // Crops to the model's size where the stored images are larger (random in
  // training with augmentation, centred otherwise), and random mirroring.
  const int64_t H = image_shape[2], W = image_shape[3];
  const int64_t h = std::min(H, model_input_[1]), w = std::min(W, model_input_[2]);
  if (h < H || w < W || augment_) {
    std::vector<int32_t> params(static_cast<size_t>(count * 3));
    for (int64_t i = 0; i < count; ++i) {
      const uint64_t slot = static_cast<uint64_t>(position_ - count + i) * 3;
      params[i * 3] = static_cast<int32_t>(augment_ ? philox::word(epoch_seed_, 0, slot) % (H - h + 1) : (H - h) / 2);
      params[i * 3 + 1] = static_cast<int32_t>(augment_ ? philox::word(epoch_seed_, 0, slot + 1) % (W - w + 1) : (W - w) / 2);
      params[i * 3 + 2] = augment_ ? static_cast<int32_t>(philox::word(epoch_seed_, 0, slot + 2) & 1) : 0;
    }
    Tensor cropped = Tensor::empty({count, image_shape[1], h, w}, device, DType::U8);
    kernels::crop_flip(batch_u8, Tensor::from_vector(params, {count, 3}, device), cropped);
    batch_u8 = cropped;
  }
  images = prepare_images(batch_u8, source_, model_input_);
  return true;
}

}  // namespace cs::models
