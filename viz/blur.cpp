#include "viz/blur.h"

#include <cmath>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/elementwise.h"

namespace cs::viz {

Tensor gaussian_blur(const Tensor& images, double sigma) {
  CS_CHECK(sigma > 0, "gaussian_blur: sigma must be positive, got " << sigma);
  CS_CHECK(images.ndim() == 3 || images.ndim() == 4,
           "gaussian_blur: expected (N, C, H, W) or (C, H, W), got " << shape_str(images.shape()));
  const Tensor x = images.ndim() == 3 ? images.reshape({1, images.dim(0), images.dim(1), images.dim(2)})
                                      : images;
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  const int radius = std::max(1, static_cast<int>(std::ceil(2.5 * sigma)));
  const int k = 2 * radius + 1;
  std::vector<double> g1(k);
  double total = 0;
  for (int i = 0; i < k; ++i) total += g1[i] = std::exp(-0.5 * (i - radius) * (i - radius) / (sigma * sigma));
  std::vector<float> weights;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) weights.push_back(static_cast<float>(g1[i] * g1[j] / (total * total)));
  kernels::Conv2dArgs args;
  args.pad_h = args.pad_w = radius;
  args.groups = static_cast<int>(c);
  const Tensor kernel = Tensor::from_vector(weights, {c, 1, k, k}, x.device());
  Tensor blurred = Tensor::empty(x.shape(), x.device());
  kernels::conv2d_forward(x, kernel, Tensor(), blurred, args);
  // The same blur of an all-ones image gives each pixel's share of the
  // kernel inside the image: dividing by it removes the dark border.
  Tensor ones = Tensor::full({1, c, h, w}, 1.0, x.device());
  Tensor weight = Tensor::empty({1, c, h, w}, x.device());
  kernels::conv2d_forward(ones, kernel, Tensor(), weight, args);
  for (int64_t i = 0; i < n; ++i) {
    Tensor row = blurred.narrow(i, 1);
    kernels::div(row, weight, row);
  }
  return images.ndim() == 3 ? blurred.reshape(images.shape()) : blurred;
}

}  // namespace cs::viz
