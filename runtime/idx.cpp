#include "runtime/idx.h"

#include <zlib.h>

#include "runtime/file_io.h"

namespace cs {

namespace {

constexpr int64_t kMaxElements = int64_t{1} << 34;  // 16 GiB: far beyond any IDX file

// The whole decompressed content of a gzip file.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& compressed, const std::string& path) {
  z_stream stream{};
  CS_CHECK(inflateInit2(&stream, 16 + MAX_WBITS) == Z_OK, "cannot start gzip decoding for " << path);
  stream.next_in = const_cast<Bytef*>(compressed.data());
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::vector<uint8_t> out;
  uint8_t chunk[1 << 16];
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    stream.next_out = chunk;
    stream.avail_out = sizeof chunk;
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      inflateEnd(&stream);
      CS_FAIL(path << " is not a valid gzip file (" << (stream.msg ? stream.msg : "corrupt data")
                   << ")");
    }
    out.insert(out.end(), chunk, chunk + (sizeof chunk - stream.avail_out));
    if (status != Z_STREAM_END && stream.avail_in == 0 && stream.avail_out != 0) {
      inflateEnd(&stream);
      CS_FAIL(path << " is truncated: the gzip stream ends early");
    }
    CS_CHECK(out.size() < static_cast<size_t>(kMaxElements), path << " decompresses to too much data");
  }
  inflateEnd(&stream);
  return out;
}

uint32_t big_endian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) bytes = gunzip(bytes, path);
  CS_CHECK(bytes.size() >= 4, path << " is too short to be an IDX file (" << bytes.size() << " bytes)");
  CS_CHECK(bytes[0] == 0 && bytes[1] == 0,
           path << " is not an IDX file (its first two bytes must be zero)");
  CS_CHECK(bytes[2] == 0x08, path << " holds IDX element type 0x" << std::hex << int(bytes[2])
                                  << "; only unsigned bytes (0x08) are supported");
  const int rank = bytes[3];
  CS_CHECK(rank >= 1 && rank <= 4, path << ": IDX rank " << rank << " (expected 1 to 4)");
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  CS_CHECK(bytes.size() >= header, path << " is truncated inside its header");
  IdxArray out;
  int64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    const int64_t dim = big_endian32(&bytes[4 + 4 * d]);
    CS_CHECK(dim > 0, path << ": dimension " << d << " is zero");
    CS_CHECK(count <= kMaxElements / dim, path << ": dimensions too large");
    count *= dim;
    out.dims.push_back(dim);
  }
  const size_t expected = header + static_cast<size_t>(count);
  CS_CHECK(bytes.size() >= expected, path << " is truncated: the header promises " << count
                                          << " values, the file holds " << bytes.size() - header);
  CS_CHECK(bytes.size() == expected, path << " has " << bytes.size() - expected
                                          << " unexpected bytes after its " << count << " values");
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

namespace {
std::string find_file(const std::string& dir, const std::string& stem) {
  for (const std::string& name : {stem, stem + ".gz"})
    if (file_exists(dir + "/" + name)) return dir + "/" + name;
  CS_FAIL("cannot find " << stem << " or " << stem << ".gz in " << dir
                         << " (FashionMNIST comes with `apt-get install dataset-fashion-mnist`; "
                            "use --data DIR for another folder)");
}
}  // namespace

ImageDataset load_mnist_format(const std::string& dir, bool train,
                               const std::vector<std::string>& class_names) {
  const std::string prefix = train ? "train" : "t10k";
  const std::string image_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string label_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  IdxArray images = read_idx(image_path);
  IdxArray labels = read_idx(label_path);
  CS_CHECK(images.dims.size() == 3, image_path << ": expected (N, H, W) images, the file has rank "
                                               << images.dims.size());
  CS_CHECK(labels.dims.size() == 1, label_path << ": expected (N) labels, the file has rank "
                                               << labels.dims.size());
  CS_CHECK(images.dims[0] == labels.dims[0], image_path << " holds " << images.dims[0] << " images but "
                                                        << label_path << " " << labels.dims[0]
                                                        << " labels");
  const int64_t n = images.dims[0];
  ImageDataset out;
  out.class_names = class_names;
  std::vector<int32_t> label_values(labels.data.begin(), labels.data.end());
  for (int64_t i = 0; i < n; ++i)
    CS_CHECK(label_values[i] < static_cast<int32_t>(class_names.size()),
             label_path << ": label " << label_values[i] << " of example " << i << " is not below "
                        << class_names.size());
  out.images = Tensor::from_vector(images.data, {n, 1, images.dims[1], images.dims[2]});
  out.labels = Tensor::from_vector(label_values, {n});
  return out;
}

std::string default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                 "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

}  // namespace cs
