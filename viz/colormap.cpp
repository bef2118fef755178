#include "viz/colormap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "runtime/error.h"

namespace cs::viz {

namespace {

// viridis, entries 0, 15, 30, ..., 255 of the published 256-entry table.
const std::vector<float> kViridis = {
    0.267004f, 0.004874f, 0.329415f,  0.281924f, 0.089666f, 0.412415f,
    0.280255f, 0.165693f, 0.476498f,  0.263663f, 0.237631f, 0.518762f,
    0.237441f, 0.305202f, 0.541921f,  0.208623f, 0.367752f, 0.552675f,
    0.182256f, 0.426184f, 0.557120f,  0.159194f, 0.482237f, 0.558073f,
    0.137770f, 0.537492f, 0.554906f,  0.121148f, 0.592739f, 0.544641f,
    0.128087f, 0.647749f, 0.523491f,  0.180653f, 0.701402f, 0.488189f,
    0.274149f, 0.751988f, 0.436601f,  0.395174f, 0.797475f, 0.367757f,
    0.535621f, 0.835785f, 0.281908f,  0.688944f, 0.865448f, 0.182725f,
    0.845561f, 0.887322f, 0.099702f,  0.993248f, 0.906157f, 0.143936f,
};

// inferno, entries 0, 15, 30, ..., 255 of the published 256-entry table.
const std::vector<float> kInferno = {
    0.001462f, 0.000466f, 0.013866f,  0.037668f, 0.025921f, 0.132232f,
    0.116656f, 0.047574f, 0.272321f,  0.217949f, 0.036615f, 0.383522f,
    0.316282f, 0.053490f, 0.425116f,  0.410113f, 0.087896f, 0.433098f,
    0.503493f, 0.121575f, 0.423356f,  0.596940f, 0.154848f, 0.398125f,
    0.688653f, 0.192239f, 0.357603f,  0.775059f, 0.239667f, 0.303526f,
    0.851384f, 0.302260f, 0.239636f,  0.912966f, 0.381636f, 0.169755f,
    0.956852f, 0.475356f, 0.094695f,  0.981895f, 0.579392f, 0.026250f,
    0.987464f, 0.690366f, 0.079990f,  0.973088f, 0.805409f, 0.216877f,
    0.947594f, 0.917399f, 0.410665f,  0.988362f, 0.998364f, 0.644924f,
};

std::vector<float> from_bytes(const std::vector<int>& rgb) {
  std::vector<float> out(rgb.size());
  for (size_t i = 0; i < rgb.size(); ++i) out[i] = static_cast<float>(rgb[i]) / 255.0f;
  return out;
}

// ColorBrewer RdBu (11 classes) from blue to red, with a pure white centre.
const std::vector<float> kBwr = from_bytes({
    5,   48,  97,  33,  102, 172, 67,  147, 195, 146, 197, 222, 209, 229, 240, 255, 255, 255,
    253, 219, 199, 244, 165, 130, 214, 96,  77,  178, 24,  43,  103, 0,   31,
});

const std::vector<float> kGray = {0, 0, 0, 1, 1, 1};

const std::map<std::string, Colormap>& registry() {
  static const std::map<std::string, Colormap> maps = {
      {"viridis", Colormap("viridis", kViridis)},
      {"inferno", Colormap("inferno", kInferno)},
      {"bwr", Colormap("bwr", kBwr)},
      {"gray", Colormap("gray", kGray)},
  };
  return maps;
}

uint8_t to_byte(double v) {
  return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
}

double linearise(uint8_t v) {
  const double c = v / 255.0;
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

}  // namespace

double luminance(Color c) {
  return 0.2126 * linearise(c.r) + 0.7152 * linearise(c.g) + 0.0722 * linearise(c.b);
}

std::string hex(Color c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

Colormap::Colormap(std::string name, std::vector<float> rgb_points)
    : name_(std::move(name)), points_(std::move(rgb_points)) {
  CS_CHECK(points_.size() >= 6 && points_.size() % 3 == 0,
           "colormap " << name_ << ": needs at least 2 RGB control points, got "
                       << points_.size() << " numbers");
}

Color Colormap::operator()(double t) const {
  if (std::isnan(t)) return kNanColor;
  t = std::clamp(t, 0.0, 1.0);
  const size_t n = points_.size() / 3;
  const double pos = t * static_cast<double>(n - 1);
  const size_t i = std::min(static_cast<size_t>(pos), n - 2);
  const double f = pos - static_cast<double>(i);
  const float* a = &points_[3 * i];
  const float* b = &points_[3 * (i + 1)];
  return Color{to_byte(a[0] + f * (b[0] - a[0])), to_byte(a[1] + f * (b[1] - a[1])),
               to_byte(a[2] + f * (b[2] - a[2]))};
}

const Colormap& colormap(const std::string& name) {
  const auto& maps = registry();
  const auto it = maps.find(name);
  if (it == maps.end()) {
    std::string valid;
    for (const auto& n : colormap_names()) valid += (valid.empty() ? "" : ", ") + n;
    CS_FAIL("unknown colormap '" << name << "': valid names are " << valid);
  }
  return it->second;
}

std::vector<std::string> colormap_names() { return {"viridis", "inferno", "bwr", "gray"}; }

Color category_color(int index) {
  static const Color kTab10[10] = {
      {31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},   {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
  };
  const int i = ((index % 10) + 10) % 10;
  return kTab10[i];
}

}  // namespace cs::viz
