// SVG charts: nice ticks, escaping, well-formed output with the expected
// number of paths, points, cells and bars.
#include <cmath>

#include "runtime/file_io.h"
#include "tests/common/test_util.h"
#include "tests/viz/render_test_util.h"
#include "viz/svg.h"

namespace cs {
namespace {

using testing::count_substr;
using testing::well_formed_xml;

void expect_ticks(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_DOUBLE_EQ(got[i], want[i]) << i;
}

TEST(SvgTicks, NiceTicksCoverTheRangeWithRoundSteps) {
  expect_ticks(viz::nice_ticks(0.03, 0.97), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  expect_ticks(viz::nice_ticks(1, 10), {0, 2, 4, 6, 8, 10});
  expect_ticks(viz::nice_ticks(0, 100), {0, 20, 40, 60, 80, 100});
  expect_ticks(viz::nice_ticks(-3.7, 12.1), {-5, 0, 5, 10, 15});
  expect_ticks(viz::nice_ticks(0.6, 1.0), {0.6, 0.7, 0.8, 0.9, 1.0});  // ends on ticks: no extra
  expect_ticks(viz::nice_ticks(2.31, 2.38), {2.3, 2.32, 2.34, 2.36, 2.38});
  expect_ticks(viz::nice_ticks(0.97, 0.03), {0, 0.2, 0.4, 0.6, 0.8, 1.0});  // reversed
  // Degenerate and many random ranges: always covering, 3 to 11 ticks, equal steps.
  EXPECT_GE(viz::nice_ticks(5, 5).size(), 2u);
  EXPECT_GE(viz::nice_ticks(0, 0).size(), 2u);
  for (int k = 0; k < 200; ++k) {
    const double a = std::sin(k * 1.7) * std::pow(10, k % 7 - 3);
    const double b = a + std::abs(std::cos(k * 0.9)) * std::pow(10, (k * 3) % 5 - 2) + 1e-9;
    const auto t = viz::nice_ticks(a, b);
    ASSERT_GE(t.size(), 3u) << a << " " << b;
    EXPECT_LE(t.size(), 11u) << a << " " << b;
    EXPECT_LE(t.front(), a);
    EXPECT_GE(t.back(), b);
    const double step = t[1] - t[0];
    for (size_t i = 2; i < t.size(); ++i) EXPECT_NEAR(t[i] - t[i - 1], step, step * 1e-6);
  }
  EXPECT_THROW(viz::nice_ticks(0, std::nan("")), Error);
  EXPECT_THROW(viz::nice_ticks(0, INFINITY), Error);
}

TEST(SvgTicks, LogTicksAndLabels) {
  expect_ticks(viz::log_ticks(0.05, 3), {0.01, 0.1, 1, 10});
  expect_ticks(viz::log_ticks(0.2, 0.9), {0.1, 0.2, 0.5, 1});
  expect_ticks(viz::log_ticks(1, 100), {1, 2, 5, 10, 20, 50, 100});
  EXPECT_THROW(viz::log_ticks(0, 1), Error);
  EXPECT_THROW(viz::log_ticks(-1, 1), Error);
  EXPECT_EQ(viz::format_tick(0.2, 0.2), "0.2");
  EXPECT_EQ(viz::format_tick(0.6000000000000001, 0.2), "0.6");
  EXPECT_EQ(viz::format_tick(1500, 500), "1500");
  EXPECT_EQ(viz::format_tick(-0.4, 0.2), "-0.4");
  EXPECT_EQ(viz::format_tick(1e-17, 0.1), "0");
  EXPECT_EQ(viz::format_tick(2.34, 0.02), "2.34");
  EXPECT_EQ(viz::format_tick(3e-6, 1e-6), "3e-06");
}

TEST(SvgText, EscapesForXml) {
  EXPECT_EQ(viz::xml_escape("a<b & \"c\" 'd' >"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt;");
  EXPECT_EQ(viz::xml_escape("bell\x07"), "bell?");
  EXPECT_EQ(viz::xml_escape("caf\xc3\xa9"), "caf\xc3\xa9");  // valid UTF-8 kept
  EXPECT_EQ(viz::xml_escape("bad\xff\xc3"), "bad??");
  EXPECT_TRUE(well_formed_xml("<a x=\"1\"><b/>t &amp; u</a>"));
  EXPECT_FALSE(well_formed_xml("<a><b></a></b>"));
  EXPECT_FALSE(well_formed_xml("<a>t & u</a>"));
  EXPECT_FALSE(well_formed_xml("<a x=1></a>"));
  EXPECT_FALSE(well_formed_xml("<a></a><b></b>"));
}

std::vector<viz::Series> loss_curves() {
  viz::Series train{"train", {}, {}}, test{"test <held-out> & \"clean\"", {}, {}};
  for (int e = 1; e <= 10; ++e) {
    train.x.push_back(e);
    train.y.push_back(2.3 * std::exp(-0.35 * e) + 0.05);
    test.x.push_back(e);
    test.y.push_back(2.3 * std::exp(-0.3 * e) + 0.12);
  }
  return {train, test};
}

TEST(SvgLinePlot, TwoSeriesWithMarkersLegendAndLabels) {
  viz::LinePlotOptions opt;
  opt.text = {"Loss per epoch", "epoch", "cross-entropy"};
  const std::string svg = viz::line_plot(loss_curves(), opt);
  EXPECT_TRUE(well_formed_xml(svg));
  EXPECT_EQ(count_substr(svg, "class=\"series\""), 2u);
  EXPECT_EQ(count_substr(svg, "class=\"marker\""), 20u);
  EXPECT_NE(svg.find(">Loss per epoch<"), std::string::npos);
  EXPECT_NE(svg.find(">epoch<"), std::string::npos);
  EXPECT_NE(svg.find("test &lt;held-out&gt; &amp; &quot;clean&quot;"), std::string::npos);
  EXPECT_EQ(svg.find("<held-out>"), std::string::npos);
  testing::ScratchDir dir;
  viz::save_svg(dir.file("loss.svg"), svg);
  EXPECT_EQ(read_file_text(dir.file("loss.svg")), svg);
  opt.log_y = true;
  viz::save_svg(dir.file("loss_log.svg"), viz::line_plot(loss_curves(), opt));
}

TEST(SvgLinePlot, GapsLogAxisAndErrors) {
  viz::Series s{"s", {1, 2, 3, 4, 5}, {1, 2, std::nan(""), 4, 5}};
  std::string svg = viz::line_plot({s});
  EXPECT_TRUE(well_formed_xml(svg));
  EXPECT_EQ(count_substr(svg, " M"), 1u);  // the NaN splits the line in two
  EXPECT_EQ(count_substr(svg, "class=\"marker\""), 4u);
  viz::LinePlotOptions log;
  log.log_y = true;
  s.y = {0.001, -1, 0.1, 1, 10};  // the non-positive point is left out
  svg = viz::line_plot({s}, log);
  EXPECT_TRUE(well_formed_xml(svg));
  EXPECT_EQ(count_substr(svg, "class=\"marker\""), 4u);
  EXPECT_NE(svg.find(">0.001<"), std::string::npos);
  viz::Series many{"", {}, {}};
  for (int i = 0; i < 500; ++i) many.x.push_back(i), many.y.push_back(std::sin(i * 0.1));
  svg = viz::line_plot({many});
  EXPECT_EQ(count_substr(svg, "class=\"marker\""), 0u);  // too many for dots
  EXPECT_EQ(count_substr(svg, "class=\"legend\""), 0u);  // nameless: no legend
  EXPECT_THROW(viz::line_plot({}), Error);
  EXPECT_THROW(viz::line_plot({viz::Series{"a", {1, 2}, {1}}}), Error);
  EXPECT_THROW(viz::line_plot({viz::Series{"a", {1}, {std::nan("")}}}), Error);
  EXPECT_THROW(viz::line_plot({viz::Series{"a", {1}, {-1}}}, log), Error);
}

TEST(SvgScatter, ThousandsOfPointsColouredByClass) {
  const int n = 3000;
  std::vector<double> x, y;
  std::vector<int> labels;
  for (int i = 0; i < n; ++i) {
    const int c = i % 10;
    x.push_back(10 * std::cos(c * 0.628) + std::sin(i * 12.9898) * 2);
    y.push_back(10 * std::sin(c * 0.628) + std::cos(i * 78.233) * 2);
    labels.push_back(c);
  }
  viz::ScatterOptions opt;
  opt.text = {"t-SNE of fc1 features", "", ""};
  opt.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  const std::string svg = viz::scatter_plot(x, y, labels, opt);
  EXPECT_TRUE(well_formed_xml(svg));
  EXPECT_EQ(count_substr(svg, "<circle"), static_cast<size_t>(n));
  EXPECT_EQ(count_substr(svg, "<g class=\"class-"), 10u);
  for (int c = 0; c < 10; ++c) EXPECT_NE(svg.find(viz::hex(viz::category_color(c))), std::string::npos);
  EXPECT_NE(svg.find(">Ankle boot<"), std::string::npos);
  testing::ScratchDir dir;
  viz::save_svg(dir.file("scatter.svg"), svg);

  // From an (N, 2) tensor; no labels: one colour, no legend; NaN points skipped.
  const Tensor pts = Tensor::from_vector(std::vector<float>{0, 0, 1, 1, NAN, 2, 3, 3}, {4, 2});
  const std::string plain = viz::scatter_plot(pts, {});
  EXPECT_TRUE(well_formed_xml(plain));
  EXPECT_EQ(count_substr(plain, "<circle"), 3u);
  EXPECT_EQ(count_substr(plain, "class=\"legend\""), 0u);
  EXPECT_THROW(viz::scatter_plot(Tensor::zeros({4, 3}), {}), Error);
  EXPECT_THROW(viz::scatter_plot(pts, {0, 1}), Error);
  EXPECT_THROW(viz::scatter_plot(pts, {0, 1, -1, 0}), Error);
  EXPECT_THROW(viz::scatter_plot(std::vector<double>{}, {}, {}), Error);
}

TEST(SvgMatrix, ConfusionMatrixWithCountsAndLabels) {
  const Tensor m = Tensor::from_vector(std::vector<int32_t>{50, 3, 0, 2, 41, 7, 1, 9, 1234}, {3, 3});
  viz::MatrixOptions opt;
  opt.text.title = "Confusion matrix (test)";
  opt.row_labels = opt.col_labels = {"cat", "dog & wolf", "bird"};
  opt.color_by_row = true;
  const std::string svg = viz::matrix_heatmap(m, opt);
  EXPECT_TRUE(well_formed_xml(svg));
  EXPECT_EQ(count_substr(svg, "class=\"cell\""), 9u);
  for (const char* v : {">50<", ">3<", ">0<", ">41<", ">1234<"}) EXPECT_NE(svg.find(v), std::string::npos) << v;
  EXPECT_NE(svg.find("dog &amp; wolf"), std::string::npos);
  EXPECT_NE(svg.find(">predicted<"), std::string::npos);
  EXPECT_NE(svg.find(">true<"), std::string::npos);
  testing::ScratchDir dir;
  viz::save_svg(dir.file("confusion.svg"), svg);
  // Fractions get decimals.
  const std::string frac = viz::matrix_heatmap(Tensor::from_vector(std::vector<float>{0.25f, 0.75f}, {1, 2}));
  EXPECT_NE(frac.find(">0.25<"), std::string::npos);
  opt.row_labels = {"one"};
  EXPECT_THROW(viz::matrix_heatmap(m, opt), Error);
  EXPECT_THROW(viz::matrix_heatmap(Tensor::zeros({0, 3})), Error);
  EXPECT_THROW(viz::matrix_heatmap(Tensor::zeros({3})), Error);
  viz::MatrixOptions bad;
  bad.colormap = "nope";
  EXPECT_THROW(viz::matrix_heatmap(m, bad), Error);
}

TEST(SvgBars, OneBarPerValueWithSlantedLongLabels) {
  const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  const std::vector<double> acc = {0.86, 0.98, 0.84, 0.91, 0.85, 0.97, 0.68, 0.96, 0.98, 0.96};
  viz::BarOptions opt;
  opt.text = {"Per-class accuracy", "class", "accuracy"};
  opt.y_max = 1.0;
  opt.decimals = 2;
  const std::string svg = viz::bar_chart(names, acc, opt);
  EXPECT_TRUE(well_formed_xml(svg));
  EXPECT_EQ(count_substr(svg, "class=\"bar\""), 10u);
  EXPECT_NE(svg.find("rotate(-40)"), std::string::npos);
  EXPECT_NE(svg.find(">0.68<"), std::string::npos);
  EXPECT_NE(svg.find(">1.0<"), std::string::npos);  // the axis reaches y_max
  testing::ScratchDir dir;
  viz::save_svg(dir.file("bars.svg"), svg);
  // Short labels stay horizontal; negative values hang below zero.
  const std::string neg = viz::bar_chart({"a", "b", "c"}, {1.5, -0.5, 0.25});
  EXPECT_TRUE(well_formed_xml(neg));
  EXPECT_EQ(neg.find("rotate(-40)"), std::string::npos);
  EXPECT_EQ(count_substr(neg, "class=\"bar\""), 3u);
  EXPECT_THROW(viz::bar_chart({}, {}), Error);
  EXPECT_THROW(viz::bar_chart({"a"}, {1, 2}), Error);
  EXPECT_THROW(viz::save_svg(dir.file("x.svg"), "not svg"), Error);
}

}  // namespace
}  // namespace cs
