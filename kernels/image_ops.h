// Image operations the visualizations need, on batches (N, C, H, W):
//   roll2d        circular shift (DeepDream and class-model jitter)
//   occlude       copies of one image with one window each replaced by a fill
//                 image (occlusion experiments, all windows in one batch)
//   total_variation  sum of squared differences of neighbouring pixels
//                 (style transfer's smoothness term), forward and backward
#pragma once

#include "kernels/common.h"

namespace cs::kernels {

// out[n, c, h, w] = x[n, c, (h - dy) mod H, (w - dx) mod W]; dy, dx any integers.
void roll2d(const Tensor& x, int64_t dy, int64_t dx, Tensor& out);

struct OcclusionGrid {
  int window = 8;  // square window side
  int stride = 4;
  // Windows start at multiples of stride and may hang over the right and
  // bottom borders (clipped), so every pixel is covered:
  // rows = ceil(H / stride), likewise columns.
  static int64_t positions(int64_t size, int stride) { return (size + stride - 1) / stride; }
};

// image, fill: (C, H, W). out: (count, C, H, W) for windows first ..
// first + count - 1 of the rows x cols grid: copy i has window w = first + i,
// at grid position (w / cols, w % cols), taken from `fill`, the rest from `image`.
void occlude(const Tensor& image, const Tensor& fill, const OcclusionGrid& grid, int64_t first,
             Tensor& out);

// Crops (and mirrors) uint8 images for data augmentation: out[b] is the
// (h, w) window of images[b] at (params[b, 0], params[b, 1]), flipped left to
// right when params[b, 2] != 0. images (B, C, H, W) u8, params (B, 3) i32,
// out (B, C, h, w) u8. Windows must lie inside the images (checked on the CPU).
void crop_flip(const Tensor& images, const Tensor& params, Tensor& out);

// loss (1) = sum over n, c of sum_{h,w} (x[h+1,w] - x[h,w])^2 + (x[h,w+1] - x[h,w])^2
void total_variation_forward(const Tensor& x, Tensor& loss);
// gx = gloss * d loss / dx (gloss: one element).
void total_variation_backward(const Tensor& x, const Tensor& gloss, Tensor& gx);

struct ImageOpsImpl {
  void (*roll2d)(const Tensor& x, int64_t dy, int64_t dx, Tensor& out);
  void (*occlude)(const Tensor& image, const Tensor& fill, const OcclusionGrid& grid, int64_t first,
                  Tensor& out);
  void (*crop_flip)(const Tensor& images, const Tensor& params, Tensor& out);
  void (*tv_forward)(const Tensor& x, Tensor& loss);
  void (*tv_backward)(const Tensor& x, const Tensor& gloss, Tensor& gx);
};
OpRegistry<ImageOpsImpl>& image_ops_registry();

}  // namespace cs::kernels
