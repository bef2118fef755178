// Colormaps: published endpoints, perceptual ordering, the diverging centre,
// lookup by name.
#include <cmath>
#include <set>

#include "tests/common/test_util.h"
#include "viz/colormap.h"

namespace cs {
namespace {

using viz::Color;

::testing::AssertionResult near(Color a, Color b, int tol) {
  if (std::abs(a.r - b.r) <= tol && std::abs(a.g - b.g) <= tol && std::abs(a.b - b.b) <= tol)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << viz::hex(a) << " vs " << viz::hex(b);
}

TEST(Colormap, ViridisMatchesThePublishedEndpointsAndMiddle) {
  const viz::Colormap& v = viz::colormap("viridis");
  EXPECT_EQ(v(0.0), (Color{0x44, 0x01, 0x54}));  // #440154
  EXPECT_EQ(v(1.0), (Color{0xfd, 0xe7, 0x25}));  // #fde725
  EXPECT_TRUE(near(v(0.5), Color{0x21, 0x91, 0x8c}, 1));  // #21918c
  EXPECT_EQ(v.low(), v(0.0));
  EXPECT_EQ(v.high(), v(1.0));
}

TEST(Colormap, InfernoMatchesThePublishedEndpoints) {
  const viz::Colormap& m = viz::colormap("inferno");
  EXPECT_EQ(m(0.0), (Color{0x00, 0x00, 0x04}));  // #000004
  EXPECT_EQ(m(1.0), (Color{0xfc, 0xff, 0xa4}));  // #fcffa4
}

TEST(Colormap, SequentialMapsRiseInLuminance) {
  for (const char* name : {"viridis", "inferno", "gray"}) {
    const viz::Colormap& m = viz::colormap(name);
    // Strictly at 64 steps; at 256 steps two neighbours may round to nearly
    // the same bytes, so allow the 8-bit quantisation there.
    double previous = -1;
    for (int i = 0; i <= 64; ++i) {
      const double l = viz::luminance(m(i / 64.0));
      EXPECT_GT(l, previous) << name << " at " << i << "/64";
      previous = l;
    }
    for (int i = 1; i <= 255; ++i)
      EXPECT_GT(viz::luminance(m(i / 255.0)), viz::luminance(m((i - 1) / 255.0)) - 1e-3)
          << name << " at " << i << "/255";
  }
}

TEST(Colormap, DivergingIsWhiteInTheMiddleBlueBelowRedAbove) {
  const viz::Colormap& m = viz::colormap("bwr");
  EXPECT_EQ(m(0.5), viz::kWhite);
  const Color lo = m(0.0), hi = m(1.0);
  EXPECT_GT(lo.b, lo.r);
  EXPECT_GT(hi.r, hi.b);
  // Luminance rises to the centre and falls after it.
  for (int i = 1; i <= 128; ++i)
    EXPECT_GE(viz::luminance(m(i / 256.0)), viz::luminance(m((i - 1) / 256.0))) << i;
  for (int i = 129; i <= 256; ++i)
    EXPECT_LE(viz::luminance(m(i / 256.0)), viz::luminance(m((i - 1) / 256.0))) << i;
}

TEST(Colormap, GrayIsLinearAndInputsAreClamped) {
  const viz::Colormap& g = viz::colormap("gray");
  EXPECT_EQ(g(0.0), viz::kBlack);
  EXPECT_EQ(g(1.0), viz::kWhite);
  EXPECT_EQ(g(0.5), (Color{128, 128, 128}));
  EXPECT_EQ(g(-3.0), viz::kBlack);
  EXPECT_EQ(g(7.0), viz::kWhite);
  EXPECT_EQ(g(std::nan("")), viz::kNanColor);
}

TEST(Colormap, UnknownNameListsTheValidOnes) {
  try {
    viz::colormap("jet");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.message();
    EXPECT_NE(msg.find("'jet'"), std::string::npos) << msg;
    for (const auto& name : viz::colormap_names())
      EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
  for (const auto& name : viz::colormap_names()) EXPECT_EQ(viz::colormap(name).name(), name);
}

TEST(Colormap, BadControlPointsAreRefused) {
  EXPECT_THROW(viz::Colormap("one", {0.f, 0.f, 0.f}), Error);
  EXPECT_THROW(viz::Colormap("ragged", {0.f, 0.f, 0.f, 1.f}), Error);
}

TEST(Colormap, TenDistinctCategoryColoursThatRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) seen.insert(viz::hex(viz::category_color(i)));
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(viz::category_color(10), viz::category_color(0));
  EXPECT_EQ(viz::hex(viz::category_color(0)), "#1f77b4");
  EXPECT_EQ(viz::hex(Color{255, 0, 16}), "#ff0010");
}

}  // namespace
}  // namespace cs
