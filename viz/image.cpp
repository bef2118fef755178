#include "viz/image.h"

#include <stb_easy_font.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "runtime/error.h"
#include "runtime/image_io.h"

namespace cs::viz {

namespace {

// Largest side we accept: a guard against a mistaken shape, not a real limit.
constexpr int64_t kMaxSide = 1 << 16;

uint8_t unit_to_byte(double t) {
  return static_cast<uint8_t>(std::lround(std::clamp(t, 0.0, 1.0) * 255.0));
}

uint8_t blend_byte(uint8_t under, uint8_t over, double alpha) {
  return static_cast<uint8_t>(std::lround(under + alpha * (static_cast<double>(over) - under)));
}

// (channels, height, width) of an image-like tensor, or throws naming `what`.
struct Planes {
  int channels = 0, height = 0, width = 0;
};

Planes image_planes(const Tensor& t, const char* what, bool single_channel) {
  CS_CHECK(t.defined(), what << ": the tensor is undefined");
  const Shape& s = t.shape();
  int64_t c = 1, h = 0, w = 0;
  if (s.size() == 2) {
    h = s[0], w = s[1];
  } else if (s.size() == 3) {
    c = s[0], h = s[1], w = s[2];
  } else if (s.size() == 4 && s[0] == 1) {
    c = s[1], h = s[2], w = s[3];
  } else {
    c = -1;
  }
  const bool channels_ok = single_channel ? c == 1 : (c == 1 || c == 3);
  CS_CHECK(channels_ok && h > 0 && w > 0,
           what << ": expected " << (single_channel ? "(H, W) or (1, H, W)"
                                                    : "(H, W) or (C, H, W) with C = 1 or 3")
                << " (a leading batch of 1 is allowed) with H, W > 0, got "
                << shape_str(s));
  CS_CHECK(h <= kMaxSide && w <= kMaxSide,
           what << ": " << shape_str(s) << " is too large to draw (at most " << kMaxSide
                << " pixels a side)");
  return {static_cast<int>(c), static_cast<int>(h), static_cast<int>(w)};
}

std::vector<double> host_values(const Tensor& t) {
  return t.to(Device::cpu()).to_double_vector();
}

Color gray(double t) {
  if (std::isnan(t)) return kNanColor;
  const uint8_t v = unit_to_byte(t);
  return {v, v, v};
}

// ---- text -------------------------------------------------------------------

constexpr int kGlyphHeight = 9;  // ink rows of one line of stb_easy_font
constexpr int kLineAdvance = 12;

std::string printable(const std::string& text) {
  std::string out = text;
  for (char& ch : out) {
    if (ch == '\t') ch = ' ';
    else if (ch != '\n' && (ch < 32 || ch > 126)) ch = '?';
  }
  return out;
}

struct Quad {
  int x0, y0, x1, y1;  // font units, [x0, x1) x [y0, y1)
};

std::vector<Quad> text_quads(const std::string& text) {
  std::string buffer = printable(text);
  std::vector<char> vertices(buffer.size() * 1200 + 64);
  const int n = stb_easy_font_print(0, 0, buffer.data(), nullptr, vertices.data(),
                                    static_cast<int>(vertices.size()));
  std::vector<Quad> quads(static_cast<size_t>(n));
  for (int q = 0; q < n; ++q) {
    // Four vertices of 16 bytes (x, y, z, rgba); vertex 0 and 2 are opposite corners.
    const float* v0 = reinterpret_cast<const float*>(vertices.data() + q * 64);
    const float* v2 = reinterpret_cast<const float*>(vertices.data() + q * 64 + 32);
    quads[static_cast<size_t>(q)] = {static_cast<int>(std::lround(v0[0])),
                                     static_cast<int>(std::lround(v0[1])),
                                     static_cast<int>(std::lround(v2[0])),
                                     static_cast<int>(std::lround(v2[1]))};
  }
  return quads;
}

// Ink extent of the text in font units: width from the glyphs, height from
// the number of lines (so every label of a row has the same height).
TextSize text_extent(const std::string& text, const std::vector<Quad>& quads) {
  if (text.empty()) return {};
  int width = 0;
  for (const Quad& q : quads) width = std::max(width, q.x1);
  const int lines = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  return {width, kLineAdvance * (lines - 1) + kGlyphHeight};
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", v);
  return buf;
}

}  // namespace

// ---- Image ------------------------------------------------------------------

Image::Image(int width, int height, Color fill) : width_(width), height_(height) {
  CS_CHECK(width >= 0 && height >= 0 && width <= kMaxSide && height <= kMaxSide,
           "Image: size " << width << "x" << height << " is out of range (0.." << kMaxSide
                          << " a side)");
  pixels_.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = fill.r;
    pixels_[i + 1] = fill.g;
    pixels_[i + 2] = fill.b;
  }
}

Color Image::at(int x, int y) const {
  CS_CHECK(x >= 0 && y >= 0 && x < width_ && y < height_,
           "Image::at(" << x << ", " << y << ") is outside the " << width_ << "x" << height_
                        << " image");
  const size_t i = (static_cast<size_t>(y) * width_ + x) * 3;
  return {pixels_[i], pixels_[i + 1], pixels_[i + 2]};
}

void Image::set(int x, int y, Color c) {
  CS_CHECK(x >= 0 && y >= 0 && x < width_ && y < height_,
           "Image::set(" << x << ", " << y << ") is outside the " << width_ << "x" << height_
                         << " image");
  const size_t i = (static_cast<size_t>(y) * width_ + x) * 3;
  pixels_[i] = c.r;
  pixels_[i + 1] = c.g;
  pixels_[i + 2] = c.b;
}

void Image::save_png(const std::string& path) const {
  CS_CHECK(!empty(), "cannot save " << path << ": the image is empty (" << width_ << "x"
                                    << height_ << ")");
  cs::save_png(path, pixels_.data(), width_, height_, 3);
}

Image Image::load(const std::string& path) {
  const Tensor t = load_image(path, 3);  // (3, H, W) uint8
  const int h = static_cast<int>(t.dim(1)), w = static_cast<int>(t.dim(2));
  Image image(w, h);
  const uint8_t* p = t.data<uint8_t>();
  const size_t plane = static_cast<size_t>(h) * w;
  for (size_t i = 0; i < plane; ++i)
    for (size_t c = 0; c < 3; ++c) image.pixels_[i * 3 + c] = p[c * plane + i];
  return image;
}

// ---- normalisation ------------------------------------------------------------

ValueRange value_range(const std::vector<double>& values, const Normalization& norm) {
  switch (norm.mode) {
    case NormMode::Fixed:
      CS_CHECK(std::isfinite(norm.low) && std::isfinite(norm.high) && norm.low < norm.high,
               "fixed normalisation needs finite low < high, got [" << norm.low << ", "
                                                                     << norm.high << "]");
      return {norm.low, norm.high};
    case NormMode::MinMax: {
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (double v : values) {
        if (!std::isfinite(v)) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      if (lo > hi) return {0, 0};  // nothing finite
      return {lo, hi};
    }
    case NormMode::Symmetric: {
      double m = 0;
      for (double v : values)
        if (std::isfinite(v)) m = std::max(m, std::abs(v));
      return {-m, m};
    }
  }
  return {0, 0};
}

double to_unit(double value, const ValueRange& range) {
  if (std::isnan(value)) return value;
  if (!(range.high > range.low)) return 0.5;
  return std::clamp((value - range.low) / (range.high - range.low), 0.0, 1.0);
}

// ---- tensors to images ----------------------------------------------------------

Image to_image(const Tensor& t, const Normalization& norm) {
  const Planes p = image_planes(t, "to_image", false);
  const std::vector<double> v = host_values(t);
  const ValueRange range = value_range(v, norm);
  Image image(p.width, p.height);
  const size_t plane = static_cast<size_t>(p.height) * p.width;
  uint8_t* out = image.data();
  for (size_t i = 0; i < plane; ++i) {
    if (p.channels == 1) {
      const Color c = gray(to_unit(v[i], range));
      out[3 * i] = c.r, out[3 * i + 1] = c.g, out[3 * i + 2] = c.b;
      continue;
    }
    const double r = v[i], g = v[plane + i], b = v[2 * plane + i];
    if (std::isnan(r) || std::isnan(g) || std::isnan(b)) {
      out[3 * i] = kNanColor.r, out[3 * i + 1] = kNanColor.g, out[3 * i + 2] = kNanColor.b;
      continue;
    }
    out[3 * i] = unit_to_byte(to_unit(r, range));
    out[3 * i + 1] = unit_to_byte(to_unit(g, range));
    out[3 * i + 2] = unit_to_byte(to_unit(b, range));
  }
  return image;
}

Image colorize(const Tensor& map, const Colormap& cmap, const Normalization& norm) {
  const Planes p = image_planes(map, "colorize", true);
  const std::vector<double> v = host_values(map);
  const ValueRange range = value_range(v, norm);
  Image image(p.width, p.height);
  uint8_t* out = image.data();
  for (size_t i = 0; i < v.size(); ++i) {
    const Color c = cmap(to_unit(v[i], range));
    out[3 * i] = c.r, out[3 * i + 1] = c.g, out[3 * i + 2] = c.b;
  }
  return image;
}

// ---- geometry -------------------------------------------------------------------

Image enlarge(const Image& image, int factor) {
  CS_CHECK(factor >= 1, "enlarge: the factor must be at least 1, got " << factor);
  CS_CHECK(static_cast<int64_t>(image.width()) * factor <= kMaxSide &&
               static_cast<int64_t>(image.height()) * factor <= kMaxSide,
           "enlarge: " << image.width() << "x" << image.height() << " times " << factor
                       << " is too large");
  Image out(image.width() * factor, image.height() * factor);
  const uint8_t* src = image.data();
  uint8_t* dst = out.data();
  for (int y = 0; y < out.height(); ++y)
    for (int x = 0; x < out.width(); ++x) {
      const size_t s = (static_cast<size_t>(y / factor) * image.width() + x / factor) * 3;
      const size_t d = (static_cast<size_t>(y) * out.width() + x) * 3;
      dst[d] = src[s], dst[d + 1] = src[s + 1], dst[d + 2] = src[s + 2];
    }
  return out;
}

Image label_map(const Tensor& labels, int width, int height) {
  CS_CHECK(labels.ndim() == 2 && labels.dtype() == DType::I32,
           "label_map: expected (rows, cols) int32, got " << shape_str(labels.shape()));
  const std::vector<int32_t> v = labels.to(Device::cpu()).to_vector<int32_t>();
  const int rows = static_cast<int>(labels.dim(0)), cols = static_cast<int>(labels.dim(1));
  Image small(cols, rows);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) small.set(x, y, category_color(v[static_cast<size_t>(y) * cols + x]));
  return resize_nearest(small, width, height);
}

Image resize_nearest(const Image& image, int width, int height) {
  CS_CHECK(width >= 1 && height >= 1 && width <= kMaxSide && height <= kMaxSide,
           "resize_nearest: bad size " << width << "x" << height);
  Image out(width, height);
  const uint8_t* src = image.data();
  uint8_t* dst = out.data();
  for (int y = 0; y < height; ++y) {
    // The input pixel whose area holds this output pixel's centre.
    const int sy = std::min(image.height() - 1, static_cast<int>((y + 0.5) * image.height() / height));
    for (int x = 0; x < width; ++x) {
      const int sx = std::min(image.width() - 1, static_cast<int>((x + 0.5) * image.width() / width));
      const size_t s = (static_cast<size_t>(sy) * image.width() + sx) * 3;
      const size_t d = (static_cast<size_t>(y) * width + x) * 3;
      dst[d] = src[s], dst[d + 1] = src[s + 1], dst[d + 2] = src[s + 2];
    }
  }
  return out;
}

namespace {

// Source taps for output coordinate `o` of `out` samples over `in` samples.
struct Tap {
  int i0, i1;
  double f;
};

Tap bilinear_tap(int o, int in, int out) {
  const double scale = static_cast<double>(in) / out;
  const double src = std::max(0.0, (o + 0.5) * scale - 0.5);
  const int i0 = std::min(static_cast<int>(src), in - 1);
  const int i1 = std::min(i0 + 1, in - 1);
  return {i0, i1, src - i0};
}

}  // namespace

std::vector<double> resize_bilinear(const std::vector<double>& map, int w, int h, int width,
                                    int height) {
  CS_CHECK(w > 0 && h > 0 && static_cast<size_t>(w) * h == map.size(),
           "resize_bilinear: a " << w << "x" << h << " map needs " << int64_t{w} * h
                                 << " values, got " << map.size());
  CS_CHECK(width > 0 && height > 0 && width <= kMaxSide && height <= kMaxSide,
           "resize_bilinear: bad target size " << width << "x" << height);
  std::vector<double> out(static_cast<size_t>(width) * height);
  for (int y = 0; y < height; ++y) {
    const Tap ty = bilinear_tap(y, h, height);
    for (int x = 0; x < width; ++x) {
      const Tap tx = bilinear_tap(x, w, width);
      const double a = map[static_cast<size_t>(ty.i0) * w + tx.i0];
      const double b = map[static_cast<size_t>(ty.i0) * w + tx.i1];
      const double c = map[static_cast<size_t>(ty.i1) * w + tx.i0];
      const double d = map[static_cast<size_t>(ty.i1) * w + tx.i1];
      const double top = a + tx.f * (b - a), bottom = c + tx.f * (d - c);
      out[static_cast<size_t>(y) * width + x] = top + ty.f * (bottom - top);
    }
  }
  return out;
}

Image resize_bilinear(const Image& image, int width, int height) {
  CS_CHECK(!image.empty(), "resize_bilinear: the image is empty");
  Image out(width, height);
  std::vector<double> plane(static_cast<size_t>(image.width()) * image.height());
  for (int c = 0; c < 3; ++c) {
    for (size_t i = 0; i < plane.size(); ++i) plane[i] = image.data()[3 * i + c];
    const std::vector<double> r = resize_bilinear(plane, image.width(), image.height(), width, height);
    for (size_t i = 0; i < r.size(); ++i)
      out.data()[3 * i + c] = static_cast<uint8_t>(std::lround(std::clamp(r[i], 0.0, 255.0)));
  }
  return out;
}

// ---- composition ----------------------------------------------------------------

Image overlay_heatmap(const Image& base, const Tensor& heatmap, const Colormap& cmap,
                      const OverlayOptions& options) {
  CS_CHECK(!base.empty(), "overlay_heatmap: the base image is empty");
  CS_CHECK(options.alpha >= 0 && options.alpha <= 1,
           "overlay_heatmap: alpha must be in [0, 1], got " << options.alpha);
  const Planes p = image_planes(heatmap, "overlay_heatmap", true);
  std::vector<double> v = host_values(heatmap);
  const ValueRange range = value_range(v, options.norm);
  if (p.width != base.width() || p.height != base.height())
    v = resize_bilinear(v, p.width, p.height, base.width(), base.height());
  Image out = base;
  uint8_t* px = out.data();
  for (size_t i = 0; i < v.size(); ++i) {
    const double t = to_unit(v[i], range);
    const Color c = cmap(t);
    const double a = options.alpha_by_value && !std::isnan(t) ? options.alpha * t : options.alpha;
    px[3 * i] = blend_byte(px[3 * i], c.r, a);
    px[3 * i + 1] = blend_byte(px[3 * i + 1], c.g, a);
    px[3 * i + 2] = blend_byte(px[3 * i + 2], c.b, a);
  }
  return out;
}

void paste(Image& dst, const Image& src, int x, int y) {
  const int x0 = std::max(0, x), y0 = std::max(0, y);
  const int x1 = std::min(dst.width(), x + src.width());
  const int y1 = std::min(dst.height(), y + src.height());
  for (int yy = y0; yy < y1; ++yy) {
    if (x1 <= x0) break;
    const uint8_t* s = src.data() + (static_cast<size_t>(yy - y) * src.width() + (x0 - x)) * 3;
    uint8_t* d = dst.data() + (static_cast<size_t>(yy) * dst.width() + x0) * 3;
    std::copy(s, s + static_cast<size_t>(x1 - x0) * 3, d);
  }
}

void fill_rect(Image& image, int x, int y, int width, int height, Color color) {
  const int x0 = std::max(0, x), y0 = std::max(0, y);
  const int x1 = std::min(image.width(), x + std::max(0, width));
  const int y1 = std::min(image.height(), y + std::max(0, height));
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) {
      uint8_t* d = image.data() + (static_cast<size_t>(yy) * image.width() + xx) * 3;
      d[0] = color.r, d[1] = color.g, d[2] = color.b;
    }
}

void draw_rect(Image& image, int x, int y, int width, int height, Color color, int thickness) {
  CS_CHECK(thickness >= 1, "draw_rect: thickness must be at least 1, got " << thickness);
  const int t = std::min({thickness, std::max(0, width), std::max(0, height)});
  fill_rect(image, x, y, width, t, color);
  fill_rect(image, x, y + height - t, width, t, color);
  fill_rect(image, x, y, t, height, color);
  fill_rect(image, x + width - t, y, t, height, color);
}

Image add_border(const Image& image, int thickness, Color color) {
  CS_CHECK(thickness >= 0, "add_border: thickness must be >= 0, got " << thickness);
  Image out(image.width() + 2 * thickness, image.height() + 2 * thickness, color);
  paste(out, image, thickness, thickness);
  return out;
}

// ---- text -----------------------------------------------------------------------

TextSize text_size(const std::string& text, const TextStyle& style) {
  CS_CHECK(style.scale >= 1 && style.padding >= 0,
           "text style: scale must be >= 1 and padding >= 0, got " << style.scale << " and "
                                                                   << style.padding);
  if (text.empty()) return {};
  const TextSize ink = text_extent(text, text_quads(text));
  return {ink.width * style.scale + 2 * style.padding,
          ink.height * style.scale + 2 * style.padding};
}

TextSize draw_text(Image& image, int x, int y, const std::string& text, const TextStyle& style) {
  const TextSize size = text_size(text, style);
  if (text.empty()) return size;
  if (style.box) fill_rect(image, x, y, size.width, size.height, style.background);
  const int s = style.scale;
  const int ox = x + style.padding, oy = y + style.padding;
  for (const Quad& q : text_quads(text))
    fill_rect(image, ox + q.x0 * s, oy + q.y0 * s, (q.x1 - q.x0) * s, (q.y1 - q.y0) * s,
              style.color);
  return size;
}

Image colorbar(const Colormap& cmap, int length, int thickness, double low, double high,
               const TextStyle& style) {
  CS_CHECK(length >= 2 && thickness >= 1,
           "colorbar: length must be >= 2 and thickness >= 1, got " << length << " and "
                                                                    << thickness);
  TextStyle label = style;
  label.box = false;
  const std::string lo = format_number(low), hi = format_number(high);
  const TextSize lo_size = text_size(lo, label), hi_size = text_size(hi, label);
  Image out(length, thickness + std::max(lo_size.height, hi_size.height), style.background);
  for (int x = 0; x < length; ++x)
    fill_rect(out, x, 0, 1, thickness, cmap(static_cast<double>(x) / (length - 1)));
  draw_text(out, 0, thickness, lo, label);
  draw_text(out, length - hi_size.width, thickness, hi, label);
  return out;
}

}  // namespace cs::viz
