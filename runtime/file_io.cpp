#include "runtime/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "runtime/error.h"

namespace cs {

namespace {

// Closes a file descriptor when it goes out of scope (errors while reading).
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  CS_CHECK(fd >= 0, "cannot open " << path << ": " << std::strerror(errno));
  FdCloser closer{fd};
  struct stat st;
  CS_CHECK(::fstat(fd, &st) == 0, "cannot read " << path << ": " << std::strerror(errno));
  CS_CHECK(!S_ISDIR(st.st_mode), "cannot read " << path << ": it is a folder, not a file");
  // The size from fstat is only a hint (pipes and /proc files report 0, a
  // file may change while it is read): read until the end either way.
  std::vector<uint8_t> bytes(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0);
  size_t used = 0;
  uint8_t chunk[1 << 16];
  for (;;) {
    // Into the buffer while it has room, then in chunks (which also sees the end).
    const bool into_buffer = used < bytes.size();
    const ssize_t n = into_buffer ? ::read(fd, bytes.data() + used, bytes.size() - used)
                                  : ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      CS_FAIL("cannot read " << path << ": " << std::strerror(errno));
    }
    if (n == 0) break;
    if (!into_buffer) bytes.insert(bytes.end(), chunk, chunk + n);
    used += static_cast<size_t>(n);
  }
  bytes.resize(used);
  return bytes;
}

std::string read_file_text(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

void write_file_atomic(const std::string& path, const void* data, size_t bytes) {
  static std::atomic<uint64_t> counter{0};
  CS_CHECK(!path.empty(), "write_file_atomic: empty path");
  const std::filesystem::path target(path);
  CS_CHECK(target.has_filename(), "cannot write " << path << ": the path names a folder, not a file");
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::error_code ec;
  CS_CHECK(std::filesystem::is_directory(dir, ec),
           "cannot write " << path << ": " << dir.string()
                           << (std::filesystem::exists(dir, ec) ? " is not a folder"
                                                                : " does not exist (no such folder)"));
  CS_CHECK(!std::filesystem::is_directory(target, ec),
           "cannot write " << path << ": a folder of that name exists");

  // A hidden name beside the target (so the rename stays within one file
  // system), unique per process and call; O_EXCL never reuses a leftover.
  std::string temp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    std::string temp_name = ".";
    temp_name += target.filename().string();
    temp_name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    temp = (dir / temp_name).string();
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && (errno != EEXIST || attempt >= 100))
      CS_FAIL("cannot write " << path << ": cannot create a temporary file in " << dir.string()
                              << ": " << std::strerror(errno));
  }

  // Any failure from here on removes the temporary file and leaves the old
  // target untouched.
  int error = 0;
  const char* step = "";
  const char* p = static_cast<const char*>(data);
  size_t left = bytes;
  while (left > 0 && error == 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      step = "write";
    } else {
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (error == 0 && ::fsync(fd) != 0) {
    error = errno;
    step = "fsync";
  }
  if (::close(fd) != 0 && error == 0) {
    error = errno;
    step = "close";
  }
  if (error == 0 && std::rename(temp.c_str(), path.c_str()) != 0) {
    error = errno;
    step = "rename";
  }
  if (error != 0) {
    ::unlink(temp.c_str());
    CS_FAIL("cannot write " << path << " (" << step << "): " << std::strerror(error));
  }
  // Make the rename itself durable. Best effort: some file systems refuse
  // fsync on a folder, and the data is already in place.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
}

void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

void make_directories(const std::string& path) {
  CS_CHECK(!path.empty(), "make_directories: empty path");
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  std::error_code ec2;
  CS_CHECK(!ec && std::filesystem::is_directory(path, ec2),
           "cannot create the folder " << path << ": "
                                       << (ec ? ec.message() : "a file of that name exists"));
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace cs
