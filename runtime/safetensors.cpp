#include "runtime/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "runtime/file_io.h"

namespace cs {

namespace {

using json = nlohmann::json;
constexpr uint64_t kMaxHeader = 100ull << 20;  // the format's own limit is 100 MB
constexpr uint64_t kMaxElements = uint64_t{1} << 40;  // per tensor; also bounds every dimension

struct DtypeInfo {
  const char* name;
  size_t bytes;
};

const DtypeInfo* find_dtype(const std::string& name) {
  static const DtypeInfo known[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
                                    {"U16", 2}, {"U32", 4}, {"U64", 8}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  for (const DtypeInfo& d : known)
    if (name == d.name) return &d;
  return nullptr;
}

const char* dtype_tag(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::I32: return "I32";
    case DType::U8: return "U8";
  }
  return "?";
}

uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1u, exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // subnormal (or zero)
  else if (exponent == 31)
    magnitude = mantissa ? std::numeric_limits<float>::quiet_NaN()
                         : std::numeric_limits<float>::infinity();
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

float bfloat16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

SafetensorsFile load_safetensors(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  CS_CHECK(bytes.size() >= 8, path << " is not a safetensors file: " << bytes.size()
                                   << " bytes, fewer than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  CS_CHECK(header_len <= bytes.size() - 8,
           path << ": the header length " << header_len << " exceeds the file (" << bytes.size()
                << " bytes): truncated or not a safetensors file");
  CS_CHECK(header_len <= kMaxHeader, path << ": header length " << header_len << " is too large");
  json header;
  // JSON allows repeated keys (the last one wins); a repeated tensor name
  // would silently drop a tensor, so it is an error here.
  std::set<std::string> names;
  const auto no_repeats = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key) {
      const std::string key = parsed.get<std::string>();
      CS_CHECK(names.insert(key).second, path << ": the header names '" << key << "' twice");
    }
    return true;
  };
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_len),
                         no_repeats);
  } catch (const json::exception& e) {
    CS_FAIL(path << ": the header is not valid JSON (" << e.what() << ")");
  }
  CS_CHECK(header.is_object(), path << ": the header must be a JSON object");
  const uint64_t buffer_size = bytes.size() - 8 - header_len;
  const uint8_t* buffer = bytes.data() + 8 + header_len;

  SafetensorsFile out;
  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  struct Pending {
    std::string name;
    const DtypeInfo* dtype;
    Shape shape;
    uint64_t begin;
  };
  std::vector<Pending> pending;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      CS_CHECK(it.value().is_object(), path << ": __metadata__ must be an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        CS_CHECK(m.value().is_string(), path << ": metadata '" << m.key() << "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const json& entry = it.value();
    CS_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") &&
                 entry.contains("data_offsets"),
             path << ": tensor '" << name << "' lacks dtype, shape or data_offsets");
    CS_CHECK(entry["dtype"].is_string(), path << ": tensor '" << name << "' has a non-string dtype");
    const std::string dtype = entry["dtype"].get<std::string>();
    const DtypeInfo* info = find_dtype(dtype);
    CS_CHECK(info, path << ": tensor '" << name << "' has unknown dtype " << dtype);
    static const std::set<std::string> loadable = {"F32", "F64", "F16", "BF16", "I64", "I32", "U8", "BOOL"};
    CS_CHECK(loadable.count(dtype),
             path << ": tensor '" << name << "' has dtype " << dtype
                  << ", which convscope cannot load (F32, F16, BF16, F64, I64, I32, U8, BOOL)");
    CS_CHECK(entry["shape"].is_array(), path << ": tensor '" << name << "' has a non-array shape");
    Shape shape;
    uint64_t numel = 1;
    for (const json& d : entry["shape"]) {
      CS_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0),
               path << ": tensor '" << name << "' has a bad dimension " << d.dump());
      const uint64_t v = d.get<uint64_t>();
      CS_CHECK(v <= kMaxElements && (v == 0 || numel <= kMaxElements / v),
               path << ": tensor '" << name << "' of shape " << entry["shape"].dump()
                    << " is too large (more than " << kMaxElements << " elements)");
      numel *= v;
      shape.push_back(static_cast<int64_t>(v));
    }
    const json& offsets = entry["data_offsets"];
    CS_CHECK(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                 offsets[1].is_number_unsigned(),
             path << ": tensor '" << name << "' needs data_offsets [begin, end]");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    CS_CHECK(begin <= end, path << ": tensor '" << name << "' has data_offsets [" << begin << ", "
                                << end << "] whose begin is after its end");
    CS_CHECK(end <= buffer_size,
             path << ": tensor '" << name << "' has offsets [" << begin << ", " << end
                  << "] outside the " << buffer_size << "-byte data buffer");
    CS_CHECK(end - begin == numel * info->bytes,
             path << ": tensor '" << name << "' of shape " << shape_str(shape) << " and dtype "
                  << dtype << " needs " << numel * info->bytes << " bytes, its offsets give "
                  << end - begin);
    spans.push_back({begin, end, name});
    pending.push_back({name, info, shape, begin});
  }
  // The buffer must be covered exactly, without overlaps or holes.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  uint64_t covered = 0;
  for (const Span& s : spans) {
    CS_CHECK(s.begin >= covered, path << ": tensor '" << s.name << "' overlaps the tensor before it");
    CS_CHECK(s.begin == covered, path << ": bytes " << covered << " to " << s.begin
                                      << " of the data buffer belong to no tensor");
    covered = s.end;
  }
  CS_CHECK(covered == buffer_size, path << ": the last " << buffer_size - covered
                                        << " bytes of the data buffer belong to no tensor");

  for (const Pending& p : pending) {
    const uint8_t* src = buffer + p.begin;
    const int64_t n = shape_numel(p.shape);
    const std::string dtype = p.dtype->name;
    Tensor t;
    if (dtype == "F32" || dtype == "F64" || dtype == "I32" || dtype == "U8" || dtype == "BOOL") {
      const DType d = dtype == "F32" ? DType::F32 : dtype == "F64" ? DType::F64
                      : dtype == "I32" ? DType::I32 : DType::U8;
      t = Tensor::empty(p.shape, Device::cpu(), d);
      if (n) std::memcpy(t.raw_data(), src, t.nbytes());
    } else if (dtype == "F16" || dtype == "BF16") {
      t = Tensor::empty(p.shape, Device::cpu(), DType::F32);
      float* dst = t.data<float>();
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t v = read_u16(src + 2 * i);
        dst[i] = dtype == "F16" ? half_to_float(v) : bfloat16_to_float(v);
      }
    } else if (dtype == "I64") {
      t = Tensor::empty(p.shape, Device::cpu(), DType::I32);
      int32_t* dst = t.data<int32_t>();
      for (int64_t i = 0; i < n; ++i) {
        int64_t v;
        std::memcpy(&v, src + 8 * i, 8);
        CS_CHECK(v >= INT32_MIN && v <= INT32_MAX,
                 path << ": tensor '" << p.name << "' holds " << v << ", outside the int32 range");
        dst[i] = static_cast<int32_t>(v);
      }
    } else {
      CS_FAIL(path << ": tensor '" << p.name << "' has dtype " << dtype
                   << ", which convscope cannot load (F32, F16, BF16, F64, I64, I32, U8, BOOL)");
    }
    out.tensors[p.name] = t;
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<Tensor> hosts;
  for (const auto& [name, t] : tensors) {  // std::map: sorted by name
    CS_CHECK(t.defined(), "save_safetensors " << path << ": tensor '" << name << "' is undefined");
    CS_CHECK(name != "__metadata__",
             "save_safetensors " << path << ": '__metadata__' is reserved, not a tensor name");
    hosts.push_back(t.to(Device::cpu()));
    header[name] = {{"dtype", dtype_tag(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {  // names or metadata that are not valid UTF-8
    CS_FAIL("save_safetensors " << path << ": cannot encode the header (" << e.what() << ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  std::vector<uint8_t> bytes(8 + text.size() + offset);
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(bytes.data() + 8, text.data(), text.size());
  uint8_t* data = bytes.data() + 8 + text.size();
  for (const Tensor& h : hosts) {
    if (h.nbytes()) std::memcpy(data, h.raw_data(), h.nbytes());
    data += h.nbytes();
  }
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace cs
