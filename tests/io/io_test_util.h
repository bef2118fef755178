// Helpers shared by the file-format tests: a fresh folder per test, raw
// byte files, gzip compression, and "throws cs::Error whose message says X".
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "runtime/error.h"

namespace cs::iotest {

using Bytes = std::vector<uint8_t>;

// A fresh, empty folder under ::testing::TempDir() named after the running
// test; removed when the test ends (kept when it failed, to look at).
class ScratchDir {
 public:
  ScratchDir() {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "convscope_io_";
    name += info ? std::string(info->test_suite_name()) + "_" + info->name() : "scratch";
    for (char& c : name)
      if (c == '/') c = '_';
    path_ = std::filesystem::path(::testing::TempDir()) / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    if (!::testing::Test::HasFailure()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string dir() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Every entry of the folder (hidden ones included), sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write the fixture " << path;
}

inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

inline void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

template <typename T> void append_le(Bytes& out, T value) {
  uint8_t raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));  // the host is little-endian
  out.insert(out.end(), raw, raw + sizeof(T));
}

// One gzip member holding `data`, as the gzip command writes it.
inline Bytes gzip(const Bytes& data) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  Bytes out(deflateBound(&s, data.size()) + 64);
  s.next_in = const_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// Passes when f() throws cs::Error whose one-line message contains every
// needle; fails when it throws nothing, something else, or a message
// without one of them (printing the message).
template <typename F>
::testing::AssertionResult throws_error(F&& f, std::initializer_list<std::string> needles) {
  try {
    f();
  } catch (const Error& e) {
    const std::string& message = e.message();
    for (const std::string& needle : needles)
      if (message.find(needle) == std::string::npos)
        return ::testing::AssertionFailure()
               << "the error message lacks \"" << needle << "\": " << message;
    if (message.find('\n') != std::string::npos)
      return ::testing::AssertionFailure() << "the error message is not one line: " << message;
    return ::testing::AssertionSuccess() << message;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-cs::Error exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "no exception";
}

}  // namespace cs::iotest

// EXPECT_ERROR(statement, {"needle", ...}): the statement throws cs::Error
// whose message contains every needle.
#define EXPECT_ERROR(statement, ...) \
  EXPECT_TRUE(::cs::iotest::throws_error([&] { (void)(statement); }, __VA_ARGS__))
