// Image files through stb_image / stb_image_write.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/tensor.h"

namespace cs {

// Decodes a PNG/JPEG/BMP/... file into a uint8 CPU tensor (C, H, W).
// channels = 0 keeps the file's gray (1) or colour (3) layout (alpha dropped);
// 1 or 3 converts. Throws naming the file when it cannot be read or decoded.
Tensor load_image(const std::string& path, int channels = 0);

// Encodes interleaved 8-bit pixels (H, W, channels) as a PNG, atomically.
// channels: 1 (gray), 3 (RGB) or 4 (RGBA).
void save_png(const std::string& path, const uint8_t* pixels, int width, int height, int channels);
// A uint8 CPU tensor (C, H, W) or (H, W), C = 1 or 3, as a PNG.
void save_png(const std::string& path, const Tensor& image_chw);

}  // namespace cs
