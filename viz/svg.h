// Self-contained SVG charts (no scripts, no external fonts or files): line
// plots of training curves, scatter plots of embeddings coloured by class,
// matrix heatmaps with numbers (confusion matrices) and bar charts.
// Every function returns the SVG text; save_svg writes it atomically.
#pragma once

#include <string>
#include <vector>

#include "runtime/tensor.h"
#include "viz/colormap.h"

namespace cs::viz {

// Text for XML content and attribute values: & < > " ' escaped, and control
// characters XML 1.0 forbids replaced by '?'.
std::string xml_escape(const std::string& text);

// "Nice" tick values (Heckbert 1990) covering [low, high] with about `target`
// ticks, steps of 1, 2 or 5 times a power of ten; the first tick <= low and
// the last >= high. Example: 0.03..0.97 -> 0, 0.2, 0.4, 0.6, 0.8, 1.0.
// low == high is widened first; non-finite ends throw.
std::vector<double> nice_ticks(double low, double high, int target = 5);
// Ticks for a log axis over [low, high] (both > 0): powers of ten, plus 2x
// and 5x when the range spans at most two decades.
std::vector<double> log_ticks(double low, double high);
// A tick's label: as many decimals as the step needs ("0.2", "1500", "1e-05").
std::string format_tick(double value, double step);

struct ChartText {
  std::string title, x_label, y_label;
};

// ---- line plot ----------------------------------------------------------------

struct Series {
  std::string name;       // shown in the legend (none when every name is empty)
  std::vector<double> x;  // same length as y
  std::vector<double> y;  // non-finite values (and <= 0 on a log axis) break the line
};

struct LinePlotOptions {
  ChartText text;
  int width = 720, height = 420;
  bool log_y = false;
  int max_markers = 60;  // a dot at every point of series with at most this many points
};

// One <path class="series"> per series with points; markers are <circle class="marker">.
std::string line_plot(const std::vector<Series>& series, const LinePlotOptions& options = {});

// ---- scatter plot -------------------------------------------------------------

struct ScatterOptions {
  ChartText text;
  int width = 720, height = 600;
  double radius = 2.5;
  double opacity = 0.75;
  std::vector<std::string> class_names;  // legend names; missing ones show as "class i"
};

// One <circle> per point, grouped per class in <g class="class-i">, class i
// coloured category_color(i). labels: one per point (>= 0), or empty for one
// colour and no legend. Non-finite points are skipped.
std::string scatter_plot(const std::vector<double>& x, const std::vector<double>& y,
                         const std::vector<int>& labels, const ScatterOptions& options = {});
// points: (N, 2), any dtype and device.
std::string scatter_plot(const Tensor& points, const std::vector<int>& labels,
                         const ScatterOptions& options = {});

// ---- matrix heatmap -------------------------------------------------------------

struct MatrixOptions {
  ChartText text{"", "predicted", "true"};
  std::vector<std::string> row_labels, col_labels;  // empty: 0, 1, 2, ...
  std::string colormap = "viridis";
  bool show_values = true;
  int decimals = -1;            // -1: integers when every value is whole, otherwise 2
  bool color_by_row = false;    // colour by the value's fraction of its row (confusion rows)
  int cell_size = 0;            // pixels; 0: fit about 520 px
};

// matrix: (R, C), any dtype and device; row r, column c is the cell at
// row r (top to bottom), column c (left to right). Cells are <rect class="cell">.
std::string matrix_heatmap(const Tensor& matrix, const MatrixOptions& options = {});

// ---- bar chart --------------------------------------------------------------------

struct BarOptions {
  ChartText text;
  int width = 720, height = 420;
  double y_min = 0;              // the axis always includes y_min (the bars' base)
  double y_max = 0;              // 0 (or below the data): from the data
  bool show_values = true;
  int decimals = 3;
  Color color = category_color(0);
};

// One <rect class="bar"> per value; labels under the bars (slanted when long).
std::string bar_chart(const std::vector<std::string>& labels, const std::vector<double>& values,
                      const BarOptions& options = {});

// Writes SVG text atomically (runtime/file_io.h).
void save_svg(const std::string& path, const std::string& svg);

}  // namespace cs::viz
