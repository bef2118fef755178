// One HTML page per run that shows everything: a title, the configuration,
// then sections, each with a heading, a paragraph of explanation, tables and
// figures (PNG/SVG files beside the report, with captions and links to the raw
// numbers). Inline CSS, no scripts, no external resources: it opens offline.
//
//   viz::Report report("fashion-cnn, lr 0.01");
//   report.add_config("optimizer", "sgd");
//   auto& s = report.add_section("Training", "Loss per epoch on train and test.");
//   s.figures.push_back({"loss.svg", "Cross-entropy per epoch.", 0, {"metrics.csv"}});
//   report.save("runs/a/report.html");
//   assert(report.missing_files("runs/a").empty());
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cs::viz {

// Text for HTML content and attribute values (& < > " ' escaped).
std::string html_escape(const std::string& text);

struct Figure {
  std::string path;     // relative to the report's folder, e.g. "filters/conv1.png"
  std::string caption;  // one or two sentences
  int width = 0;        // display width in CSS pixels; 0: natural size (at most the page)
  std::vector<std::string> data_files;  // raw numbers (.csv, .npy, ...) linked for download
};

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct Section {
  std::string heading;
  std::string text;  // paragraphs separated by blank lines
  std::vector<Table> tables;
  std::vector<Figure> figures;
};

class Report {
 public:
  explicit Report(std::string title);

  void add_config(const std::string& key, const std::string& value);
  // The returned reference stays valid until the next add_section.
  Section& add_section(const std::string& heading, const std::string& text = "");

  const std::string& title() const { return title_; }
  const std::vector<std::pair<std::string, std::string>>& config() const { return config_; }
  const std::vector<Section>& sections() const { return sections_; }

  // The whole page. Throws when a figure or data path is absolute, a URL, or
  // leaves the report folder ("..").
  std::string html() const;
  // Writes html() atomically.
  void save(const std::string& path) const;

  // Every figure and data file the report refers to, in order, once each.
  std::vector<std::string> referenced_files() const;
  // Those that do not exist relative to `report_folder`.
  std::vector<std::string> missing_files(const std::string& report_folder) const;

 private:
  std::string title_;
  std::vector<std::pair<std::string, std::string>> config_;
  std::vector<Section> sections_;
};

// For a saved report (or any HTML file): the local files its src= and href=
// attributes name (URLs, fragments and data: links ignored), percent- and
// entity-decoded, relative to the file's folder.
std::vector<std::string> html_references(const std::string& html);
// Those references of the HTML file at `html_path` that do not exist.
std::vector<std::string> missing_report_files(const std::string& html_path);

}  // namespace cs::viz
