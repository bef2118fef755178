// The IDX format of MNIST/FashionMNIST, raw and gzipped (runtime/idx.h).
#include "runtime/file_io.h"
#include "runtime/idx.h"
#include "tests/common/test_util.h"
#include "tests/io/io_test_util.h"

namespace cs {
namespace {

using iotest::Bytes;
using iotest::ScratchDir;

void append_be32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// An IDX file: magic 0x0000 <type> <rank>, big-endian dims, then `data`.
Bytes idx_file(const std::vector<uint32_t>& dims, const Bytes& data, uint8_t type = 0x08) {
  Bytes out = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) append_be32(out, d);
  iotest::append(out, data);
  return out;
}

Bytes counting(size_t n, int step = 1) {
  Bytes data(n);
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * step);
  return data;
}

TEST(Idx, ReadsRawImagesAndLabels) {
  ScratchDir tmp;
  const Bytes pixels = counting(2 * 3 * 4, 5);
  iotest::write_bytes(tmp.file("images"), idx_file({2, 3, 4}, pixels));
  const IdxArray images = read_idx(tmp.file("images"));
  EXPECT_EQ(images.dims, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(images.data, pixels);

  iotest::write_bytes(tmp.file("labels"), idx_file({5}, {9, 0, 3, 255, 1}));
  const IdxArray labels = read_idx(tmp.file("labels"));
  EXPECT_EQ(labels.dims, std::vector<int64_t>{5});
  EXPECT_EQ(labels.data, (Bytes{9, 0, 3, 255, 1}));
}

TEST(Idx, DetectsGzipByContentNotByName) {
  ScratchDir tmp;
  const Bytes pixels = counting(3 * 28 * 28, 3);
  const Bytes raw = idx_file({3, 28, 28}, pixels);
  // Compressed content under a plain name, plain content under a .gz name.
  iotest::write_bytes(tmp.file("compressed-but-plain-name"), iotest::gzip(raw));
  iotest::write_bytes(tmp.file("plain-but-named.gz"), raw);
  for (const char* name : {"compressed-but-plain-name", "plain-but-named.gz"}) {
    const IdxArray a = read_idx(tmp.file(name));
    EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 28, 28})) << name;
    EXPECT_EQ(a.data, pixels) << name;
  }
  // Several gzip members (`cat a.gz b.gz`) are one stream, as gzip says.
  const Bytes whole = idx_file({4}, {1, 2, 3, 4});
  Bytes members = iotest::gzip(Bytes(whole.begin(), whole.begin() + 6));
  iotest::append(members, iotest::gzip(Bytes(whole.begin() + 6, whole.end())));
  iotest::write_bytes(tmp.file("members.gz"), members);
  EXPECT_EQ(read_idx(tmp.file("members.gz")).data, (Bytes{1, 2, 3, 4}));
}

TEST(Idx, RejectsBadMagicAndElementTypes) {
  ScratchDir tmp;
  const std::string path = tmp.file("bad");
  Bytes file = idx_file({4}, {1, 2, 3, 4});
  file[0] = 0x12;
  iotest::write_bytes(path, file);
  EXPECT_ERROR(read_idx(path), {path, "magic"});
  iotest::write_bytes(path, iotest::bytes_of("PK\x03\x04 a zip file, not IDX"));
  EXPECT_ERROR(read_idx(path), {path, "magic"});
  iotest::write_bytes(path, idx_file({4}, Bytes(16), 0x0D));
  EXPECT_ERROR(read_idx(path), {path, "0xd", "float32", "unsigned bytes"});
  iotest::write_bytes(path, idx_file({4}, Bytes(4), 0x09));
  EXPECT_ERROR(read_idx(path), {path, "signed byte"});
  iotest::write_bytes(path, idx_file({}, {}));
  EXPECT_ERROR(read_idx(path), {path, "rank 0"});
  iotest::write_bytes(path, idx_file({1, 1, 1, 1, 1}, {7}));
  EXPECT_ERROR(read_idx(path), {path, "rank 5"});
  iotest::write_bytes(path, {0, 0});
  EXPECT_ERROR(read_idx(path), {path, "too short"});
  iotest::write_bytes(path, {});
  EXPECT_ERROR(read_idx(path), {path, "too short"});
}

TEST(Idx, RejectsTruncatedAndTrailingData) {
  ScratchDir tmp;
  const std::string path = tmp.file("images");
  Bytes whole = idx_file({2, 3, 3}, counting(18));
  // Cut inside the data, inside the header.
  iotest::write_bytes(path, Bytes(whole.begin(), whole.end() - 1));
  EXPECT_ERROR(read_idx(path), {path, "truncated", "18 values", "holds 17"});
  iotest::write_bytes(path, Bytes(whole.begin(), whole.begin() + 9));
  EXPECT_ERROR(read_idx(path), {path, "truncated inside its header"});
  // One byte too many.
  Bytes longer = whole;
  longer.push_back(0);
  iotest::write_bytes(path, longer);
  EXPECT_ERROR(read_idx(path), {path, "trailing data", "1 unexpected bytes"});
  // The same through gzip.
  iotest::write_bytes(path, iotest::gzip(Bytes(whole.begin(), whole.end() - 5)));
  EXPECT_ERROR(read_idx(path), {path, "truncated"});
  iotest::write_bytes(path, iotest::gzip(longer));
  EXPECT_ERROR(read_idx(path), {path, "trailing data"});
}

TEST(Idx, RejectsZeroAndAbsurdDimensionsBeforeAllocating) {
  ScratchDir tmp;
  const std::string path = tmp.file("images");
  iotest::write_bytes(path, idx_file({3, 0, 2}, {}));
  EXPECT_ERROR(read_idx(path), {path, "dimension 1 is zero"});
  // 2^32-1 cubed: rejected from the header alone, raw or gzipped.
  iotest::write_bytes(path, idx_file({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {1, 2, 3}));
  EXPECT_ERROR(read_idx(path), {path, "dimensions promise more than"});
  iotest::write_bytes(path, iotest::gzip(idx_file({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {1, 2, 3})));
  EXPECT_ERROR(read_idx(path), {path, "dimensions promise more than"});
  // Plausible dims but far more than the file holds.
  iotest::write_bytes(path, idx_file({60000, 28, 28}, counting(100)));
  EXPECT_ERROR(read_idx(path), {path, "truncated", "47040000 values"});
}

// A gzip stream that inflates to much more than the header promises is cut
// off once past the promise: a "gzip bomb" cannot exhaust memory.
TEST(Idx, StopsInflatingPastWhatTheHeaderPromises) {
  ScratchDir tmp;
  const std::string path = tmp.file("bomb.gz");
  Bytes content = idx_file({4}, {1, 2, 3, 4});
  content.resize(content.size() + (64 << 20), 0);  // 64 MiB of zeros compress to ~64 KiB
  iotest::write_bytes(path, iotest::gzip(content));
  EXPECT_ERROR(read_idx(path), {path, "trailing data", "at least"});
}

TEST(Idx, RejectsCorruptGzip) {
  ScratchDir tmp;
  const std::string path = tmp.file("c.gz");
  const Bytes raw = idx_file({2, 8, 8}, counting(128, 13));
  Bytes gz = iotest::gzip(raw);
  // A flipped byte in the compressed body: a data or checksum error.
  Bytes flipped = gz;
  flipped[gz.size() / 2] ^= 0x55;
  iotest::write_bytes(path, flipped);
  EXPECT_ERROR(read_idx(path), {path});
  // A wrong CRC in the trailer.
  Bytes bad_crc = gz;
  bad_crc[gz.size() - 8] ^= 0xFF;
  iotest::write_bytes(path, bad_crc);
  EXPECT_ERROR(read_idx(path), {path, "not a valid gzip file"});
  // Cut inside the compressed stream, and just before the trailer.
  iotest::write_bytes(path, Bytes(gz.begin(), gz.begin() + 12));
  EXPECT_ERROR(read_idx(path), {path, "truncated"});
  iotest::write_bytes(path, Bytes(gz.begin(), gz.end() - 3));
  EXPECT_ERROR(read_idx(path), {path, "truncated"});
  iotest::write_bytes(path, {0x1f, 0x8b});
  EXPECT_ERROR(read_idx(path), {path});
  // Garbage after the gzip stream.
  Bytes trailing = gz;
  iotest::append(trailing, iotest::bytes_of("garbage"));
  iotest::write_bytes(path, trailing);
  EXPECT_ERROR(read_idx(path), {path, "7 bytes of unexpected data after its gzip stream"});
  EXPECT_ERROR(read_idx(tmp.file("missing.gz")), {tmp.file("missing.gz")});
}

// A folder in the MNIST layout with n 2x3 images and the given labels.
void write_mnist_folder(const ScratchDir& tmp, const std::string& prefix, int64_t n,
                        const Bytes& labels, bool gzip_images, bool gzip_labels) {
  const Bytes images = idx_file({static_cast<uint32_t>(n), 2, 3}, counting(static_cast<size_t>(n) * 6, 7));
  const Bytes label_file = idx_file({static_cast<uint32_t>(labels.size())}, labels);
  const std::string image_name = prefix + "-images-idx3-ubyte";
  const std::string label_name = prefix + "-labels-idx1-ubyte";
  if (gzip_images)
    iotest::write_bytes(tmp.file(image_name + ".gz"), iotest::gzip(images));
  else
    iotest::write_bytes(tmp.file(image_name), images);
  if (gzip_labels)
    iotest::write_bytes(tmp.file(label_name + ".gz"), iotest::gzip(label_file));
  else
    iotest::write_bytes(tmp.file(label_name), label_file);
}

TEST(Idx, LoadsAnMnistFolder) {
  ScratchDir tmp;
  const std::vector<std::string> names = {"zero", "one", "two"};
  write_mnist_folder(tmp, "train", 4, {2, 0, 1, 2}, /*gzip_images=*/true, /*gzip_labels=*/false);
  write_mnist_folder(tmp, "t10k", 1, {1}, false, true);
  const ImageDataset train = load_mnist_format(tmp.dir(), true, names);
  EXPECT_EQ(train.images.shape(), (Shape{4, 1, 2, 3}));
  EXPECT_EQ(train.images.dtype(), DType::U8);
  EXPECT_EQ(train.images.to_vector<uint8_t>(), counting(24, 7));
  EXPECT_EQ(train.labels.dtype(), DType::I32);
  EXPECT_EQ(train.labels.to_vector<int32_t>(), (std::vector<int32_t>{2, 0, 1, 2}));
  EXPECT_EQ(train.class_names, names);
  const ImageDataset test = load_mnist_format(tmp.dir(), false, names);
  EXPECT_EQ(test.images.shape(), (Shape{1, 1, 2, 3}));
  EXPECT_EQ(test.labels.to_vector<int32_t>(), std::vector<int32_t>{1});
}

TEST(Idx, MnistFolderErrorsSayWhatIsWrong) {
  const std::vector<std::string> names = {"a", "b", "c"};
  {
    ScratchDir tmp;
    EXPECT_ERROR(load_mnist_format(tmp.dir(), true, names),
                 {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", tmp.dir()});
    write_mnist_folder(tmp, "train", 2, {0, 1}, false, false);
    EXPECT_ERROR(load_mnist_format(tmp.dir(), false, names),
                 {"t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz", tmp.dir()});
    EXPECT_ERROR(load_mnist_format(tmp.dir(), true, {}), {"class names"});
    EXPECT_ERROR(load_mnist_format(tmp.file("not-there"), true, names),
                 {tmp.file("not-there"), "does not exist"});
  }
  {
    ScratchDir tmp;  // 3 images, 2 labels
    write_mnist_folder(tmp, "train", 3, {0, 1}, false, false);
    EXPECT_ERROR(load_mnist_format(tmp.dir(), true, names), {"3 images", "2 labels"});
  }
  {
    ScratchDir tmp;  // a label beyond the classes
    write_mnist_folder(tmp, "train", 2, {0, 3}, false, false);
    EXPECT_ERROR(load_mnist_format(tmp.dir(), true, names),
                 {"train-labels-idx1-ubyte", "label 3 of example 1", "below 3"});
  }
  {
    ScratchDir tmp;  // labels stored with the images' rank
    write_mnist_folder(tmp, "train", 2, {0, 1}, false, false);
    iotest::write_bytes(tmp.file("train-labels-idx1-ubyte"), idx_file({2, 1, 1}, {0, 1}));
    EXPECT_ERROR(load_mnist_format(tmp.dir(), true, names), {"train-labels-idx1-ubyte", "rank 3"});
    iotest::write_bytes(tmp.file("train-images-idx3-ubyte"), idx_file({2}, {0, 1}));
    EXPECT_ERROR(load_mnist_format(tmp.dir(), true, names), {"train-images-idx3-ubyte", "rank 1"});
  }
}

TEST(Idx, FashionMnistClassNames) {
  EXPECT_EQ(default_fashion_mnist_dir(), "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(fashion_mnist_class_names(),
            (std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                      "Shirt", "Sneaker", "Bag", "Ankle boot"}));
}

// The real dataset (Debian's dataset-fashion-mnist), when it is installed.
TEST(Idx, LoadsTheRealFashionMnist) {
  const std::string dir = default_fashion_mnist_dir();
  if (!file_exists(dir + "/train-images-idx3-ubyte.gz") && !file_exists(dir + "/train-images-idx3-ubyte"))
    GTEST_SKIP() << "FashionMNIST is not installed in " << dir << " (apt-get install dataset-fashion-mnist)";
  for (const bool train : {true, false}) {
    const ImageDataset d = load_mnist_format(dir, train, fashion_mnist_class_names());
    const int64_t n = train ? 60000 : 10000;
    EXPECT_EQ(d.images.shape(), (Shape{n, 1, 28, 28}));
    EXPECT_EQ(d.labels.shape(), Shape{n});
    const std::vector<int32_t> labels = d.labels.to_vector<int32_t>();
    std::vector<int64_t> per_class(10, 0);
    for (int32_t l : labels) {
      ASSERT_GE(l, 0);
      ASSERT_LT(l, 10);
      ++per_class[l];
    }
    // Balanced: 6000 (train) or 1000 (test) of each class.
    for (int64_t count : per_class) EXPECT_EQ(count, n / 10);
    EXPECT_EQ(labels[0], 9);  // the first image of either split is an ankle boot
    EXPECT_EQ(d.class_names[labels[0]], "Ankle boot");
    const std::vector<uint8_t> pixels = d.images.to_vector<uint8_t>();
    int64_t nonzero = 0;
    uint8_t max_pixel = 0;
    for (int i = 0; i < 28 * 28; ++i) {
      nonzero += pixels[i] != 0;
      max_pixel = std::max(max_pixel, pixels[i]);
    }
    EXPECT_GT(nonzero, 100);  // a real picture, not an empty frame
    EXPECT_GT(max_pixel, 200);
  }
}

}  // namespace
}  // namespace cs
