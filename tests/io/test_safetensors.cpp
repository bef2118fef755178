// The safetensors checkpoint format (runtime/safetensors.h): round trips,
// half/bfloat16 conversion, and every kind of corrupt file.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

#include "runtime/file_io.h"
#include "runtime/safetensors.h"
#include "tests/common/test_util.h"
#include "tests/io/io_test_util.h"

namespace cs {
namespace {

using iotest::Bytes;
using iotest::ScratchDir;

// A safetensors file from a header text and a data buffer; the header
// length defaults to the header's size.
Bytes st_file(const std::string& header, const Bytes& data, uint64_t header_len = ~uint64_t{0}) {
  Bytes out;
  iotest::append_le<uint64_t>(out, header_len == ~uint64_t{0} ? header.size() : header_len);
  iotest::append(out, iotest::bytes_of(header));
  iotest::append(out, data);
  return out;
}

template <typename T> Bytes raw_of(const std::vector<T>& values) {
  Bytes out;
  for (T v : values) iotest::append_le<T>(out, v);
  return out;
}

float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

TEST(Safetensors, RoundTripIsBitExactWithMetadata) {
  ScratchDir tmp;
  const float inf = std::numeric_limits<float>::infinity();
  std::map<std::string, Tensor> tensors;
  tensors["features.0.weight"] = testing::random_tensor({4, 1, 3, 3}, testing::seed_for("w"));
  tensors["features.0.bias"] = Tensor::from_vector(
      std::vector<float>{0.0f, -0.0f, inf, -inf, bits_to_float(0x7FC01234), bits_to_float(1),
                         1e-45f, 3.4028235e38f},
      {8});
  tensors["double"] = testing::random_tensor({3, 5}, testing::seed_for("d"), -1e3, 1e3, Device::cpu(),
                                             DType::F64);
  tensors["counts"] = Tensor::from_vector(std::vector<int32_t>{INT32_MIN, -1, 0, 7, INT32_MAX}, {5});
  tensors["mask"] = Tensor::from_vector(std::vector<uint8_t>{0, 1, 128, 255}, {2, 2});
  tensors["empty"] = Tensor::zeros({0, 3});
  tensors["scalar"] = Tensor::full({}, 2.5);
  // A view into a bigger tensor: only its own rows are written.
  const Tensor big = testing::random_tensor({5, 4}, testing::seed_for("big"));
  tensors["rows"] = big.narrow(2, 2);
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"epoch", "12"}, {"note", "quotes \" and \\ and unicode \u00e9"}, {"", ""}};

  const std::string path = tmp.file("model.safetensors");
  save_safetensors(path, tensors, metadata);
  const SafetensorsFile loaded = load_safetensors(path);
  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(loaded.tensors.count(name)) << name;
    EXPECT_TRUE(loaded.tensors.at(name).device().is_cpu()) << name;
    EXPECT_BITWISE_EQ(loaded.tensors.at(name), t.clone()) << name;
  }
  EXPECT_EQ(loaded.metadata, metadata);
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"model.safetensors"});

  // No metadata at all, no tensors at all.
  save_safetensors(path, {{"x", Tensor::full({2}, 1.0)}});
  EXPECT_TRUE(load_safetensors(path).metadata.empty());
  save_safetensors(path, {});
  EXPECT_TRUE(load_safetensors(path).tensors.empty());
}

// The layout the format asks for: 8-byte length, a space-padded JSON header
// whose length is a multiple of 8, tensors in name order, contiguous.
TEST(Safetensors, WriterLayoutFollowsTheFormat) {
  ScratchDir tmp;
  const std::string path = tmp.file("layout.safetensors");
  save_safetensors(path,
                   {{"b", Tensor::full({3}, 1.0)},
                    {"a", Tensor::full({2, 2}, 2.0, Device::cpu(), DType::F64)},
                    {"c", Tensor::zeros({5}, Device::cpu(), DType::U8)},
                    {"d", Tensor::zeros({1}, Device::cpu(), DType::I32)}},
                   {{"k", "v"}});
  const Bytes bytes = read_file_bytes(path);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  ASSERT_LE(8 + n, bytes.size());
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  EXPECT_EQ(header.front(), '{');
  const size_t close = header.rfind('}');
  EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos) << "padding must be spaces";
  const nlohmann::json j = nlohmann::json::parse(header);
  EXPECT_EQ(j["__metadata__"]["k"], "v");
  EXPECT_EQ(j["a"]["dtype"], "F64");
  EXPECT_EQ(j["b"]["dtype"], "F32");
  EXPECT_EQ(j["c"]["dtype"], "U8");
  EXPECT_EQ(j["d"]["dtype"], "I32");
  EXPECT_EQ(j["a"]["shape"], nlohmann::json({2, 2}));
  EXPECT_EQ(j["a"]["data_offsets"], nlohmann::json({0, 32}));
  EXPECT_EQ(j["b"]["data_offsets"], nlohmann::json({32, 44}));
  EXPECT_EQ(j["c"]["data_offsets"], nlohmann::json({44, 49}));
  EXPECT_EQ(j["d"]["data_offsets"], nlohmann::json({49, 53}));
  EXPECT_EQ(bytes.size(), 8 + n + 53);
}

TEST(Safetensors, HalfToFloatHandValues) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0xC100), -2.5f);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0f);  // largest finite
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(half_to_float(0x8001), -std::ldexp(1.0f, -24));
  EXPECT_EQ(half_to_float(0x03FF), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(half_to_float(0x0000), 0.0f);
  EXPECT_FALSE(std::signbit(half_to_float(0x0000)));
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_EQ(half_to_float(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7C01)));
  EXPECT_TRUE(std::isnan(half_to_float(0xFE00)));
}

// Every one of the 65536 halves against the bit-level definition.
TEST(Safetensors, HalfToFloatIsExactForEveryValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint32_t sign = h >> 15, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    const float got = half_to_float(static_cast<uint16_t>(h));
    if (exponent == 31 && mantissa != 0) {
      ASSERT_TRUE(std::isnan(got)) << h;
      continue;
    }
    float want;
    if (exponent == 0) {
      want = static_cast<float>(mantissa) * std::ldexp(1.0f, -24);  // exact
      if (sign) want = -want;
    } else {
      // Normal and infinite halves widen by re-biasing the exponent.
      const uint32_t e = exponent == 31 ? 255 : exponent - 15 + 127;
      want = bits_to_float((sign << 31) | (e << 23) | (mantissa << 13));
    }
    ASSERT_EQ(std::signbit(got), std::signbit(want)) << h;
    ASSERT_EQ(got, want) << "half 0x" << std::hex << h;
  }
}

TEST(Safetensors, Bfloat16ToFloatHandValues) {
  EXPECT_EQ(bfloat16_to_float(0x3F80), 1.0f);
  EXPECT_EQ(bfloat16_to_float(0xC020), -2.5f);
  EXPECT_EQ(bfloat16_to_float(0x477F), 65280.0f);
  EXPECT_EQ(bfloat16_to_float(0x7F7F), bits_to_float(0x7F7F0000));  // largest finite
  EXPECT_EQ(bfloat16_to_float(0x0001), std::ldexp(1.0f, -133));       // smallest subnormal
  EXPECT_EQ(bfloat16_to_float(0x0080), std::ldexp(1.0f, -126));       // smallest normal
  EXPECT_TRUE(std::signbit(bfloat16_to_float(0x8000)));
  EXPECT_EQ(bfloat16_to_float(0x7F80), std::numeric_limits<float>::infinity());
  EXPECT_EQ(bfloat16_to_float(0xFF80), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(bfloat16_to_float(0x7FC0)));
  EXPECT_TRUE(std::isnan(bfloat16_to_float(0x7F81)));
}

TEST(Safetensors, LoadsF16Bf16I64AndBoolConverted) {
  ScratchDir tmp;
  const std::string path = tmp.file("mixed.safetensors");
  const std::vector<uint16_t> halves = {0x3C00, 0xC100, 0x7BFF, 0x0001, 0x7C00, 0x7E00};
  const std::vector<uint16_t> bfloats = {0x3F80, 0xC020, 0x477F, 0x0001, 0xFF80, 0x7FC0};
  const std::vector<int64_t> longs = {0, -1, INT32_MAX, INT32_MIN, 42, 7};
  Bytes data = raw_of(halves);  // [0, 12)
  iotest::append(data, raw_of(bfloats));  // [12, 24)
  iotest::append(data, raw_of(longs));    // [24, 72)
  iotest::append(data, {1, 0, 1});        // [72, 75)
  const std::string header =
      R"({"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},)"
      R"("b":{"dtype":"BF16","shape":[6],"data_offsets":[12,24]},)"
      R"("i":{"dtype":"I64","shape":[3,2],"data_offsets":[24,72]},)"
      R"("m":{"dtype":"BOOL","shape":[3],"data_offsets":[72,75]},)"
      R"("__metadata__":{"format":"pt"}})";
  iotest::write_bytes(path, st_file(header, data));
  const SafetensorsFile f = load_safetensors(path);
  const float inf = std::numeric_limits<float>::infinity();

  const Tensor& h = f.tensors.at("h");
  EXPECT_EQ(h.dtype(), DType::F32);
  EXPECT_EQ(h.shape(), (Shape{2, 3}));
  const std::vector<float> hv = h.to_vector<float>();
  EXPECT_EQ(hv[0], 1.0f);
  EXPECT_EQ(hv[1], -2.5f);
  EXPECT_EQ(hv[2], 65504.0f);
  EXPECT_EQ(hv[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(hv[4], inf);
  EXPECT_TRUE(std::isnan(hv[5]));

  const std::vector<float> bv = f.tensors.at("b").to_vector<float>();
  EXPECT_EQ(bv[0], 1.0f);
  EXPECT_EQ(bv[1], -2.5f);
  EXPECT_EQ(bv[2], 65280.0f);
  EXPECT_EQ(bv[3], std::ldexp(1.0f, -133));
  EXPECT_EQ(bv[4], -inf);
  EXPECT_TRUE(std::isnan(bv[5]));

  const Tensor& i = f.tensors.at("i");
  EXPECT_EQ(i.dtype(), DType::I32);
  EXPECT_EQ(i.shape(), (Shape{3, 2}));
  EXPECT_EQ(i.to_vector<int32_t>(), (std::vector<int32_t>{0, -1, INT32_MAX, INT32_MIN, 42, 7}));
  EXPECT_EQ(f.tensors.at("m").to_vector<uint8_t>(), (Bytes{1, 0, 1}));
  EXPECT_EQ(f.metadata.at("format"), "pt");
}

TEST(Safetensors, I64OutsideInt32IsAnErrorNamingTheTensor) {
  ScratchDir tmp;
  const std::string path = tmp.file("big.safetensors");
  iotest::write_bytes(path, st_file(R"({"steps":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})",
                                    raw_of(std::vector<int64_t>{1, int64_t{1} << 31})));
  EXPECT_ERROR(load_safetensors(path), {path, "'steps'", "2147483648", "int32"});
}

// A valid two-tensor header around which the corruption cases are built:
// "a" is F32 [2] at [0, 8), "b" is U8 [4] at [8, 12).
const Bytes kTwelveBytes = {0, 0, 128, 63, 0, 0, 0, 64, 1, 2, 3, 4};

TEST(Safetensors, RejectsTruncatedFilesAndBadHeaderLengths) {
  ScratchDir tmp;
  const std::string path = tmp.file("bad.safetensors");
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const Bytes good = st_file(header, Bytes(kTwelveBytes.begin(), kTwelveBytes.begin() + 8));
  iotest::write_bytes(path, good);
  EXPECT_EQ(load_safetensors(path).tensors.at("a").to_vector<float>(), (std::vector<float>{1, 2}));

  iotest::write_bytes(path, {});
  EXPECT_ERROR(load_safetensors(path), {path, "fewer than the 8-byte header length"});
  iotest::write_bytes(path, {1, 0, 0});
  EXPECT_ERROR(load_safetensors(path), {path, "fewer than the 8-byte header length"});
  // Cut inside the header, inside the data.
  iotest::write_bytes(path, Bytes(good.begin(), good.begin() + 20));
  EXPECT_ERROR(load_safetensors(path), {path, "exceeds the file"});
  iotest::write_bytes(path, Bytes(good.begin(), good.end() - 1));
  EXPECT_ERROR(load_safetensors(path), {path, "'a'", "outside"});
  // A length beyond the file, a huge length, a zero length.
  iotest::write_bytes(path, st_file(header, {}, header.size() + 100));
  EXPECT_ERROR(load_safetensors(path), {path, "exceeds the file"});
  iotest::write_bytes(path, st_file(header, {}, ~uint64_t{0} - 3));
  EXPECT_ERROR(load_safetensors(path), {path, "exceeds the file"});
  iotest::write_bytes(path, st_file("", {}, 0));
  EXPECT_ERROR(load_safetensors(path), {path, "not valid JSON"});
  EXPECT_ERROR(load_safetensors(tmp.file("missing")), {tmp.file("missing")});
}

TEST(Safetensors, RejectsMalformedHeaders) {
  ScratchDir tmp;
  const std::string path = tmp.file("bad.safetensors");
  struct Case {
    std::string header;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", {"not valid JSON"}},
      {"\xff\xfe{}", {"not valid JSON"}},
      {R"([1, 2, 3])", {"must be a JSON object"}},
      {R"({"a": 5})", {"'a'", "lacks dtype, shape or data_offsets"}},
      {R"({"a":{"shape":[2],"data_offsets":[0,8]}})", {"'a'", "lacks dtype"}},
      {R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", {"'a'", "shape"}},
      {R"({"a":{"dtype":"F32","shape":[2]}})", {"'a'", "data_offsets"}},
      {R"({"a":{"dtype":32,"shape":[2],"data_offsets":[0,8]}})", {"'a'", "non-string dtype"}},
      {R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", {"'a'", "unknown dtype F33"}},
      {R"({"a":{"dtype":"I16","shape":[4],"data_offsets":[0,8]}})", {"'a'", "I16", "cannot load"}},
      {R"({"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", {"'a'", "cannot load"}},
      {R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", {"'a'", "non-array shape"}},
      {R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", {"'a'", "bad dimension -2"}},
      {R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", {"'a'", "bad dimension"}},
      {R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", {"'a'", "bad dimension"}},
      {R"({"a":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}})",
       {"'a'", "too large"}},
      {R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
       {"'a'", "too large"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", {"'a'", "data_offsets [begin, end]"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", {"'a'", "data_offsets"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":"0-8"}})", {"'a'", "data_offsets"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":[1]})",
       {"__metadata__ must be an object"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"epoch":3}})",
       {"metadata 'epoch' is not a string"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})",
       {"names 'a' twice"}},
  };
  for (const Case& c : cases) {
    iotest::write_bytes(path, st_file(c.header, Bytes(kTwelveBytes.begin(), kTwelveBytes.begin() + 8)));
    std::vector<std::string> needles = c.needles;
    needles.push_back(path);
    try {
      load_safetensors(path);
      ADD_FAILURE() << "accepted header " << c.header;
    } catch (const Error& e) {
      for (const std::string& needle : needles)
        EXPECT_NE(e.message().find(needle), std::string::npos)
            << "header " << c.header << "\nmessage: " << e.message() << "\nlacks: " << needle;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "header " << c.header << " threw a non-cs::Error: " << e.what();
    }
  }
}

TEST(Safetensors, RejectsBadOffsets) {
  ScratchDir tmp;
  const std::string path = tmp.file("bad.safetensors");
  auto header = [](const std::string& a_offsets, const std::string& b_offsets,
                   const std::string& b_shape = "[4]") {
    return R"({"a":{"dtype":"F32","shape":[2],"data_offsets":)" + a_offsets +
           R"(},"b":{"dtype":"U8","shape":)" + b_shape + R"(,"data_offsets":)" + b_offsets + "}}";
  };
  auto check = [&](const std::string& h, const Bytes& data, std::initializer_list<std::string> needles) {
    iotest::write_bytes(path, st_file(h, data));
    EXPECT_TRUE(iotest::throws_error([&] { load_safetensors(path); }, needles)) << h;
  };
  // The valid arrangement, and "b" before "a" in the buffer.
  iotest::write_bytes(path, st_file(header("[0,8]", "[8,12]"), kTwelveBytes));
  EXPECT_EQ(load_safetensors(path).tensors.at("b").to_vector<uint8_t>(), (Bytes{1, 2, 3, 4}));
  iotest::write_bytes(path, st_file(header("[4,12]", "[0,4]"), kTwelveBytes));
  EXPECT_EQ(load_safetensors(path).tensors.at("b").to_vector<uint8_t>(), (Bytes{0, 0, 128, 63}));

  check(header("[0,8]", "[8,16]"), kTwelveBytes, {path, "'b'", "[8, 16]", "outside the 12-byte"});
  check(header("[0,8]", "[18446744073709551611,18446744073709551615]"), kTwelveBytes, {path, "'b'", "outside"});
  check(header("[8,0]", "[8,12]"), kTwelveBytes, {path, "'a'", "begin is after its end"});
  check(header("[0,8]", "[4,8]"), kTwelveBytes, {path, "'b'", "overlaps"});
  check(header("[0,8]", "[7,11]"), kTwelveBytes, {path, "overlaps"});
  check(header("[0,8]", "[0,4]"), kTwelveBytes, {path, "overlaps"});
  // Sizes that do not match shape x dtype.
  check(header("[0,8]", "[8,12]", "[5]"), kTwelveBytes, {path, "'b'", "needs 5 bytes", "give 4"});
  check(header("[0,4]", "[4,8]"), Bytes(8), {path, "'a'", "needs 8 bytes", "give 4"});
  // Bytes that belong to no tensor: a hole, a tail.
  check(header("[0,8]", "[9,13]"), Bytes(13), {path, "bytes 8 to 9", "belong to no tensor"});
  Bytes longer = kTwelveBytes;
  longer.push_back(0);
  check(header("[0,8]", "[8,12]"), longer, {path, "last 1 bytes", "belong to no tensor"});
  check(R"({})", Bytes(4), {path, "last 4 bytes"});
}

TEST(Safetensors, SaveErrorsNameTheFileAndTensor) {
  ScratchDir tmp;
  const std::string path = tmp.file("out.safetensors");
  EXPECT_ERROR(save_safetensors(path, {{"w", Tensor()}}), {path, "'w'", "undefined"});
  EXPECT_ERROR(save_safetensors(path, {{"__metadata__", Tensor::zeros({1})}}), {path, "__metadata__"});
  EXPECT_ERROR(save_safetensors(path, {{"w", Tensor::zeros({1})}}, {{"bad", "\xff\xfe"}}),
               {path, "cannot encode the header"});
  EXPECT_ERROR(save_safetensors(path, {{"\xc3", Tensor::zeros({1})}}), {path});
  const std::string missing = tmp.file("no/such/dir/out.safetensors");
  EXPECT_ERROR(save_safetensors(missing, {{"w", Tensor::zeros({1})}}), {missing});
  EXPECT_TRUE(tmp.entries().empty());
  // A failed save keeps the previous checkpoint.
  save_safetensors(path, {{"w", Tensor::full({2}, 3.0)}});
  EXPECT_ERROR(save_safetensors(path, {{"w", Tensor()}}), {path});
  EXPECT_EQ(load_safetensors(path).tensors.at("w").to_vector<float>(), (std::vector<float>{3, 3}));
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"out.safetensors"});
}

TEST(SafetensorsCuda, SavesDeviceTensorsThroughTheHost) {
  CS_REQUIRE_CUDA();
  ScratchDir tmp;
  const std::string path = tmp.file("gpu.safetensors");
  const Tensor host = testing::random_tensor({3, 7}, testing::seed_for("gpu"));
  save_safetensors(path, {{"w", host.to(Device::cuda(0))}});
  const SafetensorsFile f = load_safetensors(path);
  EXPECT_TRUE(f.tensors.at("w").device().is_cpu());
  EXPECT_BITWISE_EQ(f.tensors.at("w"), host);
}

// The Python `safetensors` package reads our files and writes files we read
// (scripts/check_safetensors_peer.py). Needs python3 with safetensors and
// numpy, so it runs only when asked: CONVSCOPE_PEER_CHECK=1.
TEST(SafetensorsPeer, PythonSafetensorsAgreesWithUs) {
  const char* flag = std::getenv("CONVSCOPE_PEER_CHECK");
  if (!flag || std::string(flag) != "1")
    GTEST_SKIP() << "set CONVSCOPE_PEER_CHECK=1 (needs python3 with safetensors and numpy)";
  ScratchDir tmp;
  const std::string script = std::string(CONVSCOPE_SOURCE_DIR) + "/scripts/check_safetensors_peer.py";

  // Theirs -> ours.
  const std::string theirs = tmp.file("reference.safetensors");
  ASSERT_EQ(std::system(("python3 '" + script + "' write '" + theirs + "'").c_str()), 0);
  const SafetensorsFile ref = load_safetensors(theirs);
  std::vector<float> f32(12);
  for (int i = 0; i < 12; ++i) f32[i] = (static_cast<float>(i) - 5.5f) / 4.0f;
  EXPECT_BITWISE_EQ(ref.tensors.at("f32"), Tensor::from_vector(f32, {3, 4}));
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> f16 = ref.tensors.at("f16").to_vector<float>();
  ASSERT_EQ(f16.size(), 6u);
  EXPECT_EQ(f16[0], 1.0f);
  EXPECT_EQ(f16[1], -2.5f);
  EXPECT_EQ(f16[2], 65504.0f);
  EXPECT_EQ(f16[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(f16[4], inf);
  EXPECT_TRUE(std::isnan(f16[5]));
  const std::vector<float> bf16 = ref.tensors.at("bf16").to_vector<float>();
  ASSERT_EQ(bf16.size(), 6u);
  EXPECT_EQ(bf16[0], 1.0f);
  EXPECT_EQ(bf16[1], -2.5f);
  EXPECT_EQ(bf16[2], 65280.0f);
  EXPECT_EQ(bf16[3], std::ldexp(1.0f, -133));
  EXPECT_EQ(bf16[4], -inf);
  EXPECT_TRUE(std::isnan(bf16[5]));
  EXPECT_EQ(ref.tensors.at("i64").shape(), (Shape{2, 3}));
  EXPECT_EQ(ref.tensors.at("i64").to_vector<int32_t>(),
            (std::vector<int32_t>{0, -1, INT32_MAX, INT32_MIN, 42, 7}));
  EXPECT_EQ(ref.metadata.at("writer"), "check_safetensors_peer.py");

  // Ours -> theirs: the script checks these exact values.
  const std::string ours = tmp.file("convscope.safetensors");
  std::vector<float> a(6);
  for (int i = 0; i < 6; ++i) a[i] = (static_cast<float>(i) - 2.0f) * 0.25f;
  std::vector<double> b(4);
  for (int i = 0; i < 4; ++i) b[i] = i / 3.0;
  save_safetensors(ours,
                   {{"a.f32", Tensor::from_vector(a, {2, 3})},
                    {"b.f64", Tensor::from_vector(b, {4})},
                    {"c.i32", Tensor::from_vector(std::vector<int32_t>{INT32_MIN, -1, 0, INT32_MAX}, {2, 2})},
                    {"d.u8", Tensor::from_vector(std::vector<uint8_t>{0, 1, 128, 255}, {4, 1})}},
                   {{"writer", "convscope"}});
  EXPECT_EQ(std::system(("python3 '" + script + "' check '" + ours + "'").c_str()), 0);
}

}  // namespace
}  // namespace cs
