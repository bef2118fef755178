// Image operations: dispatchers and the CPU reference.
#include "kernels/image_ops.h"

namespace cs::kernels {

OpRegistry<ImageOpsImpl>& image_ops_registry() {
  static OpRegistry<ImageOpsImpl> registry("image_ops");
  return registry;
}

void roll2d(const Tensor& x, int64_t dy, int64_t dx, Tensor& out) {
  check_compatible({&x, &out}, "roll2d");
  CS_CHECK(x.ndim() == 4, "roll2d: input must be (N, C, H, W), got " << shape_str(x.shape()));
  check_shape(out, x.shape(), "roll2d: output");
  CS_CHECK(!x.shares_storage_with(out), "roll2d: the output must not alias the input");
  if (x.numel() == 0) return;
  image_ops_registry().get(x.device()).roll2d(x, dy, dx, out);
}

void occlude(const Tensor& image, const Tensor& fill, const OcclusionGrid& grid, int64_t first,
             Tensor& out) {
  check_compatible({&image, &fill, &out}, "occlude");
  CS_CHECK(image.ndim() == 3, "occlude: image must be (C, H, W), got " << shape_str(image.shape()));
  check_shape(fill, image.shape(), "occlude: fill");
  CS_CHECK(grid.window > 0 && grid.stride > 0,
           "occlude: window " << grid.window << " and stride " << grid.stride << " must be positive");
  const int64_t rows = OcclusionGrid::positions(image.dim(1), grid.stride);
  const int64_t cols = OcclusionGrid::positions(image.dim(2), grid.stride);
  CS_CHECK(out.ndim() == 4 && first >= 0 && first + out.dim(0) <= rows * cols,
           "occlude: windows [" << first << ", " << first + (out.ndim() ? out.dim(0) : 0)
                                << ") outside the " << rows * cols << " of the grid");
  check_shape(out, {out.dim(0), image.dim(0), image.dim(1), image.dim(2)}, "occlude: output");
  if (out.numel() == 0) return;
  image_ops_registry().get(image.device()).occlude(image, fill, grid, first, out);
}

void crop_flip(const Tensor& images, const Tensor& params, Tensor& out) {
  check_dtype(images, DType::U8, "crop_flip: images");
  check_dtype(out, DType::U8, "crop_flip: output");
  check_dtype(params, DType::I32, "crop_flip: params");
  check_same_device(images, out, "crop_flip");
  check_same_device(images, params, "crop_flip");
  CS_CHECK(images.ndim() == 4 && out.ndim() == 4 && out.dim(0) == images.dim(0) &&
               out.dim(1) == images.dim(1) && out.dim(2) <= images.dim(2) && out.dim(3) <= images.dim(3),
           "crop_flip: cannot crop " << shape_str(out.shape()) << " out of " << shape_str(images.shape()));
  check_shape(params, {images.dim(0), 3}, "crop_flip: params");
  if (params.device().is_cpu()) {
    const int32_t* p = params.data<int32_t>();
    for (int64_t b = 0; b < images.dim(0); ++b)
      CS_CHECK(p[b * 3] >= 0 && p[b * 3 + 1] >= 0 && p[b * 3] + out.dim(2) <= images.dim(2) &&
                   p[b * 3 + 1] + out.dim(3) <= images.dim(3),
               "crop_flip: window at (" << p[b * 3] << ", " << p[b * 3 + 1] << ") of image " << b
                                        << " leaves the image");
  }
  if (out.numel() == 0) return;
  image_ops_registry().get(images.device()).crop_flip(images, params, out);
}

void total_variation_forward(const Tensor& x, Tensor& loss) {
  check_compatible({&x, &loss}, "total_variation_forward");
  CS_CHECK(x.ndim() == 4, "total_variation: input must be (N, C, H, W), got " << shape_str(x.shape()));
  check_shape(loss, {1}, "total_variation_forward: loss");
  image_ops_registry().get(x.device()).tv_forward(x, loss);
}

void total_variation_backward(const Tensor& x, const Tensor& gloss, Tensor& gx) {
  check_compatible({&x, &gloss, &gx}, "total_variation_backward");
  CS_CHECK(x.ndim() == 4, "total_variation: input must be (N, C, H, W), got " << shape_str(x.shape()));
  check_shape(gloss, {1}, "total_variation_backward: loss gradient");
  check_shape(gx, x.shape(), "total_variation_backward: input gradient");
  if (x.numel() == 0) return;
  image_ops_registry().get(x.device()).tv_backward(x, gloss, gx);
}

namespace {

int64_t wrap(int64_t i, int64_t n) { return ((i % n) + n) % n; }

void cpu_roll2d(const Tensor& x, int64_t dy, int64_t dx, Tensor& out) {
  dispatch_floating(x.dtype(), "roll2d", [&](auto zero) {
    using T = decltype(zero);
    const int64_t planes = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          o[(p * H + h) * W + w] = in[(p * H + wrap(h - dy, H)) * W + wrap(w - dx, W)];
  });
}

void cpu_occlude(const Tensor& image, const Tensor& fill, const OcclusionGrid& g, int64_t first,
                 Tensor& out) {
  dispatch_floating(image.dtype(), "occlude", [&](auto zero) {
    using T = decltype(zero);
    const int64_t C = image.dim(0), H = image.dim(1), W = image.dim(2);
    const int64_t cols = OcclusionGrid::positions(W, g.stride);
    const T* img = image.data<T>();
    const T* f = fill.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0; i < out.dim(0); ++i) {
      const int64_t top = ((first + i) / cols) * g.stride, left = ((first + i) % cols) * g.stride;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) {
            const bool inside = h >= top && h < top + g.window && w >= left && w < left + g.window;
            const int64_t j = (c * H + h) * W + w;
            o[i * C * H * W + j] = inside ? f[j] : img[j];
          }
    }
  });
}

void cpu_crop_flip(const Tensor& images, const Tensor& params, Tensor& out) {
  const int64_t b = out.dim(0), c = out.dim(1), h = out.dim(2), w = out.dim(3);
  const int64_t H = images.dim(2), W = images.dim(3);
  const uint8_t* in = images.data<uint8_t>();
  const int32_t* p = params.data<int32_t>();
  uint8_t* o = out.data<uint8_t>();
  for (int64_t n = 0; n < b; ++n)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const int64_t sx = p[n * 3 + 2] ? w - 1 - x : x;
          o[((n * c + ch) * h + y) * w + x] = in[((n * c + ch) * H + p[n * 3] + y) * W + p[n * 3 + 1] + sx];
        }
}

void cpu_tv_forward(const Tensor& x, Tensor& loss) {
  dispatch_floating(x.dtype(), "total_variation", [&](auto zero) {
    using T = decltype(zero);
    const int64_t planes = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3);
    const T* p = x.data<T>();
    double total = 0;
    for (int64_t k = 0; k < planes; ++k)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const double v = p[(k * H + h) * W + w];
          if (h + 1 < H) total += (p[(k * H + h + 1) * W + w] - v) * (p[(k * H + h + 1) * W + w] - v);
          if (w + 1 < W) total += (p[(k * H + h) * W + w + 1] - v) * (p[(k * H + h) * W + w + 1] - v);
        }
    loss.data<T>()[0] = static_cast<T>(total);
  });
}

// d/dx[h,w] = 2 (x[h,w] - x[h-1,w]) + 2 (x[h,w] - x[h,w-1])
//           - 2 (x[h+1,w] - x[h,w]) - 2 (x[h,w+1] - x[h,w])   (terms that exist)
void cpu_tv_backward(const Tensor& x, const Tensor& gloss, Tensor& gx) {
  dispatch_floating(x.dtype(), "total_variation", [&](auto zero) {
    using T = decltype(zero);
    const int64_t planes = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3);
    const T* p = x.data<T>();
    T* o = gx.data<T>();
    const double g = gloss.data<T>()[0];
    for (int64_t k = 0; k < planes; ++k)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const int64_t i = (k * H + h) * W + w;
          double d = 0;
          if (h > 0) d += 2.0 * (p[i] - p[i - W]);
          if (w > 0) d += 2.0 * (p[i] - p[i - 1]);
          if (h + 1 < H) d -= 2.0 * (p[i + W] - p[i]);
          if (w + 1 < W) d -= 2.0 * (p[i + 1] - p[i]);
          o[i] = static_cast<T>(g * d);
        }
  });
}

}  // namespace

CS_REGISTER_OP(image_ops_registry, DeviceType::CPU,
               (ImageOpsImpl{&cpu_roll2d, &cpu_occlude, &cpu_crop_flip, &cpu_tv_forward,
                             &cpu_tv_backward}))

}  // namespace cs::kernels
