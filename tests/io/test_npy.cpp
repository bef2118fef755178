// NumPy .npy files (runtime/npy.h): byte-identical to np.save, round trips,
// numpy's other layouts, and corrupt files.
#include <cmath>
#include <limits>

#include "runtime/file_io.h"
#include "runtime/npy.h"
#include "tests/common/test_util.h"
#include "tests/io/io_test_util.h"

namespace cs {
namespace {

using iotest::Bytes;
using iotest::ScratchDir;

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// A .npy file with the given version, header text (padded with spaces to
// `header_len` - 1, then '\n') and data.
Bytes npy_file(const std::string& dict, const Bytes& data, size_t header_len = 118, int major = 1,
               int minor = 0) {
  Bytes out = iotest::bytes_of("\x93NUMPY");
  out.push_back(static_cast<uint8_t>(major));
  out.push_back(static_cast<uint8_t>(minor));
  if (major == 1)
    iotest::append_le<uint16_t>(out, static_cast<uint16_t>(header_len));
  else
    iotest::append_le<uint32_t>(out, static_cast<uint32_t>(header_len));
  std::string header = dict;
  if (header.size() + 1 < header_len) header.append(header_len - 1 - header.size(), ' ');
  header += "\n";
  iotest::append(out, iotest::bytes_of(header));
  iotest::append(out, data);
  return out;
}

// np.save output (numpy 2.4), taken byte for byte: a 118-byte header after
// the 10-byte prefix, so the data starts at byte 128.
TEST(Npy, WritesExactlyWhatNumpyWrites) {
  ScratchDir tmp;
  const std::string path = tmp.file("a.npy");
  struct Case {
    Tensor tensor;
    std::string dict, data_hex;
  };
  const std::vector<Case> cases = {
      {Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {2, 3}),
       "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
       "000000000000803f0000004000004040000080400000a040"},
      {Tensor::from_vector(std::vector<uint8_t>{0, 1, 2}, {3}),
       "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", "000102"},
      {Tensor::full({}, 2.5, Device::cpu(), DType::F64),
       "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", "0000000000000440"},
      {Tensor::from_vector(std::vector<int32_t>{-7, INT32_MAX}, {2}),
       "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", "f9ffffffffffff7f"},
      {Tensor::zeros({0, 5}), "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", ""},
  };
  for (const Case& c : cases) {
    save_npy(path, c.tensor);
    const Bytes got = read_file_bytes(path);
    EXPECT_EQ(got, npy_file(c.dict, from_hex(c.data_hex))) << c.dict;
    EXPECT_EQ((got.size() - c.tensor.nbytes()) % 64, 0u) << "the data must start at a multiple of 64";
  }
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"a.npy"});
}

TEST(Npy, RoundTripIsBitExact) {
  ScratchDir tmp;
  const std::string path = tmp.file("x.npy");
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<Tensor> tensors = {
      testing::random_tensor({2, 3, 5, 7}, testing::seed_for("f32")),
      Tensor::from_vector(std::vector<float>{0.0f, -0.0f, inf, -inf, std::nanf(""), 1e-45f}, {6}),
      testing::random_tensor({33}, testing::seed_for("f64"), -1e6, 1e6, Device::cpu(), DType::F64),
      Tensor::from_vector(std::vector<int32_t>{INT32_MIN, -1, 0, 1, INT32_MAX, 12345}, {3, 2}),
      Tensor::from_vector(std::vector<uint8_t>{0, 7, 128, 255}, {1, 4, 1}),
      Tensor::full({}, -3.0),
      Tensor::zeros({4, 0, 2}, Device::cpu(), DType::I32),
      testing::random_tensor({6, 4}, testing::seed_for("view")).narrow(1, 3),
      // A shape with a long first dimension, whose digits eat numpy's growth padding.
      Tensor::zeros({1234567, 0}),
  };
  for (const Tensor& t : tensors) {
    save_npy(path, t);
    EXPECT_BITWISE_EQ(load_npy(path), t.clone()) << shape_str(t.shape());
  }
}

TEST(Npy, ReadsNumpyLayoutsAndTypes) {
  ScratchDir tmp;
  const std::string path = tmp.file("n.npy");
  // np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3))
  iotest::write_bytes(path, npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                     from_hex("00000000000040400000803f00008040000000400000a040")));
  EXPECT_BITWISE_EQ(load_npy(path), Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {2, 3}));
  // Fortran order in three dimensions: element (i, j, k) at i + 2j + 6k.
  std::vector<uint8_t> fortran(24), c_order(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) {
        const uint8_t v = static_cast<uint8_t>(100 * i + 10 * j + k);
        fortran[i + 2 * j + 6 * k] = v;
        c_order[(i * 3 + j) * 4 + k] = v;
      }
  iotest::write_bytes(path, npy_file("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3, 4), }",
                                     fortran));
  EXPECT_BITWISE_EQ(load_npy(path), Tensor::from_vector(c_order, {2, 3, 4}));
  // np.arange(6, dtype='>i8').reshape(2, 3): big-endian int64 to int32.
  iotest::write_bytes(path, npy_file("{'descr': '>i8', 'fortran_order': False, 'shape': (2, 3), }",
                                     from_hex("000000000000000000000000000000010000000000000002"
                                              "000000000000000300000000000000040000000000000005")));
  EXPECT_BITWISE_EQ(load_npy(path), Tensor::from_vector(std::vector<int32_t>{0, 1, 2, 3, 4, 5}, {2, 3}));
  // np.array([1.0, -2.5, 65504, 2**-24, np.inf], dtype='<f2') to float32.
  iotest::write_bytes(path, npy_file("{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }",
                                     from_hex("003c00c1ff7b0100007c")));
  EXPECT_BITWISE_EQ(load_npy(path),
                    Tensor::from_vector(std::vector<float>{1.0f, -2.5f, 65504.0f, std::ldexp(1.0f, -24),
                                                           std::numeric_limits<float>::infinity()},
                                        {5}));
  // Big-endian float64, bool, double quotes, Python 2 longs, key order, no trailing comma.
  iotest::write_bytes(path, npy_file("{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \">f8\"}",
                                     from_hex("3ff0000000000000c004000000000000")));
  EXPECT_BITWISE_EQ(load_npy(path), Tensor::from_vector(std::vector<double>{1.0, -2.5}, {2}));
  iotest::write_bytes(path, npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", {1, 0, 1}));
  EXPECT_BITWISE_EQ(load_npy(path), Tensor::from_vector(std::vector<uint8_t>{1, 0, 1}, {3}));
  // Versions 2.0 and 3.0 (4-byte header length).
  for (int major : {2, 3}) {
    iotest::write_bytes(path, npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
                                       from_hex("2a000000"), 116, major));
    EXPECT_BITWISE_EQ(load_npy(path), Tensor::from_vector(std::vector<int32_t>{42}, {1}));
  }
}

TEST(Npy, RejectsCorruptFiles) {
  ScratchDir tmp;
  const std::string path = tmp.file("bad.npy");
  const std::string f4_2x2 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  const Bytes sixteen(16, 0);
  auto check = [&](const Bytes& file, std::initializer_list<std::string> needles) {
    iotest::write_bytes(path, file);
    std::vector<std::string> all = needles;
    all.push_back(path);
    try {
      load_npy(path);
      ADD_FAILURE() << "accepted a file that should fail with: " << *needles.begin();
    } catch (const Error& e) {
      for (const std::string& needle : all)
        EXPECT_NE(e.message().find(needle), std::string::npos) << e.message() << "\nlacks: " << needle;
    }
  };
  iotest::write_bytes(path, npy_file(f4_2x2, sixteen));
  EXPECT_EQ(load_npy(path).shape(), (Shape{2, 2}));

  check({}, {"not a .npy file"});
  check(iotest::bytes_of("\x93NUMPZ\x01\x00"), {"not a .npy file"});
  check(iotest::bytes_of("PK\x03\x04 a zip file (.npz), not .npy"), {"not a .npy file"});
  check(npy_file(f4_2x2, sixteen, 118, 4), {"version 4.0"});
  check(npy_file(f4_2x2, sixteen, 118, 1, 1), {"version 1.1"});
  Bytes cut = npy_file(f4_2x2, sixteen);
  cut.resize(9);
  check(cut, {"truncated inside its .npy header"});
  cut = npy_file(f4_2x2, sixteen);
  cut.resize(60);
  check(cut, {"header length 118 exceeds the file"});
  // Data cut short, data too long.
  check(npy_file(f4_2x2, Bytes(15)), {"truncated", "needs 16 bytes", "holds 15"});
  check(npy_file(f4_2x2, Bytes(17)), {"1 unexpected bytes"});
  // Header dicts numpy would not write.
  check(npy_file("{'descr': '<f4', 'fortran_order': False}", {}), {"lacks the key 'shape'"});
  check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}", Bytes(4)),
        {"unexpected key 'extra'"});
  check(npy_file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", Bytes(4)),
        {"'descr' twice"});
  check(npy_file("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,)}", Bytes(4)),
        {"structured array"});
  check(npy_file("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", Bytes(8)),
        {"unsupported .npy dtype '<c8'"});
  check(npy_file("{'descr': '<U10', 'fortran_order': False, 'shape': (1,)}", Bytes(40)),
        {"unsupported .npy dtype '<U10'"});
  check(npy_file("{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}", Bytes(4)), {"byte order"});
  check(npy_file("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", Bytes(4)), {"True or False"});
  check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", Bytes(4)),
        {"non-negative integers"});
  check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2]}", sixteen), {"expected '('"});
  check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)", sixteen), {"expected '}'"});
  check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)} x", sixteen),
        {"unexpected text after"});
  check(npy_file("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 2)}", sixteen), {"malformed"});
  check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", {}),
        {"dimension above"});
  check(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576, 1048576)}", {}),
        {"too large"});
  // int64 values that do not fit int32.
  Bytes big;
  iotest::append_le<int64_t>(big, int64_t{1} << 40);
  check(npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", big), {"element 0", "int32"});
  EXPECT_ERROR(load_npy(tmp.file("missing.npy")), {tmp.file("missing.npy")});
}

TEST(Npy, SaveErrorsLeaveTheOldFile) {
  ScratchDir tmp;
  const std::string path = tmp.file("keep.npy");
  save_npy(path, Tensor::full({3}, 1.5));
  EXPECT_ERROR(save_npy(path, Tensor()), {path, "undefined"});
  const std::string missing = tmp.file("no/dir/x.npy");
  EXPECT_ERROR(save_npy(missing, Tensor::zeros({1})), {missing});
  EXPECT_BITWISE_EQ(load_npy(path), Tensor::full({3}, 1.5));
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"keep.npy"});
}

}  // namespace
}  // namespace cs
