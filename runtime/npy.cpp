#include "runtime/npy.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <set>
#include <vector>

#include "runtime/file_io.h"
#include "runtime/safetensors.h"  // half_to_float

namespace cs {

static_assert(std::endian::native == std::endian::little,
              "the .npy reader and writer assume a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes
constexpr size_t kMagicBytes = 6;
constexpr uint64_t kMaxElements = uint64_t{1} << 40;

const char* descr_of(DType t) {
  switch (t) {
    case DType::F32: return "<f4";
    case DType::F64: return "<f8";
    case DType::I32: return "<i4";
    case DType::U8: return "|u1";
  }
  return "?";
}

// The Python repr of a shape tuple: (), (5,), (2, 3).
std::string shape_repr(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// The header is a Python dict literal written by numpy's format module:
// string keys, a string, a bool and a tuple of integers. This parses exactly
// that subset and nothing else.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader out;
    std::set<std::string> seen;
    expect('{');
    for (;;) {
      if (consume('}')) break;
      const std::string key = parse_string("a key");
      CS_CHECK(seen.insert(key).second, path_ << ": the .npy header names '" << key << "' twice");
      expect(':');
      if (key == "descr") {
        skip_space();
        CS_CHECK(peek() != '[', path_ << ": the .npy file holds a structured array (descr is a "
                                         "list); only plain numeric arrays are supported");
        out.descr = parse_string("the descr string");
      } else if (key == "fortran_order") {
        out.fortran_order = parse_bool();
      } else if (key == "shape") {
        out.shape = parse_shape();
      } else {
        CS_FAIL(path_ << ": the .npy header has an unexpected key '" << key
                      << "' (expected descr, fortran_order and shape)");
      }
      if (consume(',')) continue;
      expect('}');
      break;
    }
    skip_space();
    CS_CHECK(i_ == s_.size(), path_ << ": unexpected text after the .npy header dict");
    for (const char* key : {"descr", "fortran_order", "shape"})
      CS_CHECK(seen.count(key), path_ << ": the .npy header lacks the key '" << key << "'");
    return out;
  }

 private:
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool consume(char c) {
    skip_space();
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  void expect(char c) {
    CS_CHECK(consume(c), path_ << ": malformed .npy header: expected '" << c << "' at character "
                               << i_ << " of " << quoted());
  }
  std::string quoted() const {
    const std::string head = s_.size() > 120 ? s_.substr(0, 120) + "..." : s_;
    return "\"" + head + "\"";
  }
  std::string parse_string(const char* what) {
    skip_space();
    const char quote = peek();
    CS_CHECK(quote == '\'' || quote == '"', path_ << ": malformed .npy header: expected " << what
                                                  << " at character " << i_ << " of " << quoted());
    ++i_;
    std::string out;
    while (i_ < s_.size() && s_[i_] != quote) {
      CS_CHECK(s_[i_] != '\\', path_ << ": escape sequences in the .npy header are not supported");
      out += s_[i_++];
    }
    CS_CHECK(i_ < s_.size(), path_ << ": malformed .npy header: unterminated string");
    ++i_;
    return out;
  }
  bool parse_bool() {
    skip_space();
    for (const auto& [word, value] : {std::pair<const char*, bool>{"True", true}, {"False", false}}) {
      const size_t n = std::strlen(word);
      if (s_.compare(i_, n, word) == 0) {
        i_ += n;
        return value;
      }
    }
    CS_FAIL(path_ << ": malformed .npy header: fortran_order must be True or False, in "
                  << quoted());
  }
  Shape parse_shape() {
    expect('(');
    Shape shape;
    for (;;) {
      if (consume(')')) break;
      skip_space();
      CS_CHECK(std::isdigit(static_cast<unsigned char>(peek())),
               path_ << ": malformed .npy header: the shape must be a tuple of non-negative "
                        "integers, in "
                     << quoted());
      uint64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        v = v * 10 + static_cast<uint64_t>(s_[i_++] - '0');
        CS_CHECK(v <= kMaxElements, path_ << ": the .npy shape has a dimension above " << kMaxElements);
      }
      if (peek() == 'L') ++i_;  // Python 2 long
      shape.push_back(static_cast<int64_t>(v));
      if (consume(',')) continue;
      expect(')');
      break;
    }
    return shape;
  }

  const std::string& s_;
  const std::string& path_;
  size_t i_ = 0;
};

// The element types the reader knows: kind + size after the byte-order mark.
struct ElementType {
  char kind;  // 'f', 'i', 'u', 'b'
  size_t bytes;
  bool big_endian;
};

ElementType parse_descr(const std::string& descr, const std::string& path) {
  const std::string supported = "f2, f4, f8, i4, i8, u1, b1";
  CS_CHECK(descr.size() == 3 && std::string("<>|=").find(descr[0]) != std::string::npos,
           path << ": unsupported .npy dtype '" << descr << "' (supported: " << supported << ")");
  ElementType t{descr[1], static_cast<size_t>(descr[2] - '0'), descr[0] == '>'};
  const std::string kind_size = descr.substr(1);
  CS_CHECK(kind_size == "f2" || kind_size == "f4" || kind_size == "f8" || kind_size == "i4" ||
               kind_size == "i8" || kind_size == "u1" || kind_size == "b1",
           path << ": unsupported .npy dtype '" << descr << "' (supported: " << supported << ")");
  CS_CHECK(t.bytes == 1 || descr[0] != '|',
           path << ": .npy dtype '" << descr << "' needs a byte order ('<' or '>')");
  return t;
}

// Element i of C order taken from an array stored in Fortran order.
std::vector<uint8_t> fortran_to_c(const uint8_t* src, const Shape& shape, size_t element_bytes) {
  const int rank = static_cast<int>(shape.size());
  const int64_t n = shape_numel(shape);
  std::vector<uint8_t> dst(static_cast<size_t>(n) * element_bytes);
  if (n == 0) return dst;
  std::vector<int64_t> stride(rank), index(rank, 0);  // Fortran strides in elements
  for (int k = 0; k < rank; ++k) stride[k] = k == 0 ? 1 : stride[k - 1] * shape[k - 1];
  int64_t f = 0;
  for (int64_t j = 0; j < n; ++j) {
    std::memcpy(&dst[static_cast<size_t>(j) * element_bytes], src + static_cast<size_t>(f) * element_bytes,
                element_bytes);
    // Next C-order index: the last dimension moves fastest.
    for (int k = rank - 1; k >= 0; --k) {
      ++index[k];
      f += stride[k];
      if (index[k] < shape[k]) break;
      f -= index[k] * stride[k];
      index[k] = 0;
    }
  }
  return dst;
}

uint32_t read_le(const uint8_t* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

void save_npy(const std::string& path, const Tensor& tensor) {
  CS_CHECK(tensor.defined(), "save_npy " << path << ": the tensor is undefined");
  const Tensor host = tensor.to(Device::cpu());
  // Exactly what numpy's np.save writes: the sorted keys, room for the first
  // dimension to grow to 21 digits, then spaces so that the data starts at a
  // multiple of 64 (numpy always adds at least one), then '\n'.
  std::string dict = "{'descr': '";
  dict += descr_of(tensor.dtype());
  dict += "', 'fortran_order': False, 'shape': " + shape_repr(tensor.shape()) + ", }";
  if (!tensor.shape().empty())
    dict.append(21 - std::min<size_t>(21, std::to_string(tensor.shape()[0]).size()), ' ');
  // Version 1.0 stores the header length in 2 bytes, 2.0 in 4.
  int major = 1;
  size_t prefix = kMagicBytes + 2 + 2;
  auto padded = [&] {
    const size_t unpadded = prefix + dict.size() + 1;  // + '\n'
    return dict + std::string(64 - unpadded % 64, ' ') + "\n";
  };
  std::string header = padded();
  if (header.size() > 0xFFFF) {
    major = 2;
    prefix = kMagicBytes + 2 + 4;
    header = padded();
  }
  std::vector<uint8_t> bytes;
  bytes.reserve(prefix + header.size() + host.nbytes());
  bytes.insert(bytes.end(), kMagic, kMagic + kMagicBytes);
  bytes.push_back(static_cast<uint8_t>(major));
  bytes.push_back(0);
  const uint32_t n = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < prefix - kMagicBytes - 2; ++i) bytes.push_back(static_cast<uint8_t>(n >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  const auto* data = static_cast<const uint8_t*>(host.raw_data());
  bytes.insert(bytes.end(), data, data + host.nbytes());
  write_file_atomic(path, bytes.data(), bytes.size());
}

Tensor load_npy(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  CS_CHECK(bytes.size() >= kMagicBytes + 2 && std::memcmp(bytes.data(), kMagic, kMagicBytes) == 0,
           path << " is not a .npy file (it does not begin with \\x93NUMPY)");
  const int major = bytes[6], minor = bytes[7];
  CS_CHECK((major == 1 || major == 2 || major == 3) && minor == 0,
           path << ": unsupported .npy format version " << major << "." << minor
                << " (expected 1.0, 2.0 or 3.0)");
  const size_t length_bytes = major == 1 ? 2 : 4;
  const size_t prefix = kMagicBytes + 2 + length_bytes;
  CS_CHECK(bytes.size() >= prefix, path << " is truncated inside its .npy header");
  const size_t header_len = read_le(bytes.data() + 8, static_cast<int>(length_bytes));
  CS_CHECK(header_len <= bytes.size() - prefix,
           path << ": the .npy header length " << header_len << " exceeds the file ("
                << bytes.size() << " bytes): truncated or not a .npy file");
  const std::string text(bytes.begin() + static_cast<std::ptrdiff_t>(prefix),
                         bytes.begin() + static_cast<std::ptrdiff_t>(prefix + header_len));
  const NpyHeader header = HeaderParser(text, path).parse();
  const ElementType type = parse_descr(header.descr, path);

  uint64_t numel = 1;
  for (int64_t d : header.shape) {
    CS_CHECK(d == 0 || numel <= kMaxElements / static_cast<uint64_t>(d),
             path << ": the .npy shape " << shape_repr(header.shape) << " is too large");
    numel *= static_cast<uint64_t>(d);
  }
  const uint64_t data_bytes = bytes.size() - prefix - header_len;
  const uint64_t expected = numel * type.bytes;
  CS_CHECK(data_bytes >= expected, path << " is truncated: shape " << shape_repr(header.shape)
                                        << " of '" << header.descr << "' needs " << expected
                                        << " bytes of data, the file holds " << data_bytes);
  CS_CHECK(data_bytes == expected, path << " has " << data_bytes - expected
                                        << " unexpected bytes after its data");

  const uint8_t* src = bytes.data() + prefix + header_len;
  std::vector<uint8_t> reordered;
  if (type.big_endian && type.bytes > 1) {
    reordered.assign(src, src + expected);
    for (size_t i = 0; i < expected; i += type.bytes)
      std::reverse(reordered.begin() + static_cast<std::ptrdiff_t>(i),
                   reordered.begin() + static_cast<std::ptrdiff_t>(i + type.bytes));
    src = reordered.data();
  }
  if (header.fortran_order && header.shape.size() > 1) {
    reordered = fortran_to_c(src, header.shape, type.bytes);
    src = reordered.data();
  }

  const int64_t n = static_cast<int64_t>(numel);
  const std::string kind_size = header.descr.substr(1);
  Tensor t;
  if (kind_size == "f4" || kind_size == "f8" || kind_size == "i4" || kind_size == "u1" ||
      kind_size == "b1") {
    const DType d = kind_size == "f4" ? DType::F32 : kind_size == "f8" ? DType::F64
                    : kind_size == "i4" ? DType::I32 : DType::U8;
    t = Tensor::empty(header.shape, Device::cpu(), d);
    if (n) std::memcpy(t.raw_data(), src, t.nbytes());
  } else if (kind_size == "f2") {
    t = Tensor::empty(header.shape, Device::cpu(), DType::F32);
    float* dst = t.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = half_to_float(h);
    }
  } else {  // i8
    t = Tensor::empty(header.shape, Device::cpu(), DType::I32);
    int32_t* dst = t.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t v;
      std::memcpy(&v, src + 8 * i, 8);
      CS_CHECK(v >= INT32_MIN && v <= INT32_MAX,
               path << ": element " << i << " is " << v << ", outside the int32 range");
      dst[i] = static_cast<int32_t>(v);
    }
  }
  return t;
}

}  // namespace cs
