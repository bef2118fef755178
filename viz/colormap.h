// Colormaps: functions from [0, 1] to an RGB colour, for heatmaps of a
// single-channel map (activations, saliency, occlusion probabilities).
//
//   viridis  perceptually uniform sequential (dark blue -> green -> yellow);
//            the default for unsigned maps
//   inferno  perceptually uniform sequential (black -> red -> pale yellow)
//   bwr      diverging blue-white-red for signed data: 0.5 (a zero value under
//            symmetric normalisation) is pure white
//   gray     black -> white
//
// Each map is a table of control points evenly spaced on [0, 1], linearly
// interpolated in RGB. viridis and inferno use 18 points sampled (every 15th
// entry) from the published 256-entry tables (van der Walt & Smith, as shipped
// with matplotlib); bwr uses ColorBrewer's 11-class RdBu, reversed, with a
// pure white centre.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cs::viz {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Color&) const = default;
};

inline constexpr Color kBlack{0, 0, 0};
inline constexpr Color kWhite{255, 255, 255};
// Where a value is NaN, colormapped and normalised pictures show this colour.
inline constexpr Color kNanColor{255, 0, 255};

// Relative luminance (Rec. 709 / sRGB, linearised), in [0, 1].
double luminance(Color c);

// "#rrggbb", as used by SVG and CSS.
std::string hex(Color c);

class Colormap {
 public:
  // points: RGB control points in [0, 1], evenly spaced from t = 0 to t = 1 (at least 2).
  Colormap(std::string name, std::vector<float> rgb_points);

  const std::string& name() const { return name_; }
  // t is clamped to [0, 1]; NaN gives kNanColor.
  Color operator()(double t) const;
  Color low() const { return (*this)(0.0); }
  Color high() const { return (*this)(1.0); }

 private:
  std::string name_;
  std::vector<float> points_;  // 3 per control point
};

// By name (viridis, inferno, bwr, gray); the returned map lives for the
// whole program. An unknown name throws cs::Error listing the valid names.
const Colormap& colormap(const std::string& name);
std::vector<std::string> colormap_names();

// The ten distinct colours used for class labels (matplotlib's tab10 palette);
// class i gets category_color(i % 10).
Color category_color(int index);

}  // namespace cs::viz
