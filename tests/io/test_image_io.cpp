// PNG writing and image reading through stb (runtime/image_io.h).
#include "runtime/file_io.h"
#include "runtime/image_io.h"
#include "tests/common/test_util.h"
#include "tests/io/io_test_util.h"

namespace cs {
namespace {

using iotest::Bytes;
using iotest::ScratchDir;

// A uint8 (C, H, W) image whose every pixel differs from its neighbours.
Tensor pattern_image(int c, int h, int w) {
  std::vector<uint8_t> values(static_cast<size_t>(c) * h * w);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint8_t>(i * 37 + i / 7);
  return Tensor::from_vector(values, {c, h, w});
}

TEST(ImageIo, PngRoundTripIsBitExact) {
  ScratchDir tmp;
  for (const auto& [c, h, w] : {std::tuple{1, 1, 1}, {1, 28, 28}, {3, 7, 13}, {3, 33, 31}}) {
    const Tensor image = pattern_image(c, h, w);
    const std::string path = tmp.file("img.png");
    save_png(path, image);
    EXPECT_BITWISE_EQ(load_image(path), image) << c << "x" << h << "x" << w;
    EXPECT_BITWISE_EQ(load_image(path, c), image);
  }
  // (H, W) is a gray image.
  const Tensor gray = pattern_image(1, 5, 9);
  save_png(tmp.file("gray.png"), gray.reshape({5, 9}));
  EXPECT_BITWISE_EQ(load_image(tmp.file("gray.png")), gray);
  EXPECT_EQ(tmp.entries(), (std::vector<std::string>{"gray.png", "img.png"}));
}

TEST(ImageIo, ConvertsChannelsOnLoad) {
  ScratchDir tmp;
  const Tensor gray = pattern_image(1, 4, 6);
  save_png(tmp.file("g.png"), gray);
  const Tensor rgb = load_image(tmp.file("g.png"), 3);
  ASSERT_EQ(rgb.shape(), (Shape{3, 4, 6}));
  const std::vector<uint8_t> g = gray.to_vector<uint8_t>(), c = rgb.to_vector<uint8_t>();
  for (size_t i = 0; i < g.size(); ++i)
    for (size_t ch = 0; ch < 3; ++ch) ASSERT_EQ(c[ch * g.size() + i], g[i]) << i;

  // RGBA: the alpha channel is dropped, colours kept exactly.
  const int h = 3, w = 5;
  std::vector<uint8_t> rgba(static_cast<size_t>(h) * w * 4);
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<uint8_t>(i * 11);
  save_png(tmp.file("rgba.png"), rgba.data(), w, h, 4);
  const Tensor loaded = load_image(tmp.file("rgba.png"));
  ASSERT_EQ(loaded.shape(), (Shape{3, h, w}));
  const std::vector<uint8_t> l = loaded.to_vector<uint8_t>();
  for (int p = 0; p < h * w; ++p)
    for (int ch = 0; ch < 3; ++ch) ASSERT_EQ(l[ch * h * w + p], rgba[p * 4 + ch]);
  // Interleaved RGB through the raw API, read back planar.
  save_png(tmp.file("rgb.png"), rgba.data(), 4, 3, 3);
  const std::vector<uint8_t> planar = load_image(tmp.file("rgb.png")).to_vector<uint8_t>();
  for (int p = 0; p < 12; ++p)
    for (int ch = 0; ch < 3; ++ch) ASSERT_EQ(planar[ch * 12 + p], rgba[p * 3 + ch]);
}

TEST(ImageIo, LoadErrorsNameTheFile) {
  ScratchDir tmp;
  EXPECT_ERROR(load_image(tmp.file("missing.png")), {tmp.file("missing.png"), "no such file"});
  iotest::write_bytes(tmp.file("junk.png"), iotest::bytes_of("this is not an image at all"));
  EXPECT_ERROR(load_image(tmp.file("junk.png")), {tmp.file("junk.png")});
  iotest::write_bytes(tmp.file("empty.png"), {});
  EXPECT_ERROR(load_image(tmp.file("empty.png")), {tmp.file("empty.png")});
  // A real PNG cut short.
  save_png(tmp.file("whole.png"), pattern_image(3, 16, 16));
  Bytes png = iotest::read_bytes(tmp.file("whole.png"));
  png.resize(png.size() / 2);
  iotest::write_bytes(tmp.file("half.png"), png);
  EXPECT_ERROR(load_image(tmp.file("half.png")), {tmp.file("half.png")});
  EXPECT_ERROR(load_image(tmp.file("whole.png"), 2), {"channels"});
}

TEST(ImageIo, SaveErrorsNameTheFileAndLeaveNothingBehind) {
  ScratchDir tmp;
  const std::string missing = tmp.file("nowhere/x.png");
  EXPECT_ERROR(save_png(missing, pattern_image(1, 2, 2)), {missing});
  const std::string path = tmp.file("x.png");
  EXPECT_ERROR(save_png(path, Tensor::zeros({1, 2, 2})), {path, "uint8"});
  EXPECT_ERROR(save_png(path, pattern_image(2, 2, 2)), {path, "(C, H, W)"});
  EXPECT_ERROR(save_png(path, pattern_image(1, 1, 4).reshape({4})), {path});
  EXPECT_ERROR(save_png(path, Tensor()), {path});
  EXPECT_ERROR(save_png(path, Tensor::zeros({1, 0, 3}, Device::cpu(), DType::U8)), {path, "empty"});
  const uint8_t pixel[4] = {1, 2, 3, 4};
  EXPECT_ERROR(save_png(path, pixel, 1, 1, 2), {path, "channels"});
  EXPECT_TRUE(tmp.entries().empty());
  // A failed save does not clobber an existing picture.
  const Tensor image = pattern_image(3, 4, 4);
  save_png(path, image);
  EXPECT_ERROR(save_png(path, pixel, 0, 1, 1), {path});
  EXPECT_BITWISE_EQ(load_image(path), image);
}

}  // namespace
}  // namespace cs
