// FashionMNIST at a larger input size, as AlexNet and ZFNet train on it:
// 28x28 bytes normalised, gray replicated to 3 channels (or kept as 1), and
// bilinearly resized, through prepare_images and the batch iterator.
#include <cmath>

#include "kernels/resize.h"
#include "models/data.h"
#include "runtime/file_io.h"
#include "runtime/idx.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

bool have_fashion_mnist() {
  return file_exists(default_fashion_mnist_dir() + "/t10k-images-idx3-ubyte.gz") ||
         file_exists(default_fashion_mnist_dir() + "/t10k-images-idx3-ubyte");
}

models::DataSource small_fashion() {
  models::DataConfig config;
  config.dataset = "fashion-mnist";
  config.max_train = 6;
  config.max_test = 6;
  return models::load_dataset(config, Device::cpu());
}

// Normalised 28x28 floats (N, 1, 28, 28), computed here from the bytes.
Tensor normalised(const Tensor& u8, float mean, float stdev) {
  const std::vector<uint8_t> v = u8.to_vector<uint8_t>();
  std::vector<float> f(v.size());
  for (size_t i = 0; i < v.size(); ++i) f[i] = (v[i] / 255.0f - mean) / stdev;
  return Tensor::from_vector(f, u8.shape());
}

TEST(FashionResize, ReplicatesGrayToThreeChannelsAndResizesBilinearly) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "FashionMNIST is not installed";
  const models::DataSource source = small_fashion();
  ASSERT_EQ(source.train.images.shape(), (Shape{6, 1, 28, 28}));
  ASSERT_EQ(source.mean.size(), 1u);
  const Tensor base = normalised(source.train.images, source.mean[0], source.std[0]);
  for (int64_t size : {64, 67, 224}) {
    SCOPED_TRACE(size);
    const Tensor x = models::prepare_images(source.train.images, source, {3, size, size});
    ASSERT_EQ(x.shape(), (Shape{6, 3, size, size}));
    // The reference: the project's CPU bilinear resize of the 1-channel images.
    Tensor ref = Tensor::empty({6, 1, size, size});
    kernels::resize_bilinear_forward(base, ref);
    const std::vector<float> got = x.to_vector<float>(), want = ref.to_vector<float>();
    const size_t plane = static_cast<size_t>(size * size);
    double worst = 0;
    for (size_t n = 0; n < 6; ++n)
      for (size_t c = 0; c < 3; ++c)
        for (size_t i = 0; i < plane; ++i)
          worst = std::max(worst, std::fabs(double(got[(n * 3 + c) * plane + i]) - want[n * plane + i]));
    EXPECT_LT(worst, 1e-5) << "3-channel input differs from the resized gray image";
    // One channel kept: the same planes.
    const Tensor gray = models::prepare_images(source.train.images, source, {1, size, size});
    ASSERT_EQ(gray.shape(), (Shape{6, 1, size, size}));
    EXPECT_CLOSE(gray, ref, 1e-5, 1e-5);
  }
}

TEST(FashionResize, DoublingMatchesBilinearInterpolationByHand) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "FashionMNIST is not installed";
  const models::DataSource source = small_fashion();
  const Tensor x = models::prepare_images(source.train.images, source, {3, 56, 56});
  const std::vector<float> got = x.to_vector<float>();
  const std::vector<uint8_t> px = source.train.images.to_vector<uint8_t>();
  const double mean = source.mean[0], stdev = source.std[0];
  auto p = [&](int64_t n, int64_t y, int64_t xx) { return (px[(n * 28 + y) * 28 + xx] / 255.0 - mean) / stdev; };
  // align_corners = false at scale 2: output d samples source d / 2 - 0.25,
  // clamped to [0, 27]: weights (0.75, 0.25) or (0.25, 0.75) of two neighbours.
  auto src = [](int64_t d, int64_t& lo, int64_t& hi, double& frac) {
    const double s = std::max(0.0, d / 2.0 - 0.25);
    lo = static_cast<int64_t>(std::floor(s));
    hi = std::min<int64_t>(lo + 1, 27);
    frac = s - lo;
  };
  int checked = 0, nonzero = 0;
  for (int64_t n : {0, 5})
    for (int64_t oy : {0, 1, 13, 27, 28, 40, 55})
      for (int64_t ox : {0, 2, 19, 30, 31, 54, 55}) {
        int64_t y0, y1, x0, x1;
        double fy, fx;
        src(oy, y0, y1, fy);
        src(ox, x0, x1, fx);
        const double want = (1 - fy) * ((1 - fx) * p(n, y0, x0) + fx * p(n, y0, x1)) +
                            fy * ((1 - fx) * p(n, y1, x0) + fx * p(n, y1, x1));
        for (int64_t c = 0; c < 3; ++c)
          EXPECT_NEAR(got[((n * 3 + c) * 56 + oy) * 56 + ox], want, 1e-5) << n << " " << oy << " " << ox;
        ++checked;
        nonzero += std::fabs(want - (0 - mean) / stdev) > 1e-3;  // not background
      }
  EXPECT_EQ(checked, 98);
  EXPECT_GT(nonzero, 10) << "the sampled points should cover some of the garment";
}

TEST(FashionResize, TheBatchIteratorFeedsResizedBatches) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "FashionMNIST is not installed";
  const models::DataSource source = small_fashion();
  models::BatchIterator it(source.train, source, 4, false, 1, {3, 64, 64});
  Tensor x, y;
  ASSERT_TRUE(it.next(x, y));
  EXPECT_EQ(x.shape(), (Shape{4, 3, 64, 64}));
  EXPECT_EQ(y.to_vector<int32_t>(),
            (std::vector<int32_t>(source.train.labels_host.begin(), source.train.labels_host.begin() + 4)));
  ASSERT_TRUE(it.next(x, y));
  EXPECT_EQ(x.shape(), (Shape{2, 3, 64, 64}));
  // The second batch is images 4 and 5, resized like prepare_images does.
  const Tensor all = models::prepare_images(source.train.images, source, {3, 64, 64});
  EXPECT_BITWISE_EQ(x, all.narrow(4, 2).clone());
  EXPECT_FALSE(it.next(x, y));
}

}  // namespace
}  // namespace cs
