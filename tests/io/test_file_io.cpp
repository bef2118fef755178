// Whole-file reads, atomic writes and folders (runtime/file_io.h).
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>

#include "runtime/file_io.h"
#include "tests/common/test_util.h"
#include "tests/io/io_test_util.h"

namespace cs {
namespace {

using iotest::Bytes;
using iotest::ScratchDir;

TEST(FileIo, ReadsWhatWasWrittenByteForByte) {
  ScratchDir tmp;
  Bytes bytes(200000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>((i * 7919) >> 3);
  iotest::write_bytes(tmp.file("a.bin"), bytes);
  EXPECT_EQ(read_file_bytes(tmp.file("a.bin")), bytes);
  iotest::write_bytes(tmp.file("t.txt"), iotest::bytes_of("hello\nworld"));
  EXPECT_EQ(read_file_text(tmp.file("t.txt")), std::string("hello\nworld"));
}

TEST(FileIo, ReadsEmptyFilesAndStreams) {
  ScratchDir tmp;
  iotest::write_bytes(tmp.file("empty"), {});
  EXPECT_TRUE(read_file_bytes(tmp.file("empty")).empty());
  // /proc files report size 0 but have content: the reader reads to the end.
  if (file_exists("/proc/self/status")) {
    EXPECT_NE(read_file_text("/proc/self/status").find("Name:"), std::string::npos);
  }
}

TEST(FileIo, ReadErrorsNameThePathAndTheReason) {
  ScratchDir tmp;
  const std::string missing = tmp.file("missing.bin");
  EXPECT_ERROR(read_file_bytes(missing), {missing, "No such file or directory"});
  EXPECT_ERROR(read_file_text(missing), {missing});
  EXPECT_ERROR(read_file_bytes(tmp.dir()), {tmp.dir(), "folder"});
}

TEST(FileIo, AtomicWriteCreatesAndReplacesLeavingNoTemporaryFiles) {
  ScratchDir tmp;
  const std::string path = tmp.file("out.txt");
  write_file_atomic(path, std::string("first version, longer than the second"));
  EXPECT_EQ(read_file_text(path), "first version, longer than the second");
  write_file_atomic(path, std::string("second"));
  EXPECT_EQ(read_file_text(path), "second");
  const Bytes raw = {0, 1, 2, 255};
  write_file_atomic(tmp.file("raw.bin"), raw.data(), raw.size());
  EXPECT_EQ(read_file_bytes(tmp.file("raw.bin")), raw);
  write_file_atomic(tmp.file("empty.bin"), nullptr, 0);
  EXPECT_TRUE(read_file_bytes(tmp.file("empty.bin")).empty());
  EXPECT_EQ(tmp.entries(), (std::vector<std::string>{"empty.bin", "out.txt", "raw.bin"}));
}

TEST(FileIo, AtomicWriteIntoAMissingFolderFailsCleanly) {
  ScratchDir tmp;
  const std::string path = tmp.file("no/such/folder/out.txt");
  EXPECT_ERROR(write_file_atomic(path, std::string("x")), {path, "does not exist"});
  EXPECT_TRUE(tmp.entries().empty());
  // A parent that is a file, not a folder.
  write_file_atomic(tmp.file("plain"), std::string("old"));
  EXPECT_ERROR(write_file_atomic(tmp.file("plain/child"), std::string("x")),
               {tmp.file("plain/child"), "is not a folder"});
  EXPECT_EQ(read_file_text(tmp.file("plain")), "old");
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"plain"});
}

TEST(FileIo, AtomicWriteOverAFolderFailsAndKeepsTheFolder) {
  ScratchDir tmp;
  make_directories(tmp.file("target"));
  EXPECT_ERROR(write_file_atomic(tmp.file("target"), std::string("x")), {tmp.file("target"), "folder"});
  EXPECT_TRUE(std::filesystem::is_directory(tmp.file("target")));
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"target"});
}

// A write that fails half-way (the file-size limit stands in for a full
// disk) leaves the previous file exactly as it was and no temporary file.
TEST(FileIo, AtomicWriteThatFailsMidwayKeepsTheOldFile) {
  ScratchDir tmp;
  const std::string path = tmp.file("checkpoint.bin");
  const Bytes old_bytes(1000, 0xAB);
  write_file_atomic(path, old_bytes.data(), old_bytes.size());

  const Bytes big(4 << 20, 0xCD);
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit limited = saved;
  limited.rlim_cur = 1 << 20;  // writes past 1 MiB fail with EFBIG
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < limited.rlim_cur)
    GTEST_SKIP() << "the file-size limit is already below 1 MiB";
  void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  bool threw = false;
  std::string message;
  try {
    write_file_atomic(path, big.data(), big.size());
  } catch (const Error& e) {
    threw = true;
    message = e.message();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, previous);

  EXPECT_TRUE(threw);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_EQ(read_file_bytes(path), old_bytes);
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"checkpoint.bin"});
}

TEST(FileIo, MakeDirectoriesCreatesParentsAndIsIdempotent) {
  ScratchDir tmp;
  const std::string nested = tmp.file("a/b/c");
  EXPECT_FALSE(file_exists(nested));
  make_directories(nested);
  EXPECT_TRUE(std::filesystem::is_directory(nested));
  EXPECT_TRUE(file_exists(nested));
  make_directories(nested);  // already there: fine
  write_file_atomic(tmp.file("a/file"), std::string("x"));
  EXPECT_TRUE(file_exists(tmp.file("a/file")));
  EXPECT_ERROR(make_directories(tmp.file("a/file")), {tmp.file("a/file")});
  EXPECT_ERROR(make_directories(tmp.file("a/file/below")), {tmp.file("a/file/below")});
}

}  // namespace
}  // namespace cs
