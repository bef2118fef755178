#include "viz/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "runtime/error.h"
#include "runtime/file_io.h"

namespace cs::viz {

namespace {

constexpr double kTitleSize = 16, kLabelSize = 13, kTickSize = 11, kLegendSize = 12;
const char* const kGridColor = "#e6e6e6";
const char* const kAxisColor = "#444444";
const char* const kTextColor = "#222222";

// A short decimal for coordinates: at most two decimals, no trailing zeros.
std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

// Rough width of sans-serif text: there is no font metrics without a font
// file, so layouts leave room for 0.6 em per character.
double text_width(const std::string& s, double size) {
  size_t glyphs = 0;
  for (unsigned char ch : s)
    if ((ch & 0xC0) != 0x80) ++glyphs;  // count UTF-8 sequences once
  return 0.6 * size * static_cast<double>(glyphs);
}

double max_text_width(const std::vector<std::string>& texts, double size) {
  double w = 0;
  for (const auto& t : texts) w = std::max(w, text_width(t, size));
  return w;
}

class Svg {
 public:
  Svg(double width, double height) {
    out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << num(width)
         << "\" height=\"" << num(height) << "\" viewBox=\"0 0 " << num(width) << ' '
         << num(height) << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
         << "<rect x=\"0\" y=\"0\" width=\"" << num(width) << "\" height=\"" << num(height)
         << "\" fill=\"#ffffff\"/>\n";
  }

  std::ostringstream& raw() { return out_; }

  void text(double x, double y, const std::string& s, double size, const char* anchor = "start",
            const std::string& extra = "", const char* color = kTextColor) {
    if (s.empty()) return;
    out_ << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\"" << num(size)
         << "\" text-anchor=\"" << anchor << "\" fill=\"" << color << '"';
    if (!extra.empty()) out_ << ' ' << extra;
    out_ << '>' << xml_escape(s) << "</text>\n";
  }

  // Text rotated by `degrees` about its anchor point.
  void rotated_text(double x, double y, const std::string& s, double size, double degrees,
                    const char* anchor) {
    if (s.empty()) return;
    out_ << "<text transform=\"translate(" << num(x) << ',' << num(y) << ") rotate("
         << num(degrees) << ")\" font-size=\"" << num(size) << "\" text-anchor=\"" << anchor
         << "\" fill=\"" << kTextColor << "\">" << xml_escape(s) << "</text>\n";
  }

  void line(double x1, double y1, double x2, double y2, const char* stroke, double width) {
    out_ << "<line x1=\"" << num(x1) << "\" y1=\"" << num(y1) << "\" x2=\"" << num(x2)
         << "\" y2=\"" << num(y2) << "\" stroke=\"" << stroke << "\" stroke-width=\""
         << num(width) << "\"/>\n";
  }

  void rect(double x, double y, double w, double h, const std::string& attributes) {
    out_ << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w)
         << "\" height=\"" << num(h) << "\" " << attributes << "/>\n";
  }

  std::string finish() {
    out_ << "</svg>\n";
    return out_.str();
  }

 private:
  std::ostringstream out_;
};

// One axis: its ticks define its extent (loose labelling).
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;
  double step = 1;

  double fraction(double v) const {
    if (log) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
  std::string label(double v) const {
    if (log) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%g", v);
      return buf;
    }
    return format_tick(v, step);
  }
  std::vector<std::string> labels() const {
    std::vector<std::string> out;
    for (double t : ticks) out.push_back(label(t));
    return out;
  }
};

void nice_number(double x, bool round, double* mantissa, int* exponent);
double scaled(double n, int e);

// Loose: the axis runs from the first tick to the last (bars, which start at
// a round value). Padded: the data range plus 4% each side, with the ticks that
// fall inside it (curves and point clouds, which should fill the plot).
enum class AxisFit { Loose, Padded };

// The multiples of a nice step (mantissa * 10^exponent) within [lo, hi].
std::vector<double> ticks_within(double lo, double hi, double mantissa, int exponent);

Axis make_axis(double lo, double hi, bool log, AxisFit fit) {
  Axis a;
  a.log = log;
  a.ticks = log ? log_ticks(lo, hi) : nice_ticks(lo, hi);
  a.lo = a.ticks.front();
  a.hi = a.ticks.back();
  a.step = a.ticks.size() > 1 ? a.ticks[1] - a.ticks[0] : 1;
  if (fit == AxisFit::Loose || !(hi > lo)) return a;
  double plo, phi;
  std::vector<double> inside;
  if (log) {
    const double pad = 0.04 * (std::log10(hi) - std::log10(lo));
    plo = lo / std::pow(10.0, pad);
    phi = hi * std::pow(10.0, pad);
    for (double t : a.ticks)
      if (t >= plo && t <= phi) inside.push_back(t);
  } else {
    const double pad = 0.04 * (hi - lo);
    plo = lo - pad;
    phi = hi + pad;
    // About five intervals over the padded range.
    double m = 0;
    int e = 0;
    nice_number((phi - plo) / 5, true, &m, &e);
    inside = ticks_within(plo, phi, m, e);
    if (inside.size() >= 2) a.step = inside[1] - inside[0];
  }
  if (inside.size() < 2) return a;  // too few round values inside: keep the loose axis
  a.ticks = inside;
  a.lo = plo;
  a.hi = phi;
  return a;
}

// The plotting rectangle and the two axes of a chart.
struct Frame {
  double left = 0, top = 0, width = 0, height = 0;
  Axis x, y;
  double px(double v) const { return left + x.fraction(v) * width; }
  double py(double v) const { return top + height - y.fraction(v) * height; }
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

// Margins for a chart with these axes and texts; `right_extra` leaves room
// for a legend.
Frame layout_frame(double svg_width, double svg_height, Axis x, Axis y, const ChartText& text,
                   double right_extra, bool x_tick_labels = true) {
  Frame f;
  f.x = std::move(x);
  f.y = std::move(y);
  const double y_tick_w = max_text_width(f.y.labels(), kTickSize);
  f.left = 12 + (text.y_label.empty() ? 0 : kLabelSize + 10) + y_tick_w + 8;
  f.top = 14 + (text.title.empty() ? 0 : kTitleSize + 12);
  const double bottom = 10 + (x_tick_labels ? kTickSize + 8 : 0) +
                        (text.x_label.empty() ? 0 : kLabelSize + 10);
  const double right = 18 + right_extra;
  f.width = svg_width - f.left - right;
  f.height = svg_height - f.top - bottom;
  CS_CHECK(f.width >= 40 && f.height >= 40,
           "chart: " << svg_width << "x" << svg_height << " leaves no room to plot; make it larger");
  return f;
}

void draw_title(Svg& svg, double svg_width, const ChartText& text) {
  svg.text(svg_width / 2, 14 + kTitleSize - 2, text.title, kTitleSize, "middle",
           "font-weight=\"bold\"");
}

// Grid lines, frame, tick labels and axis labels.
void draw_axes(Svg& svg, const Frame& f, const ChartText& text, double svg_height,
               bool x_ticks = true) {
  svg.raw() << "<g class=\"grid\">\n";
  if (x_ticks)
    for (double t : f.x.ticks) svg.line(f.px(t), f.top, f.px(t), f.bottom(), kGridColor, 1);
  for (double t : f.y.ticks) svg.line(f.left, f.py(t), f.right(), f.py(t), kGridColor, 1);
  svg.raw() << "</g>\n";
  svg.rect(f.left, f.top, f.width, f.height,
           std::string("fill=\"none\" stroke=\"") + kAxisColor + "\" stroke-width=\"1\"");
  if (x_ticks)
    for (double t : f.x.ticks)
      svg.text(f.px(t), f.bottom() + kTickSize + 5, f.x.label(t), kTickSize, "middle");
  for (double t : f.y.ticks)
    svg.text(f.left - 6, f.py(t) + kTickSize * 0.35, f.y.label(t), kTickSize, "end");
  svg.text(f.left + f.width / 2, svg_height - 12, text.x_label, kLabelSize, "middle");
  svg.rotated_text(12 + kLabelSize - 2, f.top + f.height / 2, text.y_label, kLabelSize, -90,
                   "middle");
}

struct LegendEntry {
  std::string name;
  Color color;
};

// Legend to the right of the plot: a line swatch (lines) or a square (points).
void draw_legend(Svg& svg, const Frame& f, const std::vector<LegendEntry>& entries, bool lines) {
  if (entries.empty()) return;
  const double x = f.right() + 14;
  double y = f.top + 4;
  svg.raw() << "<g class=\"legend\">\n";
  for (const LegendEntry& e : entries) {
    if (lines) {
      svg.line(x, y + 6, x + 20, y + 6, hex(e.color).c_str(), 2.5);
    } else {
      svg.rect(x + 4, y + 1, 10, 10, "rx=\"2\" fill=\"" + hex(e.color) + "\"");
    }
    svg.text(x + 26, y + 10, e.name, kLegendSize);
    y += 19;
  }
  svg.raw() << "</g>\n";
}

double legend_width(const std::vector<std::string>& names) {
  return names.empty() ? 0 : 14 + 26 + max_text_width(names, kLegendSize) + 4;
}

// Smallest power of ten at or below x (x > 0), as an exponent.
int decade(double x) { return static_cast<int>(std::floor(std::log10(x))); }

// n * 10^e without the rounding error of n * pow(10, e) for negative e.
double scaled(double n, int e) { return e >= 0 ? n * std::pow(10.0, e) : n / std::pow(10.0, -e); }

// Heckbert's nice number: 1, 2, 5 or 10 times a power of ten near x.
void nice_number(double x, bool round, double* mantissa, int* exponent) {
  int e = decade(x);
  const double f = x / std::pow(10.0, e);
  double m;
  if (round) m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  if (m == 10) m = 1, ++e;
  *mantissa = m;
  *exponent = e;
}

std::vector<double> ticks_within(double lo, double hi, double mantissa, int exponent) {
  const double step = scaled(mantissa, exponent);
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k <= std::floor(hi / step + 1e-9); k += 1) {
    double v = scaled(k * mantissa, exponent);
    if (v == 0) v = 0;  // no -0
    ticks.push_back(v);
  }
  return ticks;
}

bool is_valid_utf8_sequence(const std::string& s, size_t i, size_t* length) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3;
  else if (c >= 0xF0 && c <= 0xF4) n = 4;
  else return false;
  if (i + n > s.size()) return false;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
  *length = n;
  return true;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    const auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (u < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') {
          out += '?';
        } else if (u >= 0x80) {
          size_t n = 0;
          if (is_valid_utf8_sequence(text, i, &n)) {
            out.append(text, i, n);
            i += n - 1;
          } else {
            out += '?';
          }
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::vector<double> nice_ticks(double low, double high, int target) {
  CS_CHECK(std::isfinite(low) && std::isfinite(high),
           "nice_ticks: the range [" << low << ", " << high << "] is not finite");
  CS_CHECK(target >= 2, "nice_ticks: need a target of at least 2 ticks, got " << target);
  if (low > high) std::swap(low, high);
  if (low == high) {
    const double pad = low == 0 ? 1 : std::abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  double m_range = 0, m_step = 0;
  int e_range = 0, e_step = 0;
  nice_number(high - low, false, &m_range, &e_range);
  nice_number(scaled(m_range, e_range) / (target - 1), true, &m_step, &e_step);
  const double step = scaled(m_step, e_step);
  const double first = std::floor(low / step + 1e-9);
  const double last = std::ceil(high / step - 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last + 0.5; k += 1) {
    double v = scaled(k * m_step, e_step);
    if (v == 0) v = 0;  // no -0
    ticks.push_back(v);
  }
  return ticks;
}

std::vector<double> log_ticks(double low, double high) {
  CS_CHECK(std::isfinite(low) && std::isfinite(high) && low > 0 && high > 0,
           "log_ticks: a log axis needs a positive finite range, got [" << low << ", " << high
                                                                         << "]");
  if (low > high) std::swap(low, high);
  int lo = decade(low), hi = decade(high);
  if (scaled(1, hi) < high * (1 - 1e-12)) ++hi;
  if (hi == lo) ++hi;
  std::vector<double> ticks;
  const bool fine = hi - lo <= 2;
  for (int e = lo; e <= hi; ++e) {
    ticks.push_back(scaled(1, e));
    if (fine && e < hi) {
      ticks.push_back(scaled(2, e));
      ticks.push_back(scaled(5, e));
    }
  }
  return ticks;
}

std::string format_tick(double value, double step) {
  char buf[48];
  const double mag = std::max(std::abs(value), std::abs(step));
  if (step > 0 && (mag >= 1e7 || step < 1e-5)) {
    std::snprintf(buf, sizeof(buf), "%g", value);
    return buf;
  }
  if (std::abs(value) < std::abs(step) * 1e-9) return "0";
  const int decimals =
      step > 0 ? std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9))) : 2;
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

// ---- line plot --------------------------------------------------------------------

std::string line_plot(const std::vector<Series>& series, const LinePlotOptions& options) {
  CS_CHECK(!series.empty(), "line plot: no series to draw");
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  auto usable = [&](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!options.log_y || y > 0);
  };
  std::vector<std::string> names;
  for (const Series& s : series) {
    CS_CHECK(s.x.size() == s.y.size(), "line plot: series '" << s.name << "' has " << s.x.size()
                                                             << " x values and " << s.y.size()
                                                             << " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!usable(s.x[i], s.y[i])) continue;
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
    if (!s.name.empty()) names.push_back(s.name);
  }
  CS_CHECK(x_lo <= x_hi, "line plot: no finite points to draw"
                             << (options.log_y ? " (a log axis needs y > 0)" : ""));
  const bool legend = !names.empty();
  std::vector<std::string> legend_names;
  if (legend)
    for (size_t i = 0; i < series.size(); ++i)
      legend_names.push_back(series[i].name.empty() ? "series " + std::to_string(i) : series[i].name);
  Frame f = layout_frame(options.width, options.height, make_axis(x_lo, x_hi, false, AxisFit::Padded),
                         make_axis(y_lo, y_hi, options.log_y, AxisFit::Padded), options.text,
                         legend ? legend_width(legend_names) : 0);
  Svg svg(options.width, options.height);
  draw_title(svg, options.width, options.text);
  draw_axes(svg, f, options.text, options.height);

  std::vector<LegendEntry> entries;
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const std::string color = hex(category_color(static_cast<int>(k)));
    std::string d;
    bool pen_down = false;
    int points = 0;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!usable(s.x[i], s.y[i])) {
        pen_down = false;
        continue;
      }
      d += (pen_down ? " L" : (d.empty() ? "M" : " M")) + num(f.px(s.x[i])) + ' ' +
           num(f.py(s.y[i]));
      pen_down = true;
      ++points;
    }
    if (legend) entries.push_back({legend_names[k], category_color(static_cast<int>(k))});
    if (points == 0) continue;
    svg.raw() << "<path class=\"series\" d=\"" << d << "\" fill=\"none\" stroke=\"" << color
              << "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
    if (points <= options.max_markers) {
      svg.raw() << "<g fill=\"" << color << "\">\n";
      for (size_t i = 0; i < s.x.size(); ++i)
        if (usable(s.x[i], s.y[i]))
          svg.raw() << "<circle class=\"marker\" cx=\"" << num(f.px(s.x[i])) << "\" cy=\""
                    << num(f.py(s.y[i])) << "\" r=\"3\"/>\n";
      svg.raw() << "</g>\n";
    }
  }
  draw_legend(svg, f, entries, true);
  return svg.finish();
}

// ---- scatter plot -----------------------------------------------------------------

std::string scatter_plot(const std::vector<double>& x, const std::vector<double>& y,
                         const std::vector<int>& labels, const ScatterOptions& options) {
  CS_CHECK(x.size() == y.size(), "scatter plot: " << x.size() << " x values and " << y.size()
                                                  << " y values");
  CS_CHECK(!x.empty(), "scatter plot: no points to draw");
  CS_CHECK(labels.empty() || labels.size() == x.size(),
           "scatter plot: " << labels.size() << " labels for " << x.size() << " points");
  CS_CHECK(options.radius > 0, "scatter plot: radius must be positive, got " << options.radius);
  int classes = labels.empty() ? 1 : 0;
  for (int l : labels) {
    CS_CHECK(l >= 0, "scatter plot: class labels must be >= 0, got " << l);
    classes = std::max(classes, l + 1);
  }
  classes = std::max(classes, labels.empty() ? 1 : static_cast<int>(options.class_names.size()));
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    x_lo = std::min(x_lo, x[i]), x_hi = std::max(x_hi, x[i]);
    y_lo = std::min(y_lo, y[i]), y_hi = std::max(y_hi, y[i]);
  }
  CS_CHECK(x_lo <= x_hi, "scatter plot: no finite points to draw");

  std::vector<std::string> names;
  if (!labels.empty())
    for (int c = 0; c < classes; ++c)
      names.push_back(static_cast<size_t>(c) < options.class_names.size() &&
                              !options.class_names[static_cast<size_t>(c)].empty()
                          ? options.class_names[static_cast<size_t>(c)]
                          : "class " + std::to_string(c));
  Frame f = layout_frame(options.width, options.height, make_axis(x_lo, x_hi, false, AxisFit::Padded),
                         make_axis(y_lo, y_hi, false, AxisFit::Padded), options.text,
                         legend_width(names));
  Svg svg(options.width, options.height);
  draw_title(svg, options.width, options.text);
  draw_axes(svg, f, options.text, options.height);

  // Points grouped by class (one fill per group keeps the file small).
  std::vector<std::vector<size_t>> members(static_cast<size_t>(classes));
  for (size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i]))
      members[labels.empty() ? 0 : static_cast<size_t>(labels[i])].push_back(i);
  const std::string r = num(options.radius);
  for (int c = 0; c < classes; ++c) {
    if (members[static_cast<size_t>(c)].empty()) continue;
    svg.raw() << "<g class=\"class-" << c << "\" fill=\"" << hex(category_color(c))
              << "\" fill-opacity=\"" << num(options.opacity) << "\">\n";
    for (size_t i : members[static_cast<size_t>(c)])
      svg.raw() << "<circle cx=\"" << num(f.px(x[i])) << "\" cy=\"" << num(f.py(y[i]))
                << "\" r=\"" << r << "\"/>\n";
    svg.raw() << "</g>\n";
  }
  std::vector<LegendEntry> entries;
  for (int c = 0; c < static_cast<int>(names.size()); ++c)
    entries.push_back({names[static_cast<size_t>(c)], category_color(c)});
  draw_legend(svg, f, entries, false);
  return svg.finish();
}

std::string scatter_plot(const Tensor& points, const std::vector<int>& labels,
                         const ScatterOptions& options) {
  CS_CHECK(points.defined() && points.ndim() == 2 && points.dim(1) == 2,
           "scatter plot: expected points (N, 2), got "
               << (points.defined() ? shape_str(points.shape()) : std::string("undefined")));
  const std::vector<double> v = points.to(Device::cpu()).to_double_vector();
  std::vector<double> x(v.size() / 2), y(v.size() / 2);
  for (size_t i = 0; i < x.size(); ++i) x[i] = v[2 * i], y[i] = v[2 * i + 1];
  return scatter_plot(x, y, labels, options);
}

// ---- matrix heatmap ---------------------------------------------------------------

std::string matrix_heatmap(const Tensor& matrix, const MatrixOptions& options) {
  CS_CHECK(matrix.defined() && matrix.ndim() == 2 && matrix.dim(0) > 0 && matrix.dim(1) > 0,
           "matrix heatmap: expected a non-empty (R, C) matrix, got "
               << (matrix.defined() ? shape_str(matrix.shape()) : std::string("undefined")));
  const int rows = static_cast<int>(matrix.dim(0)), cols = static_cast<int>(matrix.dim(1));
  CS_CHECK(rows <= 1000 && cols <= 1000,
           "matrix heatmap: " << shape_str(matrix.shape()) << " is too large to draw");
  CS_CHECK(options.row_labels.empty() || static_cast<int>(options.row_labels.size()) == rows,
           "matrix heatmap: " << options.row_labels.size() << " row labels for " << rows
                              << " rows");
  CS_CHECK(options.col_labels.empty() || static_cast<int>(options.col_labels.size()) == cols,
           "matrix heatmap: " << options.col_labels.size() << " column labels for " << cols
                              << " columns");
  const Colormap& cmap = colormap(options.colormap);
  const std::vector<double> v = matrix.to(Device::cpu()).to_double_vector();
  auto at = [&](int r, int c) { return v[static_cast<size_t>(r) * cols + c]; };

  std::vector<std::string> row_labels = options.row_labels, col_labels = options.col_labels;
  for (int r = 0; static_cast<int>(row_labels.size()) < rows; ++r) row_labels.push_back(std::to_string(r));
  for (int c = 0; static_cast<int>(col_labels.size()) < cols; ++c) col_labels.push_back(std::to_string(c));

  bool whole = true;
  double lo = 0, hi = 0;
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    whole = whole && x == std::round(x) && std::abs(x) < 1e15;
    lo = std::min(lo, x), hi = std::max(hi, x);
  }
  const int decimals = options.decimals >= 0 ? options.decimals : (whole ? 0 : 2);
  std::vector<double> row_sum(static_cast<size_t>(rows), 0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      if (std::isfinite(at(r, c))) row_sum[static_cast<size_t>(r)] += at(r, c);

  const double cell = options.cell_size > 0
                          ? options.cell_size
                          : std::clamp(std::floor(520.0 / std::max(rows, cols)), 6.0, 56.0);
  const double label_size = std::min(kTickSize, std::max(7.0, cell * 0.6));
  const double row_label_w = max_text_width(row_labels, label_size);
  const double col_label_w = max_text_width(col_labels, label_size);
  const bool slant = col_label_w > cell * 0.95;
  const double col_label_h = slant ? col_label_w * 0.6 + label_size : label_size + 4;

  const ChartText& text = options.text;
  const double left = 12 + (text.y_label.empty() ? 0 : kLabelSize + 10) + row_label_w + 6;
  const double top = 14 + (text.title.empty() ? 0 : kTitleSize + 12);
  const double grid_w = cell * cols, grid_h = cell * rows;
  const double width =
      std::max(left + grid_w + 18, text_width(text.title, kTitleSize) + 28);
  const double height = top + grid_h + 6 + col_label_h + (text.x_label.empty() ? 0 : kLabelSize + 12) + 10;

  Svg svg(width, height);
  draw_title(svg, width, text);
  // Cell colours: by value over [min(0, lo), hi], or by fraction of the row.
  svg.raw() << "<g class=\"cells\">\n";
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const double x = at(r, c);
      double t;
      if (options.color_by_row) {
        const double s = row_sum[static_cast<size_t>(r)];
        t = s != 0 ? x / s : 0;
      } else {
        t = hi > lo ? (x - lo) / (hi - lo) : 0.5;
      }
      const Color color = cmap(std::isfinite(x) ? t : std::numeric_limits<double>::quiet_NaN());
      svg.rect(left + c * cell, top + r * cell, cell, cell,
               "class=\"cell\" fill=\"" + hex(color) + "\"");
      if (!options.show_values || cell < 14) continue;
      char buf[48];
      std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
      const double fit = (cell - 4) / (0.6 * std::max<size_t>(1, std::string(buf).size()));
      const double size = std::min({12.0, cell * 0.4, fit});
      const char* ink = luminance(color) > 0.35 ? "#000000" : "#ffffff";
      svg.raw() << "<text x=\"" << num(left + (c + 0.5) * cell) << "\" y=\""
                << num(top + (r + 0.5) * cell + size * 0.35) << "\" font-size=\"" << num(size)
                << "\" text-anchor=\"middle\" fill=\"" << ink << "\">" << xml_escape(buf)
                << "</text>\n";
    }
  svg.raw() << "</g>\n";
  svg.rect(left, top, grid_w, grid_h,
           std::string("fill=\"none\" stroke=\"") + kAxisColor + "\" stroke-width=\"1\"");
  for (int r = 0; r < rows; ++r)
    svg.text(left - 6, top + (r + 0.5) * cell + label_size * 0.35, row_labels[static_cast<size_t>(r)],
             label_size, "end");
  for (int c = 0; c < cols; ++c) {
    const double x = left + (c + 0.5) * cell, y = top + grid_h + 6 + label_size * 0.8;
    if (slant) svg.rotated_text(x, y, col_labels[static_cast<size_t>(c)], label_size, -40, "end");
    else svg.text(x, y, col_labels[static_cast<size_t>(c)], label_size, "middle");
  }
  svg.text(left + grid_w / 2, height - 12, text.x_label, kLabelSize, "middle");
  svg.rotated_text(12 + kLabelSize - 2, top + grid_h / 2, text.y_label, kLabelSize, -90, "middle");
  return svg.finish();
}

// ---- bar chart --------------------------------------------------------------------

std::string bar_chart(const std::vector<std::string>& labels, const std::vector<double>& values,
                      const BarOptions& options) {
  CS_CHECK(!values.empty(), "bar chart: no values to draw");
  CS_CHECK(labels.empty() || labels.size() == values.size(),
           "bar chart: " << labels.size() << " labels for " << values.size() << " values");
  double lo = options.y_min, hi = options.y_min;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  hi = std::max(hi, options.y_max);
  std::vector<std::string> names = labels;
  for (size_t i = names.size(); i < values.size(); ++i) names.push_back(std::to_string(i));

  const Axis y_axis = make_axis(lo, hi, false, AxisFit::Loose);
  // Room under the plot for the category labels, slanted when they do not fit.
  const double n = static_cast<double>(values.size());
  const double label_w = max_text_width(names, kTickSize);
  const double slot_guess = (options.width - 120.0) / n;
  const bool slant = label_w > slot_guess * 0.95;
  const double label_h = slant ? label_w * 0.65 + kTickSize : kTickSize + 8;
  Frame f = layout_frame(options.width, options.height - (label_h - kTickSize - 8),
                         make_axis(0, 1, false, AxisFit::Loose), y_axis, options.text, 0, true);
  Svg svg(options.width, options.height);
  draw_title(svg, options.width, options.text);
  draw_axes(svg, f, options.text, options.height, false);

  const double slot = f.width / n, bar_w = slot * 0.7;
  const double base_value = std::clamp(0.0, y_axis.lo, y_axis.hi);
  const double base = f.py(base_value);
  const std::string fill = hex(options.color);
  for (size_t i = 0; i < values.size(); ++i) {
    const double cx = f.left + (static_cast<double>(i) + 0.5) * slot;
    const double v = values[i];
    if (std::isfinite(v)) {
      const double top = std::min(base, f.py(v)), h = std::abs(f.py(v) - base);
      svg.rect(cx - bar_w / 2, top, bar_w, h, "class=\"bar\" fill=\"" + fill + "\"");
      if (options.show_values) {
        char buf[48];
        std::snprintf(buf, sizeof(buf), "%.*f", std::max(0, options.decimals), v);
        const double size = std::min(10.0, std::max(6.0, slot / (0.6 * std::string(buf).size())));
        // Inside the end of a long bar (white), beyond a short one (dark).
        const bool inside = h >= size + 10;
        double y;
        if (v >= base_value) y = inside ? top + size + 3 : top - 4;
        else y = inside ? top + h - 5 : top + h + size + 2;
        const bool light = luminance(options.color) < 0.4;
        svg.text(cx, y, buf, size, "middle", "", inside && light ? "#ffffff" : kTextColor);
      }
    } else {
      svg.rect(cx - bar_w / 2, base, bar_w, 0, "class=\"bar\" fill=\"" + fill + "\"");
    }
    const double ly = f.bottom() + kTickSize + 5;
    if (slant) svg.rotated_text(cx + 3, ly - 4, names[i], kTickSize, -40, "end");
    else svg.text(cx, ly, names[i], kTickSize, "middle");
  }
  return svg.finish();
}

void save_svg(const std::string& path, const std::string& svg) {
  CS_CHECK(svg.rfind("<?xml", 0) == 0 || svg.rfind("<svg", 0) == 0,
           "save_svg " << path << ": the text is not an SVG document");
  write_file_atomic(path, svg);
}

}  // namespace cs::viz
