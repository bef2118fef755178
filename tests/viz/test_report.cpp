// The HTML report (figures, escaping, the missing-file check), the CSV
// writer, and one end-to-end gallery that renders every kind of output.
#include <cmath>
#include <filesystem>

#include "runtime/file_io.h"
#include "tests/common/test_util.h"
#include "tests/viz/render_test_util.h"
#include "viz/csv.h"
#include "viz/grid.h"
#include "viz/image.h"
#include "viz/report.h"
#include "viz/svg.h"

namespace cs {
namespace {

using testing::count_substr;

viz::Report sample_report() {
  viz::Report r("Run <a> & \"b\"");
  r.add_config("model", "fashion-cnn");
  r.add_config("note", "<script>alert(1)</script>");
  viz::Section& s = r.add_section("Training", "Loss per epoch.\n\nSecond paragraph & more.");
  s.figures.push_back({"loss.svg", "Train vs test loss.", 640, {"metrics.csv", "loss.npy"}});
  s.tables.push_back({{"epoch", "loss"}, {{"1", "0.52"}, {"2", "0.31"}}});
  viz::Section& f = r.add_section("Filters");
  f.figures.push_back({"filters/conv 1.png", "First-layer filters <5x5>.", 0, {}});
  f.figures.push_back({"missing.png", "", 0, {}});
  return r;
}

TEST(Report, HtmlShowsEveryFigureEscaped) {
  const viz::Report r = sample_report();
  const std::string html = r.html();
  EXPECT_EQ(count_substr(html, "<figure>"), 3u);
  EXPECT_EQ(count_substr(html, "<img "), 3u);
  EXPECT_NE(html.find("src=\"loss.svg\""), std::string::npos);
  EXPECT_NE(html.find("src=\"filters/conv%201.png\""), std::string::npos);
  EXPECT_NE(html.find("width=\"640\""), std::string::npos);
  EXPECT_NE(html.find("href=\"metrics.csv\" download=\"\""), std::string::npos);
  EXPECT_NE(html.find("First-layer filters &lt;5x5&gt;."), std::string::npos);
  EXPECT_NE(html.find("<title>Run &lt;a&gt; &amp; &quot;b&quot;</title>"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(count_substr(html, "<p>"), 2u);
  EXPECT_NE(html.find("<td class=\"num\">0.52</td>"), std::string::npos);
  // Offline: nothing fetched from elsewhere.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(Report, MissingFileCheckFindsExactlyTheAbsentOnes) {
  testing::ScratchDir dir;
  const viz::Report r = sample_report();
  EXPECT_EQ(r.referenced_files(),
            (std::vector<std::string>{"loss.svg", "metrics.csv", "loss.npy", "filters/conv 1.png",
                                      "missing.png"}));
  make_directories(dir.file("filters"));
  write_file_atomic(dir.file("loss.svg"), std::string("<svg/>"));
  write_file_atomic(dir.file("metrics.csv"), std::string("a\n"));
  write_file_atomic(dir.file("filters/conv 1.png"), std::string("png"));
  make_directories(dir.file("loss.npy"));  // a folder is not the file
  EXPECT_EQ(r.missing_files(dir.path()), (std::vector<std::string>{"loss.npy", "missing.png"}));
  const std::string path = dir.file("report.html");
  r.save(path);
  EXPECT_EQ(read_file_text(path), r.html());
  // The same answer from the saved file alone.
  EXPECT_EQ(viz::missing_report_files(path), (std::vector<std::string>{"loss.npy", "missing.png"}));
  write_file_atomic(dir.file("missing.png"), std::string("png"));
  EXPECT_EQ(viz::missing_report_files(path), (std::vector<std::string>{"loss.npy"}));
}

TEST(Report, HtmlIsWellFormed) {
  const std::string html = sample_report().html();
  EXPECT_TRUE(testing::well_formed_html(html));
  // The check can fail: each of these breaks the page in one way.
  auto broken = [&](const std::string& from, const std::string& to) {
    std::string h = html;
    const size_t at = h.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return h.replace(at, from.size(), to);
  };
  EXPECT_FALSE(testing::well_formed_html(broken("</figure>", "")));
  EXPECT_FALSE(testing::well_formed_html(broken("</h2>", "</h3>")));
  EXPECT_FALSE(testing::well_formed_html(broken("width=\"640\"", "width=640")));
  EXPECT_FALSE(testing::well_formed_html(broken("Second paragraph &amp; more", "Second paragraph & more")));
  EXPECT_FALSE(testing::well_formed_html(broken("</table>", "</tr></table>")));
}

TEST(Report, ReferencesParsedFromHtml) {
  const std::string html =
      "<a href=\"#top\">x</a><img src='a%20b.png'><a href=\"https://example.com\">e</a>"
      "<img alt=\"src=&quot;no.png&quot;\" src=\"x.svg?v=1\"><a href=\"d/e&amp;f.csv\">d</a>"
      "<img src=\"data:image/png;base64,AAAA\"><a\nhref=\"x.svg\">again</a>";
  EXPECT_EQ(viz::html_references(html), (std::vector<std::string>{"a b.png", "x.svg", "d/e&f.csv"}));
}

TEST(Report, PathsMustStayInsideTheReportFolder) {
  for (const char* bad : {"/etc/passwd.png", "../up.png", "a/../../up.png", "http://x/y.png",
                          "data:image/png;base64,AA", ""}) {
    viz::Report r("t");
    r.add_section("s").figures.push_back({bad, "c", 0, {}});
    EXPECT_THROW(r.html(), Error) << bad;
  }
  viz::Report r("t");
  r.add_section("s").figures.push_back({"ok.png", "c", 0, {"../data.csv"}});
  EXPECT_THROW(r.html(), Error);
}

TEST(Csv, HeaderRowsQuotingAndExactNumbers) {
  viz::CsvWriter csv({"epoch", "loss", "name, quoted"});
  csv.add_row({1, 0.1, "plain"});
  csv.add_row({int64_t{2}, 1e-7, "say \"hi\", twice"});
  csv.add_row({3, std::nan(""), " padded"});
  csv.add_row({4, 0.1f, "line\nbreak"});
  csv.add_numbers({5, -INFINITY, 2.5});
  EXPECT_EQ(csv.rows(), 5u);
  EXPECT_EQ(csv.str(),
            "epoch,loss,\"name, quoted\"\n"
            "1,0.1,plain\n"
            "2,1e-07,\"say \"\"hi\"\", twice\"\n"
            "3,nan,\" padded\"\n"
            "4,0.1,\"line\nbreak\"\n"
            "5,-inf,2.5\n");
  EXPECT_EQ(viz::format_number_exact(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(std::stod(viz::format_number_exact(M_PI)), M_PI);
  EXPECT_THROW(csv.add_row({1, 2}), Error);
  EXPECT_THROW(viz::CsvWriter({}), Error);
  testing::ScratchDir dir;
  csv.save(dir.file("m.csv"));
  EXPECT_EQ(read_file_text(dir.file("m.csv")), csv.str());
}

// Everything together, as a run folder would hold it: look at the files with
// CONVSCOPE_VIZ_OUTPUT=<folder>.
TEST(RenderGallery, EveryKindOfOutputInOneReport) {
  testing::ScratchDir dir;
  const std::vector<std::string> classes = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  // Filters: 16 smooth 7x7 "edge detectors" with signed weights.
  std::vector<float> w;
  for (int k = 0; k < 16; ++k)
    for (int y = 0; y < 7; ++y)
      for (int x = 0; x < 7; ++x) {
        const double a = k * 0.3927;
        w.push_back(static_cast<float>(std::sin((x - 3) * std::cos(a) + (y - 3) * std::sin(a)) *
                                       std::exp(-((x - 3) * (x - 3) + (y - 3) * (y - 3)) / 10.0)));
      }
  const Tensor filters = Tensor::from_vector(w, {16, 1, 7, 7});
  viz::TileOptions tiles;
  tiles.norm = viz::Normalization::symmetric();
  tiles.scope = viz::NormScope::Shared;
  tiles.scale = 6;
  tiles.colormap = &viz::colormap("bwr");
  viz::GridOptions grid;
  grid.cols = 8;
  grid.spacing = 4;
  grid.title = "conv1 filters (shared scale, blue < 0 < red)";
  grid.captions.clear();
  for (int k = 0; k < 16; ++k) grid.captions.push_back("#" + std::to_string(k));
  make_directories(dir.file("filters"));
  viz::tensor_grid(filters, tiles, grid).save_png(dir.file("filters/conv1.png"));

  // A synthetic 28x28 "image" with a heatmap over it, enlarged.
  std::vector<float> img, heat;
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      img.push_back((std::abs(x - 14) < 8 && y > 4 && y < 24) ? 0.8f : 0.1f);
      heat.push_back(static_cast<float>(std::exp(-((x - 18) * (x - 18) + (y - 10) * (y - 10)) / 30.0)));
    }
  const viz::Image base = viz::enlarge(viz::to_image(Tensor::from_vector(img, {28, 28})), 8);
  viz::OverlayOptions ov;
  ov.alpha = 0.8;
  ov.alpha_by_value = true;
  const Tensor heat_t = Tensor::from_vector(heat, {1, 28, 28});
  const viz::Image over = viz::overlay_heatmap(base, heat_t, viz::colormap("inferno"), ov);
  viz::GridOptions pair;
  pair.cols = 3;
  pair.spacing = 8;
  pair.col_labels = {"input", "saliency", "overlay"};
  pair.text.scale = 2;
  viz::make_grid({base, viz::enlarge(viz::colorize(heat_t, viz::colormap("inferno")), 8), over}, pair)
      .save_png(dir.file("saliency.png"));
  viz::colorbar(viz::colormap("inferno"), 224, 14, 0, 1).save_png(dir.file("colorbar.png"));

  // Charts.
  std::vector<viz::Series> curves(2);
  curves[0].name = "train";
  curves[1].name = "test";
  viz::CsvWriter metrics({"epoch", "train_loss", "test_loss"});
  for (int e = 1; e <= 12; ++e) {
    const double tr = 0.25 + 0.9 * std::exp(-0.45 * e), te = 0.3 + 0.8 * std::exp(-0.4 * e) + 0.004 * e;
    curves[0].x.push_back(e), curves[0].y.push_back(tr);
    curves[1].x.push_back(e), curves[1].y.push_back(te);
    metrics.add_row({e, tr, te});
  }
  metrics.save(dir.file("metrics.csv"));
  viz::LinePlotOptions lp;
  lp.text = {"Cross-entropy per epoch", "epoch", "loss"};
  viz::save_svg(dir.file("loss.svg"), viz::line_plot(curves, lp));

  std::vector<double> px, py;
  std::vector<int> labels;
  for (int i = 0; i < 2000; ++i) {
    const int c = (i * 7) % 10;
    px.push_back(30 * std::cos(c * 0.628) + 6 * std::sin(i * 12.9898));
    py.push_back(30 * std::sin(c * 0.628) + 6 * std::cos(i * 78.233));
    labels.push_back(c);
  }
  viz::ScatterOptions sp;
  sp.text = {"t-SNE of the 128-d features (2000 test images)", "", ""};
  sp.class_names = classes;
  viz::save_svg(dir.file("tsne.svg"), viz::scatter_plot(px, py, labels, sp));

  std::vector<int32_t> cm(100, 0);
  for (int r = 0; r < 10; ++r)
    for (int c = 0; c < 10; ++c) cm[r * 10 + c] = r == c ? 850 + 13 * r : ((r * 3 + c * 7) % 11 == 0 ? 60 : (r + c) % 4);
  viz::MatrixOptions mo;
  mo.text.title = "Confusion matrix (test set)";
  mo.row_labels = mo.col_labels = classes;
  mo.color_by_row = true;
  viz::save_svg(dir.file("confusion.svg"), viz::matrix_heatmap(Tensor::from_vector(cm, {10, 10}), mo));
  viz::BarOptions bo;
  bo.text = {"Per-class test accuracy", "", "accuracy"};
  bo.y_max = 1;
  bo.decimals = 2;
  viz::save_svg(dir.file("accuracy.svg"),
                viz::bar_chart(classes, {0.86, 0.98, 0.84, 0.91, 0.85, 0.97, 0.68, 0.96, 0.98, 0.96}, bo));

  viz::Report report("fashion-cnn: sample report");
  report.add_config("model", "fashion-cnn");
  report.add_config("optimizer", "sgd, lr 0.05, momentum 0.9");
  report.add_config("epochs", "12");
  auto& training = report.add_section(
      "Training", "Cross-entropy on the training and test sets after every epoch.");
  training.figures.push_back({"loss.svg", "Loss per epoch: the gap is overfitting.", 0, {"metrics.csv"}});
  auto& eval = report.add_section("Evaluation", "Where the classifier errs.");
  eval.figures.push_back({"confusion.svg", "Rows are true classes, columns predicted.", 0, {}});
  eval.figures.push_back({"accuracy.svg", "Accuracy per class.", 0, {}});
  auto& looks = report.add_section("What the network sees", "Filters, saliency and feature space.");
  looks.figures.push_back({"filters/conv1.png", "First-layer filters.", 0, {}});
  looks.figures.push_back({"saliency.png", "Saliency over the input.", 0, {}});
  looks.figures.push_back({"colorbar.png", "Colour key of the saliency map.", 0, {}});
  looks.figures.push_back({"tsne.svg", "t-SNE embedding coloured by class.", 640, {}});
  report.save(dir.file("report.html"));
  EXPECT_TRUE(report.missing_files(dir.path()).empty());
  EXPECT_TRUE(viz::missing_report_files(dir.file("report.html")).empty());
  for (const char* svg : {"loss.svg", "tsne.svg", "confusion.svg", "accuracy.svg"})
    EXPECT_TRUE(testing::well_formed_xml(read_file_text(dir.file(svg)))) << svg;
  const viz::Image back = viz::Image::load(dir.file("saliency.png"));
  EXPECT_GT(back.width(), 3 * 224);
}

}  // namespace
}  // namespace cs
