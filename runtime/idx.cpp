#include "runtime/idx.h"

#include <zlib.h>

#include <algorithm>

#include "runtime/file_io.h"

namespace cs {

namespace {

// Far beyond any real IDX file (the largest, EMNIST, has ~0.7e9 values),
// small enough that a corrupt header cannot make us allocate absurd memory.
constexpr int64_t kMaxElements = int64_t{1} << 33;
constexpr int kMaxRank = 4;
constexpr size_t kMaxHeaderBytes = 4 + 4 * kMaxRank;

const char* idx_type_name(uint8_t code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
  }
  return "unknown";
}

// The decompressed content of a gzip file (one or more members, as gzip
// allows), stopping as soon as it holds more than `limit` bytes: a result
// longer than `limit` means "at least that much". Corrupt or truncated
// streams and non-gzip bytes after the last member are errors.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& compressed, const std::string& path,
                            size_t limit) {
  z_stream stream{};
  CS_CHECK(inflateInit2(&stream, 16 + MAX_WBITS) == Z_OK, "cannot start gzip decoding for " << path);
  struct End {
    z_stream* s;
    ~End() { inflateEnd(s); }
  } end{&stream};
  std::vector<uint8_t> out;
  // The gzip trailer's ISIZE (the size modulo 2^32) as a capacity hint.
  if (compressed.size() >= 18) {
    const uint8_t* t = compressed.data() + compressed.size() - 4;
    const size_t isize = uint32_t{t[0]} | (uint32_t{t[1]} << 8) | (uint32_t{t[2]} << 16) |
                         (uint32_t{t[3]} << 24);
    out.reserve(std::min(isize, limit + 1));
  }
  size_t fed = 0;  // bytes of `compressed` handed to zlib so far
  uint8_t chunk[1 << 16];
  for (;;) {
    if (stream.avail_in == 0 && fed < compressed.size()) {
      const size_t n = std::min<size_t>(compressed.size() - fed, size_t{1} << 30);
      stream.next_in = const_cast<Bytef*>(compressed.data() + fed);
      stream.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    stream.next_out = chunk;
    stream.avail_out = sizeof chunk;
    const int status = inflate(&stream, Z_NO_FLUSH);
    out.insert(out.end(), chunk, chunk + (sizeof chunk - stream.avail_out));
    if (out.size() > limit) return out;
    const bool input_left = stream.avail_in > 0 || fed < compressed.size();
    if (status == Z_STREAM_END) {
      if (!input_left) return out;
      const size_t at = static_cast<size_t>(stream.next_in - compressed.data());
      CS_CHECK(compressed.size() - at >= 2 && compressed[at] == 0x1f && compressed[at + 1] == 0x8b,
               path << " has " << compressed.size() - at
                    << " bytes of unexpected data after its gzip stream");
      inflateReset(&stream);  // the next member
      continue;
    }
    if (status == Z_BUF_ERROR || (status == Z_OK && !input_left && stream.avail_out != 0))
      CS_FAIL(path << " is truncated: the gzip stream ends early");
    CS_CHECK(status == Z_OK, path << " is not a valid gzip file ("
                                  << (stream.msg ? stream.msg : "corrupt data") << ")");
  }
}

uint32_t big_endian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Parses and checks the header in the first `n` bytes of the content; returns
// the header's size in bytes and fills the dimensions.
size_t parse_idx_header(const uint8_t* bytes, size_t n, const std::string& path,
                        std::vector<int64_t>& dims, int64_t& count) {
  CS_CHECK(n >= 4, path << " is too short to be an IDX file (" << n << " bytes)");
  CS_CHECK(bytes[0] == 0 && bytes[1] == 0,
           path << " is not an IDX file (bad magic number: its first two bytes must be zero)");
  CS_CHECK(bytes[2] == 0x08, path << " holds IDX element type 0x" << std::hex << int(bytes[2])
                                  << std::dec << " (" << idx_type_name(bytes[2])
                                  << "); only unsigned bytes (0x08) are supported");
  const int rank = bytes[3];
  CS_CHECK(rank >= 1 && rank <= kMaxRank,
           path << ": IDX rank " << rank << " (expected 1 to " << kMaxRank << ")");
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  CS_CHECK(n >= header, path << " is truncated inside its header");
  dims.clear();
  count = 1;
  for (int d = 0; d < rank; ++d) {
    const int64_t dim = big_endian32(&bytes[4 + 4 * d]);
    CS_CHECK(dim > 0, path << ": dimension " << d << " is zero");
    CS_CHECK(count <= kMaxElements / dim,
             path << ": the dimensions promise more than " << kMaxElements << " values");
    count *= dim;
    dims.push_back(dim);
  }
  return header;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  const bool gzipped = bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
  IdxArray out;
  int64_t count = 0;
  if (gzipped) {
    // Decode only the header first, so its sizes are checked before the
    // whole content is inflated (a corrupt or hostile file cannot make us
    // decompress more than the header promises).
    const std::vector<uint8_t> head = gunzip(bytes, path, kMaxHeaderBytes);
    const size_t header = parse_idx_header(head.data(), head.size(), path, out.dims, count);
    bytes = gunzip(bytes, path, header + static_cast<size_t>(count));
  }
  const size_t header = parse_idx_header(bytes.data(), bytes.size(), path, out.dims, count);
  const size_t expected = header + static_cast<size_t>(count);
  CS_CHECK(bytes.size() >= expected, path << " is truncated: the header promises " << count
                                          << " values, the file holds " << bytes.size() - header);
  CS_CHECK(bytes.size() == expected,
           path << " has trailing data: " << (gzipped ? "at least " : "") << bytes.size() - expected
                << " unexpected bytes after its " << count << " values");
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

namespace {
std::string find_file(const std::string& dir, const std::string& stem) {
  CS_CHECK(file_exists(dir), "the dataset folder " << dir << " does not exist"
                                                   << " (FashionMNIST comes with `apt-get install "
                                                      "dataset-fashion-mnist`; use --data DIR for "
                                                      "another folder)");
  for (const std::string& name : {stem, stem + ".gz"})
    if (file_exists(dir + "/" + name)) return dir + "/" + name;
  CS_FAIL("cannot find " << stem << " or " << stem << ".gz in " << dir
                         << " (FashionMNIST comes with `apt-get install dataset-fashion-mnist`; "
                            "use --data DIR for another folder)");
}
}  // namespace

ImageDataset load_mnist_format(const std::string& dir, bool train,
                               const std::vector<std::string>& class_names) {
  CS_CHECK(!class_names.empty(), "load_mnist_format " << dir << ": no class names given");
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
