// Image decoding and PNG encoding through stb (the implementations are
// compiled here, once).
#include "runtime/image_io.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <vector>

#include "runtime/file_io.h"

namespace cs {

Tensor load_image(const std::string& path, int channels) {
  CS_CHECK(channels == 0 || channels == 1 || channels == 3,
           "load_image: channels must be 0 (as stored), 1 or 3, got " << channels);
  CS_CHECK(file_exists(path), "cannot read image " << path << ": no such file");
  int w = 0, h = 0, stored = 0;
  CS_CHECK(stbi_info(path.c_str(), &w, &h, &stored),
           "cannot read image " << path << ": " << stbi_failure_reason());
  const int want = channels ? channels : (stored <= 2 ? 1 : 3);
  unsigned char* pixels = stbi_load(path.c_str(), &w, &h, &stored, want);
  CS_CHECK(pixels != nullptr, "cannot decode image " << path << ": " << stbi_failure_reason());
  Tensor image = Tensor::empty({want, h, w}, Device::cpu(), DType::U8);
  uint8_t* out = image.data<uint8_t>();
  // Interleaved (H, W, C) to planar (C, H, W).
  const size_t plane = static_cast<size_t>(h) * w;
  for (int c = 0; c < want; ++c)
    for (size_t i = 0; i < plane; ++i) out[c * plane + i] = pixels[i * want + c];
  stbi_image_free(pixels);
  return image;
}

namespace {
void append_bytes(void* context, void* data, int size) {
  auto* buffer = static_cast<std::vector<unsigned char>*>(context);
  const auto* p = static_cast<const unsigned char*>(data);
  buffer->insert(buffer->end(), p, p + size);
}
}  // namespace

void save_png(const std::string& path, const uint8_t* pixels, int width, int height, int channels) {
  CS_CHECK(width > 0 && height > 0, "save_png " << path << ": empty image " << width << "x" << height);
  CS_CHECK(width <= (1 << 24) && height <= (1 << 24) &&
               static_cast<int64_t>(width) * height <= (int64_t{1} << 29),
           "save_png " << path << ": image " << width << "x" << height << " is too large");
  CS_CHECK(pixels != nullptr, "save_png " << path << ": no pixels");
  CS_CHECK(channels == 1 || channels == 3 || channels == 4,
           "save_png " << path << ": channels must be 1, 3 or 4, got " << channels);
  std::vector<unsigned char> encoded;
  CS_CHECK(stbi_write_png_to_func(append_bytes, &encoded, width, height, channels, pixels,
                                  width * channels),
           "save_png " << path << ": PNG encoding failed");
  write_file_atomic(path, encoded.data(), encoded.size());
}

void save_png(const std::string& path, const Tensor& image) {
  CS_CHECK(image.defined(), "save_png " << path << ": the image tensor is undefined");
  CS_CHECK(image.dtype() == DType::U8, "save_png " << path << ": expected a uint8 image, got "
                                                   << dtype_name(image.dtype()));
  CS_CHECK((image.ndim() == 3 && (image.dim(0) == 1 || image.dim(0) == 3)) || image.ndim() == 2,
           "save_png " << path << ": expected (C, H, W) with C = 1 or 3, or (H, W), got "
                       << shape_str(image.shape()));
  constexpr int64_t kMaxSide = 1 << 24;  // stb's own limit; keeps every size below in int range
  CS_CHECK(image.dim(-2) <= kMaxSide && image.dim(-1) <= kMaxSide &&
               image.dim(-2) * image.dim(-1) <= (int64_t{1} << 29),
           "save_png " << path << ": image " << shape_str(image.shape()) << " is too large");
  const Tensor host = image.to(Device::cpu());
  const int c = image.ndim() == 2 ? 1 : static_cast<int>(image.dim(0));
  const int h = static_cast<int>(image.dim(-2)), w = static_cast<int>(image.dim(-1));
  const size_t plane = static_cast<size_t>(h) * w;
  std::vector<uint8_t> interleaved(plane * c);
  const uint8_t* p = host.data<uint8_t>();
  for (int ch = 0; ch < c; ++ch)
    for (size_t i = 0; i < plane; ++i) interleaved[i * c + ch] = p[ch * plane + i];
  save_png(path, interleaved.data(), w, h, c);
}

}  // namespace cs
