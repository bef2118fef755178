// RGB pictures for files a person opens: tensors to pixels (with explicit
// normalisation), colormapped heatmaps, overlays, enlargement, text labels,
// and PNG output. Pure host code: tensors on a GPU are copied to the CPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor.h"
#include "viz/colormap.h"

namespace cs::viz {

// An 8-bit RGB image: `height` rows of `width` pixels, each pixel r, g, b
// interleaved, rows top to bottom.
class Image {
 public:
  Image() = default;  // 0 x 0
  Image(int width, int height, Color fill = kBlack);

  int width() const { return width_; }
  int height() const { return height_; }
  bool empty() const { return width_ == 0 || height_ == 0; }

  // Bounds-checked pixel access (throws outside the image).
  Color at(int x, int y) const;
  void set(int x, int y, Color c);

  const std::vector<uint8_t>& pixels() const { return pixels_; }  // width * height * 3
  uint8_t* data() { return pixels_.data(); }
  const uint8_t* data() const { return pixels_.data(); }

  // Writes a PNG atomically (runtime/image_io.h). Throws on an empty image.
  void save_png(const std::string& path) const;
  // Reads any image stb_image decodes (gray becomes RGB).
  static Image load(const std::string& path);

  bool operator==(const Image&) const = default;

 private:
  int width_ = 0, height_ = 0;
  std::vector<uint8_t> pixels_;
};

// ---- normalisation: values -> [0, 1] ---------------------------------------
//
//   MinMax     [min, max] of the finite values -> [0, 1]
//   Symmetric  [-m, m] -> [0, 1] with m = max |x|: zero maps to 0.5 (white in
//              bwr, mid-gray in gray); for signed data such as gradients
//   Fixed      [low, high] -> [0, 1], values outside clipped (e.g. 0..1 images,
//              0..255 for uint8, probabilities)
//
// A degenerate range (a constant image under MinMax, an all-zero image under
// Symmetric) maps every value to 0.5: mid-gray, or the middle of the colormap,
// never a division by zero. NaN stays NaN (shown as kNanColor); +-inf are
// clipped to 1 and 0 and ignored when finding the range.
enum class NormMode { MinMax, Symmetric, Fixed };

struct Normalization {
  NormMode mode = NormMode::MinMax;
  double low = 0, high = 1;  // Fixed only; low < high

  static Normalization min_max() { return {NormMode::MinMax, 0, 1}; }
  static Normalization symmetric() { return {NormMode::Symmetric, 0, 1}; }
  static Normalization fixed(double low, double high) { return {NormMode::Fixed, low, high}; }
};

// The value range [low, high] that maps to [0, 1] for these values
// (low == high when degenerate).
struct ValueRange {
  double low = 0, high = 0;
};
ValueRange value_range(const std::vector<double>& values, const Normalization& norm);
// Maps one value into [0, 1] for a range from value_range().
double to_unit(double value, const ValueRange& range);

// ---- tensors to images ------------------------------------------------------

// t: (H, W), (1, H, W), (3, H, W), or the same with a leading batch of 1;
// any dtype and device. One channel becomes gray, three become RGB; the range
// is shared by all channels (colours keep their balance).
Image to_image(const Tensor& t, const Normalization& norm = Normalization::min_max());
// A single-channel map (H, W) or (1, H, W) through a colormap.
Image colorize(const Tensor& map, const Colormap& cmap,
               const Normalization& norm = Normalization::min_max());

// A map of class indices (rows, cols) int32 as category_color()s, stretched
// to width x height by nearest neighbour (never blending two classes' colours).
Image label_map(const Tensor& labels, int width, int height);

// ---- geometry ---------------------------------------------------------------

// Every pixel becomes a factor x factor block (factor >= 1): crisp small images.
Image enlarge(const Image& image, int factor);
// Nearest-neighbour resize (half-pixel centres): every output pixel is a copy
// of one input pixel, so categorical pictures (label maps) keep their colours.
Image resize_nearest(const Image& image, int width, int height);
// Bilinear resize with half-pixel centres (PyTorch align_corners=False), edges clamped.
Image resize_bilinear(const Image& image, int width, int height);
// The same for a row-major single-channel map of floats (w x h -> width x height).
std::vector<double> resize_bilinear(const std::vector<double>& map, int w, int h, int width,
                                    int height);

// ---- composition ------------------------------------------------------------

struct OverlayOptions {
  double alpha = 0.5;            // opacity of the heatmap, in [0, 1]
  bool alpha_by_value = false;   // opacity alpha * t: cold regions leave the image visible
  Normalization norm = Normalization::min_max();
};

// A heatmap (h, w) or (1, h, w) over `base`: the values are resized bilinearly
// to the base's size, normalised, colormapped and alpha-blended.
Image overlay_heatmap(const Image& base, const Tensor& heatmap, const Colormap& cmap,
                      const OverlayOptions& options = {});

// Copies src into dst with src's top-left at (x, y); parts outside dst are clipped.
void paste(Image& dst, const Image& src, int x, int y);
// A filled rectangle, clipped to the image.
void fill_rect(Image& image, int x, int y, int width, int height, Color color);
// The outline of a rectangle (the inside `thickness` pixels of x, y, width, height), clipped.
void draw_rect(Image& image, int x, int y, int width, int height, Color color, int thickness = 1);
// A new image with a frame of `thickness` pixels around `image`.
Image add_border(const Image& image, int thickness, Color color);

// ---- text (stb_easy_font: printable ASCII, '\n' starts a new line) ---------

struct TextStyle {
  int scale = 1;                  // integer magnification of the 12 px-line font
  Color color = kBlack;
  bool box = true;                // draw a background box behind the text
  Color background = kWhite;
  int padding = 2;                // pixels between the text and the box edge
};

struct TextSize {
  int width = 0, height = 0;
};
// The size of the box draw_text fills (text plus padding on each side).
TextSize text_size(const std::string& text, const TextStyle& style = {});
// Draws `text` with its box's top-left corner at (x, y), clipped to the image;
// returns the box size. Characters outside printable ASCII are drawn as '?'.
TextSize draw_text(Image& image, int x, int y, const std::string& text,
                   const TextStyle& style = {});

// A horizontal colour bar (length x thickness) with the range's ends written
// under it: the key for a heatmap.
Image colorbar(const Colormap& cmap, int length, int thickness, double low, double high,
               const TextStyle& style = {});

}  // namespace cs::viz
