#include "runtime/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/error.h"

namespace cs {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CS_CHECK(in.good(), "cannot open " << path << ": " << std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  CS_CHECK(size >= 0, "cannot read the size of " << path);
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0) in.read(reinterpret_cast<char*>(bytes.data()), size);
  CS_CHECK(in.good() || in.eof(), "cannot read " << path << ": " << std::strerror(errno));
  return bytes;
}

std::string read_file_text(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

void write_file_atomic(const std::string& path, const void* data, size_t bytes) {
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  CS_CHECK(std::filesystem::is_directory(dir),
           "cannot write " << path << ": the folder " << dir.string() << " does not exist");
  // A hidden name beside the target, unique per process and call.
  std::string temp_name = ".";
  temp_name += target.filename().string();
  temp_name += ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  const std::string temp = (dir / temp_name).string();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CS_CHECK(fd >= 0, "cannot write " << path << ": " << std::strerror(errno));
  const char* p = static_cast<const char*>(data);
  size_t left = bytes;
  bool ok = true;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  const int saved_errno = errno;
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : saved_errno;
    std::remove(temp.c_str());
    CS_FAIL("cannot write " << path << ": " << std::strerror(e));
  }
}

void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

void make_directories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  CS_CHECK(!ec && std::filesystem::is_directory(path),
           "cannot create the folder " << path << ": " << (ec ? ec.message() : "not a folder"));
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace cs
