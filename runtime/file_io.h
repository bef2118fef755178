// Whole-file reads and atomic writes. A write goes to a temporary file in the
// destination's folder, is flushed to disk, then renamed over the target, so
// an interrupted run never leaves a half-written checkpoint or picture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cs {

// Throws cs::Error naming the path and the system's reason.
std::vector<uint8_t> read_file_bytes(const std::string& path);
std::string read_file_text(const std::string& path);

void write_file_atomic(const std::string& path, const void* data, size_t bytes);
void write_file_atomic(const std::string& path, const std::string& text);

// Creates the folder and its parents if missing; throws if that fails.
void make_directories(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace cs
