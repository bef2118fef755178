// Max, average and adaptive average pooling: PyTorch's semantics by hand
// (ties, padding, ceil mode, divisors, bins), gradchecks in double, the GPU's
// per-element formulations run on the host against the CPU reference, and
// the CUDA kernels against the CPU reference.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/fast_div.h"
#include "kernels/pool_impl.h"
#include "runtime/philox.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using kernels::Pool2dArgs;
using testing::random_integers;
using testing::random_tensor;
using testing::seed_for;

// Fresh seeds for the many cases of one test, derived from one logged seed.
struct Seeds {
  uint64_t base;
  uint64_t count = 0;
  uint64_t next() { return base + 0x9E3779B97F4A7C15ull * ++count; }
};

Pool2dArgs pool_args(int kh, int kw, int sh, int sw, int ph = 0, int pw = 0, bool ceil_mode = false,
                     bool count_include_pad = true) {
  Pool2dArgs a;
  a.kernel_h = kh;
  a.kernel_w = kw;
  a.stride_h = sh;
  a.stride_w = sw;
  a.pad_h = ph;
  a.pad_w = pw;
  a.ceil_mode = ceil_mode;
  a.count_include_pad = count_include_pad;
  return a;
}

std::string describe(const Shape& s, const Pool2dArgs& a) {
  return shape_str(s) + " k" + std::to_string(a.kernel_h) + "x" + std::to_string(a.kernel_w) +
         " s" + std::to_string(a.stride_h) + "x" + std::to_string(a.stride_w) + " p" +
         std::to_string(a.pad_h) + "x" + std::to_string(a.pad_w) + (a.ceil_mode ? " ceil" : "") +
         (a.count_include_pad ? "" : " exclude-pad");
}

struct MaxPooled {
  Tensor y, switches;
};

MaxPooled max_pool(const Tensor& x, const Pool2dArgs& a) {
  const Shape s = kernels::pool2d_output_shape(x.shape(), a);
  MaxPooled r{Tensor::empty(s, x.device(), x.dtype()), Tensor::empty(s, x.device(), DType::I32)};
  kernels::max_pool2d_forward(x, r.y, r.switches, a);
  return r;
}

Tensor max_unpool(const Tensor& gy, const Tensor& switches, const Shape& x_shape, const Pool2dArgs& a) {
  Tensor gx = Tensor::empty(x_shape, gy.device(), gy.dtype());
  kernels::max_pool2d_backward(gy, switches, gx, a);
  return gx;
}

Tensor avg_pool(const Tensor& x, const Pool2dArgs& a) {
  Tensor y = Tensor::empty(kernels::pool2d_output_shape(x.shape(), a), x.device(), x.dtype());
  kernels::avg_pool2d_forward(x, y, a);
  return y;
}

Tensor avg_pool_backward(const Tensor& gy, const Shape& x_shape, const Pool2dArgs& a) {
  Tensor gx = Tensor::empty(x_shape, gy.device(), gy.dtype());
  kernels::avg_pool2d_backward(gy, gx, a);
  return gx;
}

Tensor adaptive_pool(const Tensor& x, int64_t p, int64_t q) {
  Tensor y = Tensor::empty({x.dim(0), x.dim(1), p, q}, x.device(), x.dtype());
  kernels::adaptive_avg_pool2d_forward(x, y);
  return y;
}

Tensor adaptive_pool_backward(const Tensor& gy, const Shape& x_shape) {
  Tensor gx = Tensor::empty(x_shape, gy.device(), gy.dtype());
  kernels::adaptive_avg_pool2d_backward(gy, gx);
  return gx;
}

Tensor floats(const std::vector<float>& v, const Shape& s) { return Tensor::from_vector(v, s); }
std::vector<int32_t> ints(const Tensor& t) { return t.to_vector<int32_t>(); }
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }

const float kNan = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

// ---- output sizes ------------------------------------------------------------------------

int64_t pooled_h(int64_t h, int k, int s, int p, bool ceil_mode) {
  return kernels::pool2d_output_shape({1, 1, h, 1}, pool_args(k, 1, s, 1, p, 0, ceil_mode))[2];
}

TEST(Pool2d, OutputSizesFollowPyTorchFloorAndCeil) {
  // AlexNet's three pools: 3x3 windows, stride 2.
  EXPECT_EQ(kernels::pool2d_output_shape({128, 64, 55, 55}, pool_args(3, 3, 2, 2)),
            (Shape{128, 64, 27, 27}));
  EXPECT_EQ(pooled_h(27, 3, 2, 0, false), 13);
  EXPECT_EQ(pooled_h(13, 3, 2, 0, false), 6);
  // 5 wide, 2x2/2: floor drops the last column, ceil keeps a window over it.
  EXPECT_EQ(pooled_h(5, 2, 2, 0, false), 2);
  EXPECT_EQ(pooled_h(5, 2, 2, 0, true), 3);
  // Ceil would give 4, but the 4th window would start at 6 - 1 = 5, in the
  // right padding: PyTorch drops it.
  EXPECT_EQ(pooled_h(5, 2, 2, 1, false), 3);
  EXPECT_EQ(pooled_h(5, 2, 2, 1, true), 3);
  // 6 + 2 padding, 3/3: windows start at -1, 2, and in ceil mode 5 (inside).
  EXPECT_EQ(pooled_h(6, 3, 3, 1, false), 2);
  EXPECT_EQ(pooled_h(6, 3, 3, 1, true), 3);
  EXPECT_EQ(pooled_h(13, 3, 2, 0, true), 6);
  EXPECT_EQ(pooled_h(14, 3, 2, 0, false), 6);
  EXPECT_EQ(pooled_h(14, 3, 2, 0, true), 7);
  // Ceil mode even allows a window wider than the input (it starts inside).
  EXPECT_EQ(pooled_h(2, 3, 2, 0, true), 1);
  EXPECT_THROW(pooled_h(2, 3, 2, 0, false), Error);
  EXPECT_EQ(pooled_h(1, 1, 1, 0, false), 1);
  EXPECT_EQ(pooled_h(7, 7, 1, 3, false), 7);
}

// ---- max pooling by hand -------------------------------------------------------------------

TEST(MaxPool2d, HandValuesAndSwitches) {
  Tensor x = floats({1, 2, 5, 3,  //
                     4, 0, 1, 7,  //
                     8, 8, 2, 2,  //
                     6, 3, 2, 9},
                    {1, 1, 4, 4});
  MaxPooled r = max_pool(x, pool_args(2, 2, 2, 2));
  EXPECT_EQ(r.y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values(r.y), (std::vector<float>{4, 7, 8, 9}));
  // The tie 8, 8 in the third window goes to the first, index 8.
  EXPECT_EQ(ints(r.switches), (std::vector<int32_t>{4, 7, 8, 15}));
}

TEST(MaxPool2d, TiesGoToTheFirstMaximumInRowMajorOrder) {
  Tensor x = floats({5, 5, 1, 2,  //
                     5, 5, 2, 2},
                    {1, 1, 2, 4});
  MaxPooled r = max_pool(x, pool_args(2, 2, 2, 2));
  EXPECT_EQ(values(r.y), (std::vector<float>{5, 2}));
  EXPECT_EQ(ints(r.switches), (std::vector<int32_t>{0, 3}));
  // Overlapping windows of a constant plane: each takes its own first cell.
  Tensor c = Tensor::full({1, 1, 5, 5}, 3.0);
  MaxPooled rc = max_pool(c, pool_args(3, 3, 2, 2));
  EXPECT_EQ(ints(rc.switches), (std::vector<int32_t>{0, 2, 10, 12}));
}

TEST(MaxPool2d, PaddingNeverWins) {
  // All negative: zero padding would win every border window if it counted.
  Tensor x = floats({-1, -2, -3,  //
                     -4, -5, -6,  //
                     -7, -8, -9},
                    {1, 1, 3, 3});
  MaxPooled r = max_pool(x, pool_args(2, 2, 2, 2, 1, 1));
  EXPECT_EQ(values(r.y), (std::vector<float>{-1, -2, -4, -5}));
  EXPECT_EQ(ints(r.switches), (std::vector<int32_t>{0, 1, 3, 4}));
  // A window of -infinity keeps its first cell inside the input.
  Tensor inf = floats({-kInf, -kInf, -kInf}, {1, 1, 1, 3});
  MaxPooled ri = max_pool(inf, pool_args(1, 3, 1, 1, 0, 1));
  EXPECT_EQ(values(ri.y), (std::vector<float>{-kInf, -kInf, -kInf}));
  EXPECT_EQ(ints(ri.switches), (std::vector<int32_t>{0, 0, 1}));
}

TEST(MaxPool2d, NanPropagatesAndTheLastNanWins) {
  Tensor x = floats({1, kNan, 3, kNan, 2}, {1, 1, 1, 5});
  MaxPooled r = max_pool(x, pool_args(1, 3, 1, 2));
  std::vector<float> y = values(r.y);
  ASSERT_EQ(y.size(), 2u);
  EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[1]));
  EXPECT_EQ(ints(r.switches), (std::vector<int32_t>{1, 3}));
  MaxPooled whole = max_pool(x, pool_args(1, 5, 1, 1));
  EXPECT_TRUE(std::isnan(values(whole.y)[0]));
  EXPECT_EQ(ints(whole.switches), (std::vector<int32_t>{3}));  // PyTorch: v > max || isnan(v)
}

TEST(MaxPool2d, CeilModeCoversTheTail) {
  Tensor x = floats({1, 5, 2, 0, 3}, {1, 1, 1, 5});
  MaxPooled floor_mode = max_pool(x, pool_args(1, 2, 1, 2));
  EXPECT_EQ(values(floor_mode.y), (std::vector<float>{5, 2}));
  EXPECT_EQ(ints(floor_mode.switches), (std::vector<int32_t>{1, 2}));
  MaxPooled ceil_mode = max_pool(x, pool_args(1, 2, 1, 2, 0, 0, true));
  EXPECT_EQ(values(ceil_mode.y), (std::vector<float>{5, 2, 3}));
  EXPECT_EQ(ints(ceil_mode.switches), (std::vector<int32_t>{1, 2, 4}));
  // In 2-D the corner window holds the single corner cell.
  Tensor x2 = random_tensor({1, 1, 5, 5}, seed_for("x2"));
  MaxPooled r2 = max_pool(x2, pool_args(2, 2, 2, 2, 0, 0, true));
  ASSERT_EQ(r2.y.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(ints(r2.switches)[8], 24);
  EXPECT_EQ(values(r2.y)[8], values(x2)[24]);
}

TEST(MaxPool2d, BackwardSumsOverlappingWindowsAtTheirSwitch) {
  // 3x3/2 on 5x5: the centre lies in all four windows and is their maximum.
  std::vector<float> v(25);
  for (int i = 0; i < 25; ++i) v[i] = static_cast<float>(i % 7);
  v[12] = 100;
  Tensor x = floats(v, {1, 1, 5, 5});
  MaxPooled r = max_pool(x, pool_args(3, 3, 2, 2));
  EXPECT_EQ(ints(r.switches), (std::vector<int32_t>{12, 12, 12, 12}));
  Tensor gy = floats({1, 2, 3, 4}, {1, 1, 2, 2});
  std::vector<float> expected(25, 0.0f);
  expected[12] = 10;
  EXPECT_EQ(values(max_unpool(gy, r.switches, x.shape(), pool_args(3, 3, 2, 2))), expected);
  // Two windows sharing column 2: the first's maximum lies in it, the second's does not.
  Tensor x3 = floats({0, 1, 9, 2, 0,  //
                      0, 0, 0, 0, 10,  //
                      0, 0, 0, 0, 0},
                     {1, 1, 3, 5});
  MaxPooled r3 = max_pool(x3, pool_args(3, 3, 2, 2));
  EXPECT_EQ(ints(r3.switches), (std::vector<int32_t>{2, 9}));
  std::vector<float> expected3(15, 0.0f);
  expected3[2] = 0.5f;
  expected3[9] = -3.0f;
  EXPECT_EQ(values(max_unpool(floats({0.5f, -3}, {1, 1, 1, 2}), r3.switches, x3.shape(),
                              pool_args(3, 3, 2, 2))),
            expected3);
}

TEST(MaxPool2d, SwitchesUnpoolTheMaxima) {
  // The deconvnet's unpooling: each pooled value goes back to where it came from.
  Tensor x = floats({1, 2, 5, 3,  //
                     4, 0, 1, 7,  //
                     8, 8, 2, 2,  //
                     6, 3, 2, 9},
                    {1, 1, 4, 4});
  const Pool2dArgs a = pool_args(2, 2, 2, 2);
  MaxPooled r = max_pool(x, a);
  EXPECT_EQ(values(max_unpool(r.y, r.switches, x.shape(), a)),
            (std::vector<float>{0, 0, 0, 0,  //
                                4, 0, 0, 7,  //
                                8, 0, 0, 0,  //
                                0, 0, 0, 9}));
}

TEST(MaxPool2d, BackwardRejectsSwitchesOutsideTheirWindow) {
  const Pool2dArgs a = pool_args(2, 2, 2, 2);
  Tensor gy = Tensor::full({1, 1, 2, 2}, 1.0);
  Tensor gx = Tensor::empty({1, 1, 4, 4});
  Tensor foreign = Tensor::from_vector(std::vector<int32_t>{0, 2, 8, 0}, {1, 1, 2, 2});
  EXPECT_THROW(kernels::max_pool2d_backward(gy, foreign, gx, a), Error);
  Tensor negative = Tensor::from_vector(std::vector<int32_t>{0, 2, 8, -1}, {1, 1, 2, 2});
  EXPECT_THROW(kernels::max_pool2d_backward(gy, negative, gx, a), Error);
  Tensor good = Tensor::from_vector(std::vector<int32_t>{5, 2, 8, 15}, {1, 1, 2, 2});
  EXPECT_NO_THROW(kernels::max_pool2d_backward(gy, good, gx, a));
}

TEST(MaxPool2d, RejectsBadArguments) {
  Tensor x = Tensor::zeros({2, 3, 8, 8});
  Tensor y = Tensor::empty({2, 3, 4, 4});
  Tensor sw = Tensor::empty({2, 3, 4, 4}, Device::cpu(), DType::I32);
  const Pool2dArgs ok = pool_args(2, 2, 2, 2);
  EXPECT_NO_THROW(kernels::max_pool2d_forward(x, y, sw, ok));
  EXPECT_THROW(kernels::max_pool2d_forward(x, y, sw, pool_args(0, 2, 2, 2)), Error);
  EXPECT_THROW(kernels::max_pool2d_forward(x, y, sw, pool_args(2, 2, 0, 2)), Error);
  EXPECT_THROW(kernels::max_pool2d_forward(x, y, sw, pool_args(2, 2, 2, 2, -1, 0)), Error);
  EXPECT_THROW(kernels::max_pool2d_forward(x, y, sw, pool_args(2, 2, 2, 2, 2, 0)), Error);  // pad > k/2
  EXPECT_THROW(kernels::max_pool2d_forward(x, y, sw, pool_args(3, 3, 2, 2)), Error);      // y is 3x3
  EXPECT_THROW(kernels::max_pool2d_forward(x, y, sw, pool_args(9, 9, 1, 1)), Error);      // empty
  Tensor x3 = Tensor::zeros({3, 8, 8});
  EXPECT_THROW(kernels::max_pool2d_forward(x3, y, sw, ok), Error);
  Tensor swf = Tensor::empty({2, 3, 4, 4});
  EXPECT_THROW(kernels::max_pool2d_forward(x, y, swf, ok), Error);
  Tensor sws = Tensor::empty({2, 3, 4, 3}, Device::cpu(), DType::I32);
  EXPECT_THROW(kernels::max_pool2d_forward(x, y, sws, ok), Error);
  Tensor yd = Tensor::empty({2, 3, 4, 4}, Device::cpu(), DType::F64);
  EXPECT_THROW(kernels::max_pool2d_forward(x, yd, sw, ok), Error);
  Tensor sw8 = Tensor::empty({2, 3, 8, 8}, Device::cpu(), DType::I32);
  Tensor y8 = Tensor::empty({2, 3, 8, 8});
  EXPECT_NO_THROW(kernels::max_pool2d_forward(x, y8, sw8, pool_args(1, 1, 1, 1)));
  EXPECT_THROW(kernels::max_pool2d_forward(x, x, sw8, pool_args(1, 1, 1, 1)), Error);  // aliasing
  // Backward: gy must be the pooled shape of gx, switches int32 of gy's shape.
  Tensor gx = Tensor::empty({2, 3, 8, 8});
  EXPECT_NO_THROW(kernels::max_pool2d_backward(y, sw, gx, ok));
  Tensor gx_bad = Tensor::empty({2, 3, 10, 10});
  EXPECT_THROW(kernels::max_pool2d_backward(y, sw, gx_bad, ok), Error);
  EXPECT_THROW(kernels::max_pool2d_backward(y, swf, gx, ok), Error);
  EXPECT_THROW(kernels::max_pool2d_backward(y, sws, gx, ok), Error);
  EXPECT_THROW(kernels::max_pool2d_backward(y, sw, gx, pool_args(3, 3, 2, 2)), Error);
}

TEST(Pool2d, EmptyBatchesAreNoOps) {
  for (Shape s : {Shape{0, 3, 8, 8}, Shape{2, 0, 8, 8}}) {
    Tensor x = Tensor::empty(s);
    const Pool2dArgs a = pool_args(3, 3, 2, 2);
    MaxPooled r = max_pool(x, a);
    EXPECT_EQ(r.y.numel(), 0);
    EXPECT_EQ(max_unpool(r.y, r.switches, s, a).numel(), 0);
    EXPECT_EQ(avg_pool(x, a).numel(), 0);
    EXPECT_EQ(adaptive_pool(x, 6, 6).numel(), 0);
    EXPECT_EQ(adaptive_pool_backward(adaptive_pool(x, 6, 6), s).numel(), 0);
  }
  EXPECT_THROW(avg_pool(Tensor::empty({1, 1, 0, 4}), pool_args(1, 1, 1, 1)), Error);
}

// ---- average pooling by hand ---------------------------------------------------------------

TEST(AvgPool2d, HandValues) {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i + 1);
  Tensor x = floats(v, {1, 1, 4, 4});
  EXPECT_EQ(values(avg_pool(x, pool_args(2, 2, 2, 2))), (std::vector<float>{3.5f, 5.5f, 11.5f, 13.5f}));
}

TEST(AvgPool2d, DivisorsCountPaddingAsPyTorchDoes) {
  // 2x2 input, 2x2 windows, stride 1, padding 1: nine windows of 4 cells,
  // each holding 1, 2 or 4 input cells.
  Tensor x = floats({1, 2, 3, 4}, {1, 1, 2, 2});
  EXPECT_EQ(values(avg_pool(x, pool_args(2, 2, 1, 1, 1, 1))),
            (std::vector<float>{0.25f, 0.75f, 0.5f, 1.0f, 2.5f, 1.5f, 0.75f, 1.75f, 1.0f}));
  EXPECT_EQ(values(avg_pool(x, pool_args(2, 2, 1, 1, 1, 1, false, false))),
            (std::vector<float>{1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}));
  // Ceil mode: windows start at -1, 1, 3 over [1 2 3 4] padded by one on
  // each side. The last window [3, 6) is cut at the end of the padding (5):
  // it counts 2 cells with the padding, 1 without.
  Tensor row = floats({1, 2, 3, 4}, {1, 1, 1, 4});
  EXPECT_EQ(values(avg_pool(row, pool_args(1, 3, 1, 2, 0, 1, true, true))),
            (std::vector<float>{1, 3, 2}));
  EXPECT_EQ(values(avg_pool(row, pool_args(1, 3, 1, 2, 0, 1, true, false))),
            (std::vector<float>{1.5f, 3, 4}));
  EXPECT_EQ(values(avg_pool(row, pool_args(1, 3, 1, 2, 0, 1, false, true))),
            (std::vector<float>{1, 3}));
  // Without padding, a ceil-mode tail window reaching past the input divides
  // by the cells it holds: [4, 6) of 5 holds one.
  Tensor row5 = floats({2, 4, 6, 8, 10}, {1, 1, 1, 5});
  EXPECT_EQ(values(avg_pool(row5, pool_args(1, 2, 1, 2, 0, 0, true))),
            (std::vector<float>{3, 7, 10}));
}

TEST(AvgPool2d, BackwardSpreadsEachGradientOverItsWindow) {
  // The ceil-mode row above, in double: divisors 3, 3, 2.
  Tensor gy = Tensor::from_vector(std::vector<double>{3, 6, 4}, {1, 1, 1, 3});
  Tensor gx = avg_pool_backward(gy, {1, 1, 1, 4}, pool_args(1, 3, 1, 2, 0, 1, true, true));
  EXPECT_EQ(gx.to_vector<double>(), (std::vector<double>{1, 1 + 2, 2, 2 + 2}));
  Tensor gx2 = avg_pool_backward(gy, {1, 1, 1, 4}, pool_args(1, 3, 1, 2, 0, 1, true, false));
  EXPECT_EQ(gx2.to_vector<double>(), (std::vector<double>{1.5, 1.5 + 2, 2, 2 + 4}));
}

// ---- adaptive average pooling --------------------------------------------------------------

// x[h, w] = 100 h + w, so the mean over a bin is 100 * (mean row) + (mean column).
Tensor ramp(int64_t h, int64_t w) {
  std::vector<float> v;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) v.push_back(static_cast<float>(100 * i + j));
  return floats(v, {1, 1, h, w});
}

std::vector<float> bin_means(const std::vector<double>& rows, const std::vector<double>& cols) {
  std::vector<float> out;
  for (double r : rows)
    for (double c : cols) out.push_back(static_cast<float>(100 * r + c));
  return out;
}

TEST(AdaptiveAvgPool2d, BinsFollowPyTorch) {
  // 13 -> 6: [0,3) [2,5) [4,7) [6,9) [8,11) [10,13); 7 -> 3: [0,3) [2,5) [4,7).
  EXPECT_EQ(values(adaptive_pool(ramp(13, 7), 6, 3)), bin_means({1, 3, 5, 7, 9, 11}, {1, 3, 5}));
  // 5 -> 5 is the identity.
  EXPECT_EQ(values(adaptive_pool(ramp(5, 5), 5, 5)), values(ramp(5, 5)));
  // 10 -> 4: [0,3) [2,5) [5,8) [7,10); 3 -> 5 (more bins than rows):
  // [0,1) [0,2) [1,2) [1,3) [2,3).
  EXPECT_EQ(values(adaptive_pool(ramp(10, 3), 4, 5)), bin_means({1, 3, 6, 8}, {0, 0.5, 1, 1.5, 2}));
  // 6 -> 6 (AlexNet at 224 pixels) and 1 -> 1.
  EXPECT_EQ(values(adaptive_pool(ramp(6, 6), 6, 6)), values(ramp(6, 6)));
  EXPECT_EQ(values(adaptive_pool(ramp(1, 1), 1, 1)), values(ramp(1, 1)));
  // 13 -> 1 is the global mean.
  EXPECT_EQ(values(adaptive_pool(ramp(13, 7), 1, 1)), bin_means({6}, {3}));
}

TEST(AdaptiveAvgPool2d, BackwardSpreadsOverOverlappingBins) {
  // 3 -> 2: bins [0,2) and [1,3); the middle column is in both.
  Tensor gy = floats({2, 4}, {1, 1, 1, 2});
  EXPECT_EQ(values(adaptive_pool_backward(gy, {1, 1, 1, 3})), (std::vector<float>{1, 3, 2}));
}

TEST(AdaptiveAvgPool2d, RejectsBadArguments) {
  Tensor x = Tensor::zeros({2, 3, 8, 8});
  Tensor y_bad_c = Tensor::empty({2, 4, 2, 2});
  EXPECT_THROW(kernels::adaptive_avg_pool2d_forward(x, y_bad_c), Error);
  Tensor y_empty = Tensor::empty({2, 3, 0, 2});
  EXPECT_THROW(kernels::adaptive_avg_pool2d_forward(x, y_empty), Error);
  Tensor y3 = Tensor::empty({2, 3, 2});
  EXPECT_THROW(kernels::adaptive_avg_pool2d_forward(x, y3), Error);
  Tensor gx_bad = Tensor::empty({2, 3, 0, 8});
  EXPECT_THROW(kernels::adaptive_avg_pool2d_backward(Tensor::zeros({2, 3, 2, 2}), gx_bad), Error);
}

// ---- gradchecks in double ------------------------------------------------------------------

TEST(MaxPool2d, GradcheckInDouble) {
  for (const Pool2dArgs& a : {pool_args(2, 2, 2, 2), pool_args(3, 3, 2, 2), pool_args(3, 3, 2, 2, 1, 1),
                              pool_args(3, 2, 1, 2, 1, 0, true), pool_args(2, 2, 2, 2, 1, 1, true)}) {
    const Shape shape{2, 2, 7, 6};
    SCOPED_TRACE(describe(shape, a));
    auto forward = [&](const std::vector<Tensor>& in) { return max_pool(in[0], a).y; };
    auto backward = [&](const std::vector<Tensor>& in, const Tensor& gy) {
      MaxPooled r = max_pool(in[0], a);
      return std::vector<Tensor>{max_unpool(gy, r.switches, in[0].shape(), a)};
    };
    EXPECT_TRUE(testing::gradcheck(forward, backward, {testing::distinct_values(shape, seed_for("x"))}));
  }
}

TEST(AvgPool2d, GradcheckInDouble) {
  for (const Pool2dArgs& a :
       {pool_args(2, 2, 2, 2), pool_args(3, 3, 2, 2, 1, 1), pool_args(3, 3, 2, 2, 1, 1, false, false),
        pool_args(3, 2, 2, 1, 1, 1, true, true), pool_args(3, 2, 2, 1, 1, 1, true, false)}) {
    const Shape shape{2, 2, 6, 5};
    SCOPED_TRACE(describe(shape, a));
    auto forward = [&](const std::vector<Tensor>& in) { return avg_pool(in[0], a); };
    auto backward = [&](const std::vector<Tensor>& in, const Tensor& gy) {
      return std::vector<Tensor>{avg_pool_backward(gy, in[0].shape(), a)};
    };
    EXPECT_TRUE(testing::gradcheck(forward, backward, {testing::away_from_zero(shape, seed_for("x"))}));
  }
}

TEST(AdaptiveAvgPool2d, GradcheckInDouble) {
  for (auto [h, w, p, q] : {std::tuple{13, 7, 6, 3}, std::tuple{3, 5, 5, 2}, std::tuple{5, 5, 5, 5}}) {
    const Shape shape{2, 2, h, w};
    SCOPED_TRACE(shape_str(shape) + " -> " + std::to_string(p) + "x" + std::to_string(q));
    auto forward = [&](const std::vector<Tensor>& in) { return adaptive_pool(in[0], p, q); };
    auto backward = [&](const std::vector<Tensor>& in, const Tensor& gy) {
      return std::vector<Tensor>{adaptive_pool_backward(gy, in[0].shape())};
    };
    EXPECT_TRUE(testing::gradcheck(forward, backward, {testing::away_from_zero(shape, seed_for("x"))}));
  }
}

// ---- the GPU's formulations, run on the host --------------------------------------------

TEST(FastDiv, MatchesIntegerDivision) {
  std::vector<uint32_t> divisors{1, 2, 3, 5, 6, 7, 13, 27, 55, 169, 729, 3025, 65535, 65536,
                                 1u << 20, (1u << 31) - 1};
  std::vector<uint32_t> numerators{0, 1, 2, 3, 54, 55, 56, 3024, 3025, 1u << 30, (1u << 31) - 1};
  const uint64_t seed = seed_for("fastdiv");
  for (uint64_t i = 0; i < 4000; ++i) {
    numerators.push_back(philox::word(seed, 0, i) & 0x7fffffffu);
    if (i % 100 == 0) divisors.push_back(1 + (philox::word(seed, 1, i) & 0x7ffffffeu));
    if (i % 100 == 50) divisors.push_back(1 + philox::word(seed, 1, i) % 5000);
  }
  for (uint32_t d : divisors) {
    const kernels::FastDiv fd(d);
    for (uint32_t n : numerators) {
      ASSERT_EQ(fd.div(n), n / d) << n << " / " << d;
      ASSERT_EQ(fd.mod(n), n % d) << n << " % " << d;
    }
  }
}

kernels::PoolGeometry geometry_of(const Shape& x, const Pool2dArgs& a) {
  kernels::PoolGeometry g;
  g.planes = x[0] * x[1];
  g.in_h = static_cast<int>(x[2]);
  g.in_w = static_cast<int>(x[3]);
  g.out_h = static_cast<int>(kernels::pooled_size(x[2], a.kernel_h, a.stride_h, a.pad_h, a.ceil_mode));
  g.out_w = static_cast<int>(kernels::pooled_size(x[3], a.kernel_w, a.stride_w, a.pad_w, a.ceil_mode));
  g.kernel_h = a.kernel_h;
  g.kernel_w = a.kernel_w;
  g.stride_h = a.stride_h;
  g.stride_w = a.stride_w;
  g.pad_h = a.pad_h;
  g.pad_w = a.pad_w;
  g.count_include_pad = a.count_include_pad;
  return g;
}

// Runs f(plane, index within plane) for every element of a (planes, rows, cols) layout.
template <typename F>
void for_each_element(int64_t planes, int rows, int cols, F f) {
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) f(pl, r, c);
}

// The kernels' gathers with a stride divider of type Div, over every input.
template <typename Div>
void host_backward_gathers(const kernels::PoolGeometry& g, const Tensor& gy, const Tensor& switches,
                           Tensor& gx_max, Tensor& gx_avg, const Div& dh, const Div& dw) {
  const int64_t in_plane = int64_t{g.in_h} * g.in_w, out_plane = int64_t{g.out_h} * g.out_w;
  for_each_element(g.planes, g.in_h, g.in_w, [&](int64_t pl, int h, int w) {
    const float* gyp = gy.data<float>() + pl * out_plane;
    gx_max.data<float>()[pl * in_plane + h * g.in_w + w] = kernels::pooling::max_pool_backward_at(
        gyp, switches.data<int32_t>() + pl * out_plane, h, w, g, dh, dw);
    gx_avg.data<float>()[pl * in_plane + h * g.in_w + w] =
        kernels::pooling::avg_pool_backward_at(gyp, h, w, g, dh, dw);
  });
}

TEST(PoolGpuFormulation, MatchesTheCpuReferenceBitwiseOnTheHost) {
  Seeds seeds{seed_for()};
  const std::vector<Pool2dArgs> configs{
      pool_args(2, 2, 2, 2),          pool_args(3, 3, 2, 2),          pool_args(3, 3, 2, 2, 1, 1),
      pool_args(3, 3, 1, 1, 1, 1),    pool_args(5, 5, 3, 3, 2, 2),    pool_args(3, 3, 2, 2, 0, 0, true),
      pool_args(2, 2, 2, 2, 1, 1, true), pool_args(3, 2, 2, 1, 1, 0, true, false),
      pool_args(1, 1, 1, 1),          pool_args(4, 4, 4, 4, 2, 2, true, false),
      pool_args(3, 3, 3, 3, 0, 0, true)};
  const std::vector<std::pair<int, int>> sizes{{1, 1}, {7, 7}, {13, 13}, {1, 7}, {31, 33}, {2, 3}};
  for (const Pool2dArgs& base : configs)
    for (bool include : {true, false})
      for (auto [h, w] : sizes) {
        Pool2dArgs a = base;
        a.count_include_pad = include;
        const Shape shape{2, 3, h, w};
        if (kernels::pooled_size(h, a.kernel_h, a.stride_h, a.pad_h, a.ceil_mode) < 1 ||
            kernels::pooled_size(w, a.kernel_w, a.stride_w, a.pad_w, a.ceil_mode) < 1)
          continue;
        SCOPED_TRACE(describe(shape, a));
        // Small integers: many ties, exercising the first-maximum rule.
        Tensor x = random_integers(shape, seeds.next(), -3, 3);
        const kernels::PoolGeometry g = geometry_of(shape, a);
        MaxPooled ref = max_pool(x, a);
        Tensor ref_avg = avg_pool(x, a);
        Tensor y = Tensor::empty_like(ref.y), sw = Tensor::empty_like(ref.switches);
        Tensor y_avg = Tensor::empty_like(ref.y);
        const int64_t in_plane = int64_t{h} * w, out_plane = int64_t{g.out_h} * g.out_w;
        for (int k : {0, 2, 3}) {
          if (k != 0 && (a.kernel_h != k || a.kernel_w != k)) continue;
          for_each_element(g.planes, g.out_h, g.out_w, [&](int64_t pl, int oh, int ow) {
            const float* xp = x.data<float>() + pl * in_plane;
            const int64_t o = pl * out_plane + oh * g.out_w + ow;
            int32_t arg = -1;
            y.data<float>()[o] = k == 3   ? kernels::pooling::max_pool_window<3, 3>(xp, oh, ow, g, arg)
                                 : k == 2 ? kernels::pooling::max_pool_window<2, 2>(xp, oh, ow, g, arg)
                                          : kernels::pooling::max_pool_window<0, 0>(xp, oh, ow, g, arg);
            sw.data<int32_t>()[o] = arg;
            y_avg.data<float>()[o] = kernels::pooling::avg_pool_window(xp, oh, ow, g);
          });
          EXPECT_BITWISE_EQ(y, ref.y) << "K = " << k;
          EXPECT_BITWISE_EQ(sw, ref.switches) << "K = " << k;
        }
        EXPECT_BITWISE_EQ(y_avg, ref_avg);
        // Backward gathers against the reference's scatters.
        Tensor gy = random_tensor(ref.y.shape(), seeds.next());
        Tensor ref_max = max_unpool(gy, ref.switches, shape, a);
        Tensor ref_avg_gx = avg_pool_backward(gy, shape, a);
        Tensor gx_max = Tensor::empty(shape), gx_avg = Tensor::empty(shape);
        host_backward_gathers(g, gy, ref.switches, gx_max, gx_avg, kernels::FastDiv(a.stride_h),
                              kernels::FastDiv(a.stride_w));
        EXPECT_BITWISE_EQ(gx_max, ref_max);
        EXPECT_BITWISE_EQ(gx_avg, ref_avg_gx);
        if (a.stride_h == 2 && a.stride_w == 2) {
          host_backward_gathers(g, gy, ref.switches, gx_max, gx_avg, kernels::pooling::StaticDiv<2>{},
                                kernels::pooling::StaticDiv<2>{});
          EXPECT_BITWISE_EQ(gx_max, ref_max);
          EXPECT_BITWISE_EQ(gx_avg, ref_avg_gx);
        }
      }
}

TEST(PoolGpuFormulation, AdaptiveMatchesTheCpuReferenceBitwiseOnTheHost) {
  Seeds seeds{seed_for()};
  const std::vector<int> sizes{1, 2, 3, 5, 6, 7, 13, 31, 33};
  for (int h : sizes)
    for (int p : sizes) {
      const int w = sizes[(h + p) % sizes.size()], q = sizes[(h * p) % sizes.size()];
      const Shape shape{2, 2, h, w};
      SCOPED_TRACE(shape_str(shape) + " -> " + std::to_string(p) + "x" + std::to_string(q));
      Tensor x = random_tensor(shape, seeds.next());
      Tensor ref = adaptive_pool(x, p, q);
      Tensor gy = random_tensor(ref.shape(), seeds.next());
      Tensor ref_gx = adaptive_pool_backward(gy, shape);
      kernels::PoolGeometry g;
      g.planes = 4;
      g.in_h = h;
      g.in_w = w;
      g.out_h = p;
      g.out_w = q;
      const kernels::pooling::AdaptiveDivs d{kernels::FastDiv(h), kernels::FastDiv(w),
                                             kernels::FastDiv(p), kernels::FastDiv(q)};
      Tensor y = Tensor::empty_like(ref), gx = Tensor::empty(shape);
      for_each_element(g.planes, p, q, [&](int64_t pl, int oh, int ow) {
        y.data<float>()[pl * p * q + oh * q + ow] =
            kernels::pooling::adaptive_avg_window(x.data<float>() + pl * h * w, oh, ow, g, d);
      });
      for_each_element(g.planes, h, w, [&](int64_t pl, int ih, int iw) {
        gx.data<float>()[pl * h * w + ih * w + iw] =
            kernels::pooling::adaptive_avg_backward_at(gy.data<float>() + pl * p * q, ih, iw, g, d);
      });
      EXPECT_BITWISE_EQ(y, ref);
      EXPECT_BITWISE_EQ(gx, ref_gx);
    }
}

// ---- CUDA against the CPU reference ------------------------------------------------------

struct GpuCase {
  Shape shape;
  Pool2dArgs args;
};

// Shapes: batch 1 and more, odd and off-tile sizes, AlexNet's and ZFNet's
// pools; windows: overlapping 3x3/2, non-overlapping, padded, ceil mode,
// rectangular, and the generic (not unrolled) path.
std::vector<GpuCase> gpu_cases() {
  std::vector<GpuCase> cases;
  const std::vector<Pool2dArgs> windows{
      pool_args(3, 3, 2, 2),           pool_args(2, 2, 2, 2),
      pool_args(3, 3, 2, 2, 1, 1),     pool_args(3, 3, 1, 1, 1, 1),
      pool_args(3, 3, 2, 2, 0, 0, true), pool_args(2, 2, 2, 2, 1, 1, true),
      pool_args(5, 5, 3, 3, 2, 2, true), pool_args(3, 2, 2, 1, 1, 0),
      pool_args(1, 1, 1, 1),           pool_args(4, 4, 3, 3, 2, 1, true)};
  const std::vector<Shape> shapes{{1, 1, 1, 1},  {1, 3, 7, 7},    {2, 5, 13, 13}, {1, 2, 31, 33},
                                  {3, 2, 33, 31}, {1, 1, 129, 129}, {2, 3, 1, 13},  {2, 3, 13, 1}};
  for (const Shape& s : shapes)
    for (const Pool2dArgs& a : windows)
      if (kernels::pooled_size(s[2], a.kernel_h, a.stride_h, a.pad_h, a.ceil_mode) > 0 &&
          kernels::pooled_size(s[3], a.kernel_w, a.stride_w, a.pad_w, a.ceil_mode) > 0)
        cases.push_back({s, a});
  // AlexNet (64x55x55 -> 27, 192x27x27 -> 13, 256x13x13 -> 6) and ZFNet
  // (96x110x110 -> 55 with padding) at a small batch.
  cases.push_back({{2, 64, 55, 55}, pool_args(3, 3, 2, 2)});
  cases.push_back({{2, 192, 27, 27}, pool_args(3, 3, 2, 2)});
  cases.push_back({{2, 256, 13, 13}, pool_args(3, 3, 2, 2)});
  cases.push_back({{1, 96, 110, 110}, pool_args(3, 3, 2, 2, 1, 1)});
  return cases;
}

TEST(PoolCuda, MaxPoolMatchesCpuBitwise) {
  CS_REQUIRE_CUDA();
  Seeds seeds{seed_for()};
  for (const GpuCase& c : gpu_cases())
    for (bool integers : {false, true}) {  // integers: many ties
      SCOPED_TRACE(describe(c.shape, c.args) + (integers ? " integers" : ""));
      Tensor x = integers ? random_integers(c.shape, seeds.next(), -3, 3)
                          : random_tensor(c.shape, seeds.next());
      if (!integers && x.numel() > 3) {  // a few NaNs must propagate the same way
        float* p = x.data<float>();
        p[x.numel() / 3] = kNan;
        p[x.numel() - 1] = kNan;
      }
      MaxPooled ref = max_pool(x, c.args);
      MaxPooled gpu = max_pool(x.to(Device::cuda()), c.args);
      EXPECT_BITWISE_EQ(gpu.y.to(Device::cpu()), ref.y);
      EXPECT_BITWISE_EQ(gpu.switches.to(Device::cpu()), ref.switches);
      // Backward through the GPU's switches (equal to the CPU's, checked above).
      Tensor gy = random_tensor(ref.y.shape(), seeds.next());
      Tensor ref_gx = max_unpool(gy, ref.switches, c.shape, c.args);
      Tensor ggy = gy.to(Device::cuda());
      Tensor gpu_gx = max_unpool(ggy, gpu.switches, c.shape, c.args);
      EXPECT_BITWISE_EQ(gpu_gx.to(Device::cpu()), ref_gx);
      Tensor again = max_unpool(ggy, gpu.switches, c.shape, c.args);
      EXPECT_BITWISE_EQ(again.to(Device::cpu()), gpu_gx.to(Device::cpu()));  // deterministic
    }
}

TEST(PoolCuda, AvgPoolMatchesCpuBitwise) {
  CS_REQUIRE_CUDA();
  Seeds seeds{seed_for()};
  for (const GpuCase& c : gpu_cases())
    for (bool include : {true, false}) {
      Pool2dArgs a = c.args;
      a.count_include_pad = include;
      SCOPED_TRACE(describe(c.shape, a));
      Tensor x = random_tensor(c.shape, seeds.next());
      Tensor ref = avg_pool(x, a);
      EXPECT_BITWISE_EQ(avg_pool(x.to(Device::cuda()), a).to(Device::cpu()), ref);
      Tensor gy = random_tensor(ref.shape(), seeds.next());
      Tensor ref_gx = avg_pool_backward(gy, c.shape, a);
      Tensor ggy = gy.to(Device::cuda());
      Tensor gpu_gx = avg_pool_backward(ggy, c.shape, a);
      EXPECT_BITWISE_EQ(gpu_gx.to(Device::cpu()), ref_gx);
      EXPECT_BITWISE_EQ(avg_pool_backward(ggy, c.shape, a).to(Device::cpu()), gpu_gx.to(Device::cpu()));
    }
}

TEST(PoolCuda, AdaptiveAvgPoolMatchesCpuBitwise) {
  CS_REQUIRE_CUDA();
  Seeds seeds{seed_for()};
  const std::vector<std::tuple<Shape, int64_t, int64_t>> cases{
      {{1, 1, 1, 1}, 1, 1},      {{2, 3, 13, 13}, 6, 6},  {{1, 4, 7, 7}, 3, 3},
      {{2, 2, 5, 5}, 5, 5},      {{3, 2, 6, 6}, 6, 6},    {{1, 3, 3, 5}, 5, 2},
      {{2, 2, 33, 31}, 7, 13},   {{1, 2, 129, 129}, 31, 33}, {{1, 1, 7, 129}, 129, 1},
      {{4, 256, 6, 6}, 6, 6},    {{2, 256, 13, 13}, 6, 6}};
  for (const auto& [shape, p, q] : cases) {
    SCOPED_TRACE(shape_str(shape) + " -> " + std::to_string(p) + "x" + std::to_string(q));
    Tensor x = random_tensor(shape, seeds.next());
    Tensor ref = adaptive_pool(x, p, q);
    EXPECT_BITWISE_EQ(adaptive_pool(x.to(Device::cuda()), p, q).to(Device::cpu()), ref);
    Tensor gy = random_tensor(ref.shape(), seeds.next());
    Tensor ref_gx = adaptive_pool_backward(gy, shape);
    Tensor ggy = gy.to(Device::cuda());
    Tensor gpu_gx = adaptive_pool_backward(ggy, shape);
    EXPECT_BITWISE_EQ(gpu_gx.to(Device::cpu()), ref_gx);
    EXPECT_BITWISE_EQ(adaptive_pool_backward(ggy, shape).to(Device::cpu()), gpu_gx.to(Device::cpu()));
  }
}

TEST(PoolCuda, EmptyBatchesAreNoOps) {
  CS_REQUIRE_CUDA();
  Tensor x = Tensor::empty({0, 3, 8, 8}, Device::cuda());
  const Pool2dArgs a = pool_args(3, 3, 2, 2);
  MaxPooled r = max_pool(x, a);
  EXPECT_EQ(r.y.numel(), 0);
  EXPECT_EQ(max_unpool(r.y, r.switches, x.shape(), a).numel(), 0);
  EXPECT_EQ(avg_pool_backward(avg_pool(x, a), x.shape(), a).numel(), 0);
  EXPECT_EQ(adaptive_pool_backward(adaptive_pool(x, 6, 6), x.shape()).numel(), 0);
}

}  // namespace
}  // namespace cs
