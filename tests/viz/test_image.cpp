// Images: normalisation modes, constant and non-finite inputs, colormapping,
// enlargement, resizing, overlays, composition, text and PNG files.
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/file_io.h"
#include "tests/common/test_util.h"
#include "tests/viz/render_test_util.h"
#include "viz/image.h"

namespace cs {
namespace {

using viz::Color;
using viz::Image;
using viz::Normalization;

Color gray(uint8_t v) { return {v, v, v}; }

std::vector<uint8_t> gray_row(const Image& im) {
  std::vector<uint8_t> out;
  for (int y = 0; y < im.height(); ++y)
    for (int x = 0; x < im.width(); ++x) {
      const Color c = im.at(x, y);
      EXPECT_TRUE(c.r == c.g && c.g == c.b) << x << "," << y;
      out.push_back(c.r);
    }
  return out;
}

TEST(ImageNormalize, MinMaxStretchesToTheFullRange) {
  const Tensor t = Tensor::from_vector(std::vector<float>{1, 2, 3, 5}, {2, 2});
  const Image im = viz::to_image(t);
  EXPECT_EQ(im.width(), 2);
  EXPECT_EQ(im.height(), 2);
  EXPECT_EQ(gray_row(im), (std::vector<uint8_t>{0, 64, 128, 255}));
}

TEST(ImageNormalize, SymmetricMapsZeroToTheMiddle) {
  const Tensor t = Tensor::from_vector(std::vector<float>{-2, 0, 1, 2}, {1, 2, 2});
  EXPECT_EQ(gray_row(viz::to_image(t, Normalization::symmetric())),
            (std::vector<uint8_t>{0, 128, 191, 255}));
  // Lopsided data: m = max |x| = 4, so 0 stays in the middle.
  const Tensor u = Tensor::from_vector(std::vector<float>{0, 1, 4}, {1, 3});
  EXPECT_EQ(gray_row(viz::to_image(u, Normalization::symmetric())),
            (std::vector<uint8_t>{128, 159, 255}));
  const viz::Colormap& bwr = viz::colormap("bwr");
  const Image c = viz::colorize(t, bwr, Normalization::symmetric());
  EXPECT_EQ(c.at(1, 0), viz::kWhite);  // zero
  EXPECT_EQ(c.at(0, 0), bwr.low());    // -m
  EXPECT_EQ(c.at(1, 1), bwr.high());   // +m
}

TEST(ImageNormalize, FixedRangeClips) {
  const Tensor t = Tensor::from_vector(std::vector<float>{-1, 0, 0.5f, 2}, {4, 1});
  EXPECT_EQ(gray_row(viz::to_image(t, Normalization::fixed(0, 1))),
            (std::vector<uint8_t>{0, 0, 128, 255}));
  EXPECT_THROW(viz::to_image(t, Normalization::fixed(1, 1)), Error);
  EXPECT_THROW(viz::to_image(t, Normalization::fixed(2, 1)), Error);
  // uint8 pictures come through unchanged with 0..255.
  const Tensor u = Tensor::from_vector(std::vector<uint8_t>{0, 7, 200, 255}, {1, 4});
  EXPECT_EQ(gray_row(viz::to_image(u, Normalization::fixed(0, 255))),
            (std::vector<uint8_t>{0, 7, 200, 255}));
}

TEST(ImageNormalize, ConstantImagesRenderMidGrayWithoutDividingByZero) {
  const Tensor c = Tensor::full({3, 4}, 7.0);
  for (uint8_t v : gray_row(viz::to_image(c))) EXPECT_EQ(v, 128);
  const Tensor z = Tensor::zeros({3, 4});
  for (uint8_t v : gray_row(viz::to_image(z, Normalization::symmetric()))) EXPECT_EQ(v, 128);
  const Image heat = viz::colorize(c, viz::colormap("viridis"));
  EXPECT_EQ(heat.at(2, 1), viz::colormap("viridis")(0.5));
  EXPECT_EQ(viz::colorize(z, viz::colormap("bwr"), Normalization::symmetric()).at(0, 0),
            viz::kWhite);
  EXPECT_DOUBLE_EQ(viz::to_unit(3.0, viz::ValueRange{3, 3}), 0.5);
}

TEST(ImageNormalize, NonFiniteValuesAreShownNotUsedForTheRange) {
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor t = Tensor::from_vector(std::vector<double>{0, 1, inf, std::nan(""), -inf}, {1, 5});
  const Image im = viz::to_image(t);
  EXPECT_EQ(im.at(0, 0), gray(0));
  EXPECT_EQ(im.at(1, 0), gray(255));
  EXPECT_EQ(im.at(2, 0), gray(255));
  EXPECT_EQ(im.at(3, 0), viz::kNanColor);
  EXPECT_EQ(im.at(4, 0), gray(0));
  const viz::ValueRange r = viz::value_range({std::nan(""), inf}, Normalization::min_max());
  EXPECT_EQ(r.low, r.high);  // nothing finite: degenerate, not NaN
}

TEST(ImageNormalize, ColourImagesShareOneRangeAcrossChannels) {
  // (3, 1, 2): red channel 0..4, green 2, blue 4..0.
  const Tensor t = Tensor::from_vector(std::vector<float>{0, 4, 2, 2, 4, 0}, {3, 1, 2});
  const Image im = viz::to_image(t);
  EXPECT_EQ(im.at(0, 0), (Color{0, 128, 255}));
  EXPECT_EQ(im.at(1, 0), (Color{255, 128, 0}));
  const Tensor batch1 = t.reshape({1, 3, 1, 2});
  EXPECT_EQ(viz::to_image(batch1), im);
}

TEST(ImageNormalize, BadShapesAreRefused) {
  EXPECT_THROW(viz::to_image(Tensor::zeros({2, 4, 4})), Error);
  EXPECT_THROW(viz::to_image(Tensor::zeros({2, 3, 4, 4})), Error);
  EXPECT_THROW(viz::to_image(Tensor::zeros({0, 4})), Error);
  EXPECT_THROW(viz::to_image(Tensor::zeros({5})), Error);
  EXPECT_THROW(viz::to_image(Tensor()), Error);
  EXPECT_THROW(viz::colorize(Tensor::zeros({3, 4, 4}), viz::colormap("gray")), Error);
}

TEST(ImageGeometry, EnlargeRepeatsEveryPixel) {
  Image im(3, 2);
  im.set(1, 1, Color{10, 20, 30});
  im.set(2, 0, viz::kWhite);
  const Image big = viz::enlarge(im, 4);
  EXPECT_EQ(big.width(), 12);
  EXPECT_EQ(big.height(), 8);
  for (int y = 4; y < 8; ++y)
    for (int x = 4; x < 8; ++x) EXPECT_EQ(big.at(x, y), (Color{10, 20, 30}));
  EXPECT_EQ(big.at(3, 4), viz::kBlack);
  EXPECT_EQ(big.at(8, 3), viz::kWhite);
  EXPECT_EQ(viz::enlarge(im, 1), im);
  EXPECT_THROW(viz::enlarge(im, 0), Error);
}

TEST(ImageGeometry, BilinearUsesHalfPixelCentres) {
  // As PyTorch interpolate(mode="bilinear", align_corners=False).
  const std::vector<double> up = viz::resize_bilinear({0, 1}, 2, 1, 4, 1);
  ASSERT_EQ(up.size(), 4u);
  EXPECT_DOUBLE_EQ(up[0], 0);
  EXPECT_DOUBLE_EQ(up[1], 0.25);
  EXPECT_DOUBLE_EQ(up[2], 0.75);
  EXPECT_DOUBLE_EQ(up[3], 1);
  const std::vector<double> down = viz::resize_bilinear({0, 2, 4, 6}, 4, 1, 2, 1);
  EXPECT_DOUBLE_EQ(down[0], 1);
  EXPECT_DOUBLE_EQ(down[1], 5);
  EXPECT_THROW(viz::resize_bilinear({0, 1, 2}, 2, 1, 4, 1), Error);

  const Image flat(5, 3, Color{9, 99, 199});
  const Image r = viz::resize_bilinear(flat, 11, 7);
  EXPECT_EQ(r, Image(11, 7, Color{9, 99, 199}));
}

TEST(ImageGeometry, NearestCopiesPixelsNeverBlends) {
  viz::Image small(2, 1);
  small.set(0, 0, {255, 0, 0});
  small.set(1, 0, {0, 0, 255});
  const viz::Image big = viz::resize_nearest(small, 5, 3);
  EXPECT_EQ(big.width(), 5);
  EXPECT_EQ(big.height(), 3);
  // Output centres 0.5..4.5 over 5 px map to input x = 0, 0, 1 (2.5 * 2 / 5 = 1.0), 1, 1.
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) EXPECT_EQ(big.at(x, y), small.at(x < 2 ? 0 : 1, 0)) << x << "," << y;
  EXPECT_EQ(viz::resize_nearest(big, 2, 1), small) << "shrinking back picks the same pixels";
  EXPECT_THROW(viz::resize_nearest(small, 0, 3), Error);
}

TEST(ImageGeometry, LabelMapsKeepEveryPixelAClassColour) {
  // Four classes in a 2x3 map, stretched to an odd size: no pixel may be a blend.
  const Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 3, 3, 7, 7, 1}, {2, 3});
  const viz::Image map = viz::label_map(labels, 13, 7);
  EXPECT_EQ(map.width(), 13);
  EXPECT_EQ(map.height(), 7);
  const std::vector<viz::Color> legend = {viz::category_color(0), viz::category_color(1), viz::category_color(3),
                                          viz::category_color(7)};
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 13; ++x)
      EXPECT_NE(std::find(legend.begin(), legend.end(), map.at(x, y)), legend.end()) << x << "," << y;
  EXPECT_EQ(map.at(0, 0), viz::category_color(0));
  EXPECT_EQ(map.at(12, 0), viz::category_color(3));
  EXPECT_EQ(map.at(0, 6), viz::category_color(7));
  EXPECT_EQ(map.at(12, 6), viz::category_color(1));
  // A bilinear stretch of the same map does blend: the property above is not automatic.
  viz::Image small(3, 2);
  const std::vector<int32_t> v = labels.to_vector<int32_t>();
  for (int i = 0; i < 6; ++i) small.set(i % 3, i / 3, viz::category_color(v[i]));
  const viz::Image blended = viz::resize_bilinear(small, 13, 7);
  int off_legend = 0;
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 13; ++x) off_legend += std::find(legend.begin(), legend.end(), blended.at(x, y)) == legend.end();
  EXPECT_GT(off_legend, 0);
  EXPECT_THROW(viz::label_map(Tensor::zeros({2, 3}), 4, 4), Error) << "float labels are refused";
}

TEST(ImageCompose, OverlayBlendsAHeatmapResizedToTheImage) {
  const Image base(8, 8, gray(100));
  const viz::Colormap& cmap = viz::colormap("inferno");
  const Tensor heat = Tensor::from_vector(std::vector<float>{0, 0, 0, 1}, {2, 2});
  viz::OverlayOptions opt;
  opt.alpha = 0;
  EXPECT_EQ(viz::overlay_heatmap(base, heat, cmap, opt), base);
  opt.alpha = 1;
  const Image full = viz::overlay_heatmap(base, heat, cmap, opt);
  EXPECT_EQ(full.at(0, 0), cmap.low());   // the cold corner
  EXPECT_EQ(full.at(7, 7), cmap.high());  // the hot corner
  opt.alpha = 0.5;
  const Image half = viz::overlay_heatmap(base, heat, cmap, opt);
  const Color lo = cmap.low();
  EXPECT_EQ(half.at(0, 0).r, static_cast<uint8_t>(std::lround(100 + 0.5 * (lo.r - 100.0))));
  opt.alpha_by_value = true;
  EXPECT_EQ(viz::overlay_heatmap(base, heat, cmap, opt).at(0, 0), gray(100));  // t = 0: no tint
  opt.alpha = 1.5;
  EXPECT_THROW(viz::overlay_heatmap(base, heat, cmap, opt), Error);
}

TEST(ImageCompose, PasteFillAndBordersClipAtTheEdges) {
  Image dst(4, 4, viz::kWhite);
  viz::paste(dst, Image(3, 3, Color{255, 0, 0}), -1, -1);
  EXPECT_EQ(dst.at(0, 0), (Color{255, 0, 0}));
  EXPECT_EQ(dst.at(1, 1), (Color{255, 0, 0}));
  EXPECT_EQ(dst.at(2, 2), viz::kWhite);
  viz::paste(dst, Image(3, 3, Color{0, 0, 255}), 3, 3);  // only (3, 3) lands
  EXPECT_EQ(dst.at(3, 3), (Color{0, 0, 255}));
  EXPECT_EQ(dst.at(2, 3), viz::kWhite);
  viz::paste(dst, Image(2, 2), 10, 10);  // entirely outside: nothing

  Image box(6, 5, viz::kWhite);
  viz::draw_rect(box, 1, 1, 4, 3, viz::kBlack);
  EXPECT_EQ(box.at(1, 1), viz::kBlack);
  EXPECT_EQ(box.at(4, 3), viz::kBlack);
  EXPECT_EQ(box.at(2, 2), viz::kWhite);  // inside the outline
  EXPECT_EQ(box.at(0, 0), viz::kWhite);

  const Image framed = viz::add_border(Image(3, 2, viz::kWhite), 2, viz::kBlack);
  EXPECT_EQ(framed.width(), 7);
  EXPECT_EQ(framed.height(), 6);
  EXPECT_EQ(framed.at(1, 1), viz::kBlack);
  EXPECT_EQ(framed.at(2, 2), viz::kWhite);
  EXPECT_EQ(framed.at(4, 3), viz::kWhite);
  EXPECT_EQ(framed.at(5, 3), viz::kBlack);
}

TEST(ImageText, LabelsDrawInkInsideTheirBoxOnly) {
  const Color paper{200, 200, 200};
  Image im(120, 40, viz::kWhite);
  viz::TextStyle style;
  style.background = paper;
  style.padding = 3;
  const viz::TextSize s = viz::draw_text(im, 10, 5, "Conv1 #3", style);
  EXPECT_EQ(s.width, viz::text_size("Conv1 #3", style).width);
  EXPECT_EQ(s.height, 9 + 2 * 3);  // one line of the font plus padding
  int ink = 0;
  for (int y = 0; y < im.height(); ++y)
    for (int x = 0; x < im.width(); ++x) {
      const Color c = im.at(x, y);
      const bool inside = x >= 10 && x < 10 + s.width && y >= 5 && y < 5 + s.height;
      if (!inside) {
        EXPECT_EQ(c, viz::kWhite) << x << "," << y;
      } else if (c == viz::kBlack) {
        ++ink;
        EXPECT_TRUE(x >= 13 && y >= 8 && x < 10 + s.width - 3 && y < 5 + s.height - 3)
            << "ink in the padding at " << x << "," << y;
      } else {
        EXPECT_EQ(c, paper) << x << "," << y;
      }
    }
  EXPECT_GT(ink, 20);
}

TEST(ImageText, ScaleMultilineAndOddCharacters) {
  viz::TextStyle one, two;
  one.padding = two.padding = 0;
  two.scale = 2;
  const viz::TextSize a = viz::text_size("Hello", one), b = viz::text_size("Hello", two);
  EXPECT_EQ(b.width, 2 * a.width);
  EXPECT_EQ(b.height, 2 * a.height);
  EXPECT_EQ(viz::text_size("a\nb", one).height, 12 + 9);
  EXPECT_EQ(viz::text_size("", one).width, 0);
  // Non-ASCII and control characters draw as '?', without reading out of bounds.
  EXPECT_EQ(viz::text_size("caf\xc3\xa9", one).width, viz::text_size("caf??", one).width);
  Image im(60, 20, viz::kWhite);
  viz::draw_text(im, 0, 0, "\x01\x7f\xff", one);
  // Drawing off the edge clips.
  viz::draw_text(im, 55, 15, "clipped", two);
  viz::draw_text(im, -30, -10, "clipped", two);
}

TEST(ImageFile, PngRoundTrip) {
  testing::ScratchDir dir;
  Image im(5, 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x)
      im.set(x, y, Color{static_cast<uint8_t>(x * 50), static_cast<uint8_t>(y * 100), 7});
  const std::string path = dir.file("round.png");
  im.save_png(path);
  EXPECT_EQ(Image::load(path), im);
  EXPECT_THROW(Image().save_png(dir.file("empty.png")), Error);
  EXPECT_THROW(Image::load(dir.file("missing.png")), Error);
}

TEST(ImageFile, ColorbarShowsTheMapAndItsRange) {
  const viz::Colormap& v = viz::colormap("viridis");
  const Image bar = viz::colorbar(v, 200, 12, -0.5, 2.5);
  EXPECT_EQ(bar.width(), 200);
  EXPECT_GT(bar.height(), 12);
  EXPECT_EQ(bar.at(0, 5), v.low());
  EXPECT_EQ(bar.at(199, 5), v.high());
  int ink = 0;
  for (int y = 12; y < bar.height(); ++y)
    for (int x = 0; x < bar.width(); ++x) ink += bar.at(x, y) == viz::kBlack;
  EXPECT_GT(ink, 10);
  testing::ScratchDir dir;
  viz::enlarge(bar, 2).save_png(dir.file("colorbar.png"));
}

}  // namespace
}  // namespace cs
