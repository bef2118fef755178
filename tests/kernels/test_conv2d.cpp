// 2-D convolution: the CPU im2col+GEMM reference against a direct 7-loop
// convolution written here in double, hand-computed cases, shape rules and
// errors, gradchecks in double; the CUDA kernels against the CPU (bitwise on
// whole numbers, within fp32 tolerance on random floats) and for determinism;
// and a host emulation of the CUDA implicit-GEMM kernels' gathers.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cuda/conv2d_tiles.h"
#include "tests/common/gradcheck.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using kernels::Conv2dArgs;
using testing::random_integers;
using testing::random_tensor;
using testing::seed_for;

Conv2dArgs args(int stride, int pad, int dilation = 1, int groups = 1) {
  Conv2dArgs a;
  a.stride_h = a.stride_w = stride;
  a.pad_h = a.pad_w = pad;
  a.dilation_h = a.dilation_w = dilation;
  a.groups = groups;
  return a;
}

// One convolution problem: x (N, C, H, W), w (K, C/groups, R, S).
struct Case {
  int64_t N, C, H, W, K, R, S;
  Conv2dArgs a;

  Shape x_shape() const { return {N, C, H, W}; }
  Shape w_shape() const { return {K, C / a.groups, R, S}; }
  // PyTorch's formula, written out again here.
  int64_t P() const { return (H + 2 * a.pad_h - a.dilation_h * (R - 1) - 1) / a.stride_h + 1; }
  int64_t Q() const { return (W + 2 * a.pad_w - a.dilation_w * (S - 1) - 1) / a.stride_w + 1; }
  Shape y_shape() const { return {N, K, P(), Q()}; }
  std::string str() const {
    std::ostringstream out;
    out << "x " << shape_str(x_shape()) << " w " << shape_str(w_shape()) << " stride ("
        << a.stride_h << "," << a.stride_w << ") pad (" << a.pad_h << "," << a.pad_w
        << ") dilation (" << a.dilation_h << "," << a.dilation_w << ") groups " << a.groups;
    return out.str();
  }
};

Conv2dArgs asymmetric() {  // stride (2, 1), pad (0, 2), dilation (1, 3)
  Conv2dArgs a;
  a.stride_h = 2, a.stride_w = 1, a.pad_h = 0, a.pad_w = 2, a.dilation_h = 1, a.dilation_w = 3;
  return a;
}

// Small enough for the direct reference in double on 2 cores.
const std::vector<Case>& cpu_cases() {
  static const std::vector<Case> cases = {
      {1, 1, 7, 7, 1, 1, 1, args(1, 0)},
      {3, 3, 13, 13, 7, 3, 3, args(1, 1)},
      {1, 7, 31, 33, 16, 5, 5, args(1, 2)},
      {3, 16, 7, 13, 33, 1, 1, args(1, 0)},
      {2, 33, 13, 13, 16, 3, 3, args(2, 1)},
      {1, 3, 33, 31, 8, 7, 7, args(2, 3)},       // ZFNet conv1-like 7x7/2 pad 3
      {3, 16, 13, 13, 16, 3, 3, args(1, 1, 1, 2)},  // groups 2
      {2, 7, 31, 31, 7, 3, 3, args(1, 2, 2)},    // dilation 2
      {1, 6, 33, 33, 4, 5, 5, args(3, 1, 2, 2)},  // stride 3, dilation 2, groups 2
      {2, 4, 13, 13, 6, 3, 3, args(2, 0, 2)},    // stride 2, dilation 2: odd rows get no taps
      {2, 5, 13, 31, 6, 3, 5, asymmetric()},
      {1, 3, 227, 227, 4, 11, 11, args(4, 2)},   // AlexNet conv1, few filters
      {1, 3, 224, 224, 2, 11, 11, args(4, 2)},   // torchvision AlexNet conv1
  };
  return cases;
}

// ---- the direct reference ------------------------------------------------------------

// Calls f(x_index, w_index, y_index) for every multiply of the convolution:
// the seven loops n, k, p, q, c, r, s of the definition, skipping taps that
// fall into the zero padding.
template <class F>
void for_each_tap(const Case& t, F f) {
  const int64_t Cg = t.C / t.a.groups, Kg = t.K / t.a.groups, P = t.P(), Q = t.Q();
  for (int64_t n = 0; n < t.N; ++n)
    for (int64_t k = 0; k < t.K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q)
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t r = 0; r < t.R; ++r)
              for (int64_t s = 0; s < t.S; ++s) {
                const int64_t h = p * t.a.stride_h - t.a.pad_h + r * t.a.dilation_h;
                const int64_t w = q * t.a.stride_w - t.a.pad_w + s * t.a.dilation_w;
                if (h < 0 || h >= t.H || w < 0 || w >= t.W) continue;
                const int64_t ci = (k / Kg) * Cg + c;  // input channel in x
                f(((n * t.C + ci) * t.H + h) * t.W + w, ((k * Cg + c) * t.R + r) * t.S + s,
                  ((n * t.K + k) * P + p) * Q + q);
              }
}

// y = conv(x, w) + b in double (b may be undefined).
Tensor direct_forward(const Case& t, const Tensor& x, const Tensor& w, const Tensor& b) {
  const std::vector<double> xv = x.to_double_vector(), wv = w.to_double_vector();
  std::vector<double> y(shape_numel(t.y_shape()), 0.0);
  for_each_tap(t, [&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += xv[xi] * wv[wi]; });
  if (b.defined()) {
    const std::vector<double> bv = b.to_double_vector();
    const int64_t plane = t.P() * t.Q();
    for (size_t i = 0; i < y.size(); ++i) y[i] += bv[(i / plane) % t.K];
  }
  return Tensor::from_vector(y, t.y_shape());
}

// gx = d(sum gy*y)/dx: every multiply x*w sends gy*w back to x.
Tensor direct_backward_data(const Case& t, const Tensor& gy, const Tensor& w) {
  const std::vector<double> gyv = gy.to_double_vector(), wv = w.to_double_vector();
  std::vector<double> gx(shape_numel(t.x_shape()), 0.0);
  for_each_tap(t, [&](int64_t xi, int64_t wi, int64_t yi) { gx[xi] += gyv[yi] * wv[wi]; });
  return Tensor::from_vector(gx, t.x_shape());
}

// gw = d(sum gy*y)/dw: every multiply x*w sends gy*x back to w.
Tensor direct_backward_weight(const Case& t, const Tensor& x, const Tensor& gy) {
  const std::vector<double> xv = x.to_double_vector(), gyv = gy.to_double_vector();
  std::vector<double> gw(shape_numel(t.w_shape()), 0.0);
  for_each_tap(t, [&](int64_t xi, int64_t wi, int64_t yi) { gw[wi] += gyv[yi] * xv[xi]; });
  return Tensor::from_vector(gw, t.w_shape());
}

Tensor direct_backward_bias(const Case& t, const Tensor& gy) {
  const std::vector<double> gyv = gy.to_double_vector();
  std::vector<double> gb(t.K, 0.0);
  const int64_t plane = t.P() * t.Q();
  for (size_t i = 0; i < gyv.size(); ++i) gb[(i / plane) % t.K] += gyv[i];
  return Tensor::from_vector(gb, {t.K});
}

// ---- helpers ----------------------------------------------------------------------------

struct Inputs {
  Tensor x, w, b, gy;
};

Inputs make_inputs(const Case& t, bool integers, const std::string& tag,
                   DType dtype = DType::F32) {
  auto make = [&](const Shape& shape, const char* name) {
    const uint64_t seed = seed_for(tag + name);
    return integers ? random_integers(shape, seed, -3, 3, Device::cpu(), dtype)
                    : random_tensor(shape, seed, -1.0, 1.0, Device::cpu(), dtype);
  };
  return {make(t.x_shape(), "x"), make(t.w_shape(), "w"), make({t.K}, "b"), make(t.y_shape(), "gy")};
}

Tensor nan_tensor(const Shape& shape, Device device = Device::cpu(), DType dtype = DType::F32) {
  return Tensor::full(shape, std::numeric_limits<double>::quiet_NaN(), device, dtype);
}

// The four results of one case, computed by the library on the inputs' device.
struct Results {
  Tensor y, gx, gw, gb;
};

Results run_all(const Case& t, const Inputs& in, bool with_bias = true) {
  const Device d = in.x.device();
  const DType dt = in.x.dtype();
  Results r{nan_tensor(t.y_shape(), d, dt), nan_tensor(t.x_shape(), d, dt),
            nan_tensor(t.w_shape(), d, dt), nan_tensor({t.K}, d, dt)};
  kernels::conv2d_forward(in.x, in.w, with_bias ? in.b : Tensor(), r.y, t.a);
  kernels::conv2d_backward_data(in.gy, in.w, r.gx, t.a);
  kernels::conv2d_backward_weight(in.x, in.gy, r.gw, t.a);
  kernels::conv2d_backward_bias(in.gy, r.gb);
  return r;
}

Inputs to_device(const Inputs& in, Device d) {
  return {in.x.to(d), in.w.to(d), in.b.to(d), in.gy.to(d)};
}

// Exact equality that also fails on NaN and on an all-zero reference.
::testing::AssertionResult exactly(const Tensor& actual, const Tensor& reference) {
  auto equal = testing::all_equal(actual, reference);
  if (!equal) return equal;
  return testing::all_close(actual, reference, 0.0, 0.0);
}

// Expects `f` to throw a cs::Error whose message contains every fragment.
void expect_error(const std::function<void()>& f, std::vector<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "no error thrown; expected one mentioning '" << fragments[0] << "'";
  } catch (const Error& e) {
    for (const std::string& fragment : fragments)
      EXPECT_NE(e.message().find(fragment), std::string::npos)
          << "message '" << e.message() << "' lacks '" << fragment << "'";
    EXPECT_EQ(e.message().find('\n'), std::string::npos) << "not one line: " << e.message();
  }
}

// ---- shapes and errors ---------------------------------------------------------------------

TEST(Conv2d, OutputShapeFollowsPyTorchFormula) {
  using kernels::conv2d_output_shape;
  // AlexNet conv1 (torchvision, 224) and the original (227): 11x11, stride 4, pad 2.
  EXPECT_EQ(conv2d_output_shape({128, 3, 224, 224}, {64, 3, 11, 11}, args(4, 2)),
            (Shape{128, 64, 55, 55}));
  EXPECT_EQ(conv2d_output_shape({1, 3, 227, 227}, {96, 3, 11, 11}, args(4, 2)),
            (Shape{1, 96, 56, 56}));
  // ZFNet conv1: 7x7, stride 2, pad 3 (floor of 223/2 + 1).
  EXPECT_EQ(conv2d_output_shape({2, 3, 224, 224}, {96, 3, 7, 7}, args(2, 3)),
            (Shape{2, 96, 112, 112}));
  // AlexNet conv2 with two groups.
  EXPECT_EQ(conv2d_output_shape({1, 96, 27, 27}, {256, 48, 5, 5}, args(1, 2, 1, 2)),
            (Shape{1, 256, 27, 27}));
  // Dilation 2: the 3x3 kernel spans 5x5.
  EXPECT_EQ(conv2d_output_shape({1, 1, 7, 9}, {1, 1, 3, 3}, args(1, 0, 2)), (Shape{1, 1, 3, 5}));
  // Floor: 8 rows, kernel 3, stride 2 -> 3 outputs (the last row unused).
  EXPECT_EQ(conv2d_output_shape({1, 1, 8, 8}, {1, 1, 3, 3}, args(2, 0)), (Shape{1, 1, 3, 3}));
  // Kernel as large as the padded input: a single output; an empty batch stays empty.
  EXPECT_EQ(conv2d_output_shape({0, 2, 3, 3}, {4, 2, 5, 5}, args(1, 1)), (Shape{0, 4, 1, 1}));
  // Stride (2, 1), pad (0, 2), dilation (1, 3): (13-3)/2+1 = 6 rows, (13+4-13)/1+1 = 5 columns.
  EXPECT_EQ(conv2d_output_shape({1, 2, 13, 13}, {3, 2, 3, 5}, asymmetric()),
            (Shape{1, 3, 6, 5}));
}

TEST(Conv2d, RejectsBadArgumentsWithOneLineMessages) {
  using kernels::conv2d_output_shape;
  expect_error([] { conv2d_output_shape({3, 8, 8}, {4, 3, 3, 3}, args(1, 0)); },
               {"x must be 4-D", "[3, 8, 8]"});
  expect_error([] { conv2d_output_shape({1, 3, 8, 8}, {4, 3, 3}, args(1, 0)); },
               {"w must be 4-D", "[4, 3, 3]"});
  expect_error([] { conv2d_output_shape({1, 6, 8, 8}, {8, 2, 3, 3}, args(1, 0, 1, 4)); },
               {"6 channels", "groups=4", "[1, 6, 8, 8]", "[8, 2, 3, 3]"});
  expect_error([] { conv2d_output_shape({1, 6, 8, 8}, {9, 3, 3, 3}, args(1, 0, 1, 2)); },
               {"9 output channels", "groups=2"});
  expect_error([] { conv2d_output_shape({1, 6, 8, 8}, {4, 6, 3, 3}, args(1, 0, 1, 2)); },
               {"second dimension", "C/groups", "= 3", "got 6"});
  expect_error([] { conv2d_output_shape({1, 3, 8, 8}, {4, 3, 3, 3}, args(0, 0)); },
               {"stride must be positive"});
  expect_error([] { conv2d_output_shape({1, 3, 8, 8}, {4, 3, 3, 3}, args(1, 0, 0)); },
               {"dilation must be positive"});
  expect_error([] { conv2d_output_shape({1, 3, 8, 8}, {4, 3, 3, 3}, args(1, -1)); },
               {"padding must be non-negative"});
  expect_error([] { conv2d_output_shape({1, 3, 8, 8}, {4, 3, 3, 3}, args(1, 0, 1, 0)); },
               {"groups must be positive"});
  expect_error([] { conv2d_output_shape({1, 3, 4, 4}, {4, 3, 5, 5}, args(1, 0)); },
               {"empty output", "4x4", "5x5"});
  expect_error([] { conv2d_output_shape({1, 3, 4, 9}, {4, 3, 3, 3}, args(1, 0, 2)); },
               {"empty output", "dilated kernel is 5x5"});
  // Tensors: bias shape, output shapes, dtypes.
  const Tensor x = Tensor::zeros({2, 3, 8, 8}), w = Tensor::zeros({4, 3, 3, 3});
  Tensor y = Tensor::zeros({2, 4, 6, 6});
  expect_error([&] { kernels::conv2d_forward(x, w, Tensor::zeros({3}), y, args(1, 0)); },
               {"conv2d_forward", "bias must be (4)", "[3]"});
  Tensor y_bad = Tensor::zeros({2, 4, 8, 8});
  expect_error([&] { kernels::conv2d_forward(x, w, Tensor(), y_bad, args(1, 0)); },
               {"y must be [2, 4, 6, 6]", "[2, 4, 8, 8]"});
  Tensor gx = Tensor::zeros({2, 3, 8, 8});
  expect_error([&] { kernels::conv2d_backward_data(Tensor::zeros({2, 4, 5, 5}), w, gx, args(1, 0)); },
               {"conv2d_backward_data", "gy must be [2, 4, 6, 6]"});
  Tensor gw = Tensor::zeros({4, 3, 3, 3});
  expect_error([&] { kernels::conv2d_backward_weight(x, Tensor::zeros({2, 5, 6, 6}), gw, args(1, 0)); },
               {"conv2d_backward_weight", "gy must be [2, 4, 6, 6]"});
  Tensor gb = Tensor::zeros({5});
  expect_error([&] { kernels::conv2d_backward_bias(y, gb); }, {"gb must be (4)", "[5]"});
  expect_error([&] { kernels::conv2d_backward_bias(Tensor::zeros({4, 6}), gb); },
               {"gy must be 4-D"});
  const Tensor w64 = Tensor::zeros({4, 3, 3, 3}, Device::cpu(), DType::F64);
  expect_error([&] { kernels::conv2d_forward(x, w64, Tensor(), y, args(1, 0)); }, {"mixed dtypes"});
  expect_error([&] { kernels::conv2d_forward_cuda_variant("direct", x, w, Tensor(), y, args(1, 0)); },
               {"CUDA device"});
}

// ---- hand-computed cases -----------------------------------------------------------------------

TEST(Conv2d, HandComputedForward) {
  // x = 1..9 as 3x3, w = [[1, 2], [3, 4]]: y[p][q] = x[p][q] + 2x[p][q+1] + 3x[p+1][q] + 4x[p+1][q+1].
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Tensor w = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = Tensor::empty({1, 1, 2, 2});
  kernels::conv2d_forward(x, w, Tensor::from_vector(std::vector<float>{0.5f}, {1}), y, args(1, 0));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{37.5f, 47.5f, 67.5f, 77.5f}));

  // 3x3 ones, pad 1, stride 2: each output sums the in-image part of a 3x3 window at (-1,-1) + 2(p,q).
  const Tensor ones = Tensor::full({1, 1, 3, 3}, 1.0);
  kernels::conv2d_forward(x, ones, Tensor(), y, args(2, 1));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{12, 16, 24, 28}));

  // Groups 2: each output channel sees only its own input channel.
  const Tensor x2 = Tensor::from_vector(std::vector<float>{2, 3}, {1, 2, 1, 1});
  const Tensor w2 = Tensor::from_vector(std::vector<float>{10, 100}, {2, 1, 1, 1});
  Tensor y2 = Tensor::empty({1, 2, 1, 1});
  kernels::conv2d_forward(x2, w2, Tensor(), y2, args(1, 0, 1, 2));
  EXPECT_EQ(y2.to_vector<float>(), (std::vector<float>{20, 300}));

  // Dilation 2 along a row: y[q] = x[q] + x[q+2].
  const Tensor x3 = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5}, {1, 1, 1, 5});
  const Tensor w3 = Tensor::from_vector(std::vector<float>{1, 1}, {1, 1, 1, 2});
  Tensor y3 = Tensor::empty({1, 1, 1, 3});
  kernels::conv2d_forward(x3, w3, Tensor(), y3, args(1, 0, 2));
  EXPECT_EQ(y3.to_vector<float>(), (std::vector<float>{4, 6, 8}));

  // Cross-correlation, not convolution: the kernel is not flipped.
  const Tensor x4 = Tensor::from_vector(std::vector<float>{1, 10, 100}, {1, 1, 1, 3});
  const Tensor w4 = Tensor::from_vector(std::vector<float>{1, 2, 3}, {1, 1, 1, 3});
  Tensor y4 = Tensor::empty({1, 1, 1, 1});
  kernels::conv2d_forward(x4, w4, Tensor(), y4, args(1, 0));
  EXPECT_EQ(y4.item(), 321.0);
}

TEST(Conv2d, HandComputedBackward) {
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Tensor w = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {1, 1, 2, 2});
  const Tensor gy = Tensor::full({1, 1, 2, 2}, 1.0);
  // gx[h][w] = sum of the weights that touch (h, w) over the four windows.
  Tensor gx = Tensor::empty({1, 1, 3, 3});
  kernels::conv2d_backward_data(gy, w, gx, args(1, 0));
  EXPECT_EQ(gx.to_vector<float>(), (std::vector<float>{1, 3, 2, 4, 10, 6, 3, 7, 4}));
  // gw[r][s] = sum of the 2x2 block of x starting at (r, s).
  Tensor gw = Tensor::empty({1, 1, 2, 2});
  kernels::conv2d_backward_weight(x, gy, gw, args(1, 0));
  EXPECT_EQ(gw.to_vector<float>(), (std::vector<float>{12, 16, 24, 28}));
  // gb[k] = sum of gy over batch and pixels.
  const Tensor gy2 = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 1, 2});
  Tensor gb = Tensor::empty({2});
  kernels::conv2d_backward_bias(gy2, gb);
  EXPECT_EQ(gb.to_vector<float>(), (std::vector<float>{1 + 2 + 5 + 6, 3 + 4 + 7 + 8}));
  // Stride 2 on 3 inputs, kernel 1: only inputs 0 and 2 are used; input 1 gets 0.
  const Tensor w1 = Tensor::from_vector(std::vector<float>{3}, {1, 1, 1, 1});
  const Tensor gy1 = Tensor::from_vector(std::vector<float>{1, 2}, {1, 1, 1, 2});
  Tensor gx1 = Tensor::full({1, 1, 1, 3}, 99.0);
  kernels::conv2d_backward_data(gy1, w1, gx1, args(2, 0));
  EXPECT_EQ(gx1.to_vector<float>(), (std::vector<float>{3, 0, 6}));
}

// ---- CPU against the direct reference ---------------------------------------------------------

TEST(Conv2d, CpuMatchesDirectReferenceOnWholeNumbers) {
  // Whole numbers in [-3, 3]: every sum is exact, so the im2col+GEMM result
  // must equal the direct loops bit for bit, in f32 and f64.
  for (const Case& t : cpu_cases()) {
    SCOPED_TRACE(t.str());
    for (DType dt : {DType::F32, DType::F64}) {
      const Inputs in = make_inputs(t, true, "int", dt);
      const Results r = run_all(t, in);
      EXPECT_TRUE(exactly(r.y, direct_forward(t, in.x, in.w, in.b).to(dt)));
      EXPECT_TRUE(exactly(r.gx, direct_backward_data(t, in.gy, in.w).to(dt)));
      EXPECT_TRUE(exactly(r.gw, direct_backward_weight(t, in.x, in.gy).to(dt)));
      EXPECT_TRUE(exactly(r.gb, direct_backward_bias(t, in.gy).to(dt)));
      if (t.N * t.H * t.W > 20000) break;  // the large images once, in f32
    }
  }
}

TEST(Conv2d, CpuMatchesDirectReferenceOnRandomFloats) {
  for (const Case& t : cpu_cases()) {
    if (t.N * t.H * t.W > 20000) continue;  // covered on whole numbers above
    SCOPED_TRACE(t.str());
    const Inputs in = make_inputs(t, false, "float");
    const Results r = run_all(t, in, false);
    // fp32 sums of L terms in [-1, 1]: errors grow with the reduction length L.
    const double l_fwd = static_cast<double>(t.C / t.a.groups * t.R * t.S);
    const double l_bwd = static_cast<double>(t.N * t.P() * t.Q());
    EXPECT_CLOSE(r.y, direct_forward(t, in.x, in.w, Tensor()).to(DType::F32), 1e-6 * l_fwd, 1e-5);
    EXPECT_CLOSE(r.gx, direct_backward_data(t, in.gy, in.w).to(DType::F32),
                 1e-6 * (t.K / t.a.groups) * t.R * t.S, 1e-5);
    EXPECT_CLOSE(r.gw, direct_backward_weight(t, in.x, in.gy).to(DType::F32), 1e-6 * l_bwd, 1e-5);
    EXPECT_CLOSE(r.gb, direct_backward_bias(t, in.gy).to(DType::F32), 1e-6 * l_bwd, 1e-5);
    // And in double, to rounding.
    const Inputs in64 = make_inputs(t, false, "float", DType::F64);
    const Results r64 = run_all(t, in64);
    EXPECT_CLOSE(r64.y, direct_forward(t, in64.x, in64.w, in64.b), 1e-12, 1e-12);
    EXPECT_CLOSE(r64.gx, direct_backward_data(t, in64.gy, in64.w), 1e-12, 1e-12);
    EXPECT_CLOSE(r64.gw, direct_backward_weight(t, in64.x, in64.gy), 1e-12, 1e-12);
  }
}

TEST(Conv2d, EmptyBatchGivesZeroGradients) {
  const Case t{0, 4, 7, 7, 6, 3, 3, args(1, 1, 1, 2)};
  Tensor x = Tensor::zeros(t.x_shape()), w = Tensor::full(t.w_shape(), 1.0);
  Tensor y = Tensor::zeros(t.y_shape()), gy = Tensor::zeros(t.y_shape());
  kernels::conv2d_forward(x, w, Tensor::zeros({6}), y, t.a);  // nothing to do
  Tensor gx = Tensor::zeros(t.x_shape());
  kernels::conv2d_backward_data(gy, w, gx, t.a);
  Tensor gw = Tensor::full(t.w_shape(), 7.0), gb = Tensor::full({6}, 7.0);
  kernels::conv2d_backward_weight(x, gy, gw, t.a);
  kernels::conv2d_backward_bias(gy, gb);
  EXPECT_TRUE(testing::all_close(gw, Tensor::zeros(t.w_shape()), 0, 0, true));
  EXPECT_TRUE(testing::all_close(gb, Tensor::zeros({6}), 0, 0, true));
}

TEST(Conv2d, OverwritesOutputsAndIsDeterministic) {
  const Case t{3, 6, 13, 13, 8, 3, 3, args(2, 1, 1, 2)};
  const Inputs in = make_inputs(t, false, "det");
  const Results a = run_all(t, in), b = run_all(t, in);  // both start from NaN outputs
  EXPECT_TRUE(exactly(a.y, b.y));
  EXPECT_TRUE(exactly(a.gx, b.gx));
  EXPECT_TRUE(exactly(a.gw, b.gw));
  EXPECT_TRUE(exactly(a.gb, b.gb));
}

TEST(Conv2d, ChunkedBatchesMatchOneImageAtATime) {
  // The CPU batches small images several per GEMM (12x12: 8 per chunk, so 37
  // images make 4 full chunks and a partial one) and runs large ones (32x32)
  // one per chunk in place. Either way each image's results are what it gives
  // alone, and gw is the sum of the per-image gw.
  for (const Case& t : {Case{37, 6, 12, 12, 4, 3, 3, args(1, 1, 1, 2)},
                        Case{5, 8, 32, 32, 3, 3, 3, args(1, 1)}}) {
    SCOPED_TRACE(t.str());
    const Case one{1, t.C, t.H, t.W, t.K, t.R, t.S, t.a};
    const Inputs in = make_inputs(t, true, "chunk");
    Tensor y = Tensor::empty(t.y_shape()), gx = Tensor::empty(t.x_shape());
    Tensor gw = Tensor::empty(t.w_shape());
    kernels::conv2d_forward(in.x, in.w, in.b, y, t.a);
    kernels::conv2d_backward_data(in.gy, in.w, gx, t.a);
    kernels::conv2d_backward_weight(in.x, in.gy, gw, t.a);
    std::vector<double> gw_sum(shape_numel(t.w_shape()), 0.0);
    for (int64_t n = 0; n < t.N; ++n) {
      SCOPED_TRACE(::testing::Message() << "image " << n);
      Tensor y1 = Tensor::empty(one.y_shape()), gx1 = Tensor::empty(one.x_shape());
      Tensor gw1 = Tensor::empty(one.w_shape());
      kernels::conv2d_forward(in.x.narrow(n, 1), in.w, in.b, y1, t.a);
      kernels::conv2d_backward_data(in.gy.narrow(n, 1), in.w, gx1, t.a);
      kernels::conv2d_backward_weight(in.x.narrow(n, 1), in.gy.narrow(n, 1), gw1, t.a);
      EXPECT_TRUE(exactly(y.narrow(n, 1), y1));
      EXPECT_TRUE(exactly(gx.narrow(n, 1), gx1));
      EXPECT_TRUE(exactly(y1, direct_forward(one, in.x.narrow(n, 1), in.w, in.b).to(DType::F32)));
      const std::vector<double> v = gw1.to_double_vector();
      for (size_t i = 0; i < v.size(); ++i) gw_sum[i] += v[i];
    }
    EXPECT_TRUE(exactly(gw, Tensor::from_vector(gw_sum, t.w_shape()).to(DType::F32)));
  }
}

// ---- gradients ---------------------------------------------------------------------------------

TEST(Conv2d, GradcheckInDouble) {
  const std::vector<Case> cases = {
      {2, 3, 6, 7, 4, 3, 3, args(1, 0)},
      {2, 2, 7, 7, 3, 3, 3, args(2, 1)},        // stride 2, padding
      {1, 3, 9, 8, 2, 3, 3, args(1, 1, 2)},     // dilation 2
      {2, 4, 5, 6, 6, 3, 2, args(1, 1, 1, 2)},  // groups 2
      {1, 4, 9, 9, 4, 3, 3, args(2, 2, 2, 2)},  // all at once
      {1, 2, 7, 9, 2, 2, 3, asymmetric()},
  };
  for (const Case& t : cases) {
    SCOPED_TRACE(t.str());
    const Conv2dArgs a = t.a;
    const Shape y_shape = t.y_shape();
    auto forward = [a, y_shape](const std::vector<Tensor>& in) {
      Tensor y = Tensor::empty(y_shape, Device::cpu(), DType::F64);
      kernels::conv2d_forward(in[0], in[1], in[2], y, a);
      return y;
    };
    auto backward = [a](const std::vector<Tensor>& in, const Tensor& gy) {
      Tensor gx = Tensor::empty_like(in[0]), gw = Tensor::empty_like(in[1]),
             gb = Tensor::empty_like(in[2]);
      kernels::conv2d_backward_data(gy, in[1], gx, a);
      kernels::conv2d_backward_weight(in[0], gy, gw, a);
      kernels::conv2d_backward_bias(gy, gb);
      return std::vector<Tensor>{gx, gw, gb};
    };
    const uint64_t seed = seed_for("grad");
    const std::vector<Tensor> inputs = {
        random_tensor(t.x_shape(), seed, -1, 1, Device::cpu(), DType::F64),
        random_tensor(t.w_shape(), seed + 1, -1, 1, Device::cpu(), DType::F64),
        random_tensor({t.K}, seed + 2, -1, 1, Device::cpu(), DType::F64)};
    EXPECT_TRUE(testing::gradcheck(forward, backward, inputs));
  }
}

// ---- host emulation of the CUDA implicit-GEMM kernels ------------------------------------------
//
// Runs the kernels' loaders (conv2d_tiles.h) thread by thread, block by block,
// exactly as the kernels index memory, with shared-memory tiles that start as
// NaN each step (a slot no thread writes poisons the result) and outputs that
// start as NaN (an output no thread writes fails the comparison).

namespace ct = kernels::conv_tiles;
using Small = ct::SmallTile;  // the tiles kernels/cuda/conv2d.cu launches
using Large = ct::LargeTile;

ct::ConvGeom geom_of(const Case& t) {
  ct::ConvGeom g;
  g.N = int(t.N), g.C = int(t.C), g.H = int(t.H), g.W = int(t.W), g.K = int(t.K);
  g.R = int(t.R), g.S = int(t.S), g.P = int(t.P()), g.Q = int(t.Q());
  g.sh = t.a.stride_h, g.sw = t.a.stride_w, g.ph = t.a.pad_h, g.pw = t.a.pad_w;
  g.dh = t.a.dilation_h, g.dw = t.a.dilation_w;
  g.groups = t.a.groups, g.Cg = int(t.C / t.a.groups), g.Kg = int(t.K / t.a.groups);
  return g;
}

// One block of block_gemm (kernels/cuda/conv2d.cu), serially.
template <class Cfg, class ALoader, class BLoader, class Store>
void emulate_block(std::vector<ALoader>& a, std::vector<BLoader>& b, int t_len, const Store& out,
                   int m0, int n0) {
  constexpr int NT = Cfg::kThreads, BK = Cfg::BK, TM = Cfg::TM, TN = Cfg::TN;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> As(BK * Cfg::kLdA), Bs(BK * Cfg::kLdB);
  std::vector<float> acc(static_cast<size_t>(NT) * TM * TN, 0.0f);
  const int tiles = (t_len + BK - 1) / BK;
  for (int kt = 0; kt < tiles; ++kt) {
    std::fill(As.begin(), As.end(), nan);
    std::fill(Bs.begin(), Bs.end(), nan);
    for (int tid = 0; tid < NT; ++tid) {
      if (kt > 0) a[tid].advance(), b[tid].advance();
      float ra[Cfg::kALoads], rb[Cfg::kBLoads];
      a[tid].load(ra);
      b[tid].load(rb);
      for (int i = 0; i < Cfg::kALoads; ++i)
        As[ALoader::tile_k(tid, i) * Cfg::kLdA + ALoader::tile_mn(tid, i)] = ra[i];
      for (int i = 0; i < Cfg::kBLoads; ++i)
        Bs[BLoader::tile_k(tid, i) * Cfg::kLdB + BLoader::tile_mn(tid, i)] = rb[i];
    }
    for (int tid = 0; tid < NT; ++tid) {
      const int tx = tid % Cfg::kThreadsN, ty = tid / Cfg::kThreadsN;
      for (int kk = 0; kk < BK; ++kk)
        for (int i = 0; i < TM; ++i)
          for (int j = 0; j < TN; ++j)
            acc[(static_cast<size_t>(tid) * TM + i) * TN + j] +=
                As[kk * Cfg::kLdA + Cfg::acc_row(ty, i)] * Bs[kk * Cfg::kLdB + Cfg::acc_col(tx, j)];
    }
  }
  for (int tid = 0; tid < NT; ++tid) {
    const int tx = tid % Cfg::kThreadsN, ty = tid / Cfg::kThreadsN;
    for (int i = 0; i < TM; ++i)
      for (int j = 0; j < TN; j += 4) {
        const float* v = &acc[(static_cast<size_t>(tid) * TM + i) * TN + j];
        const float v4[4] = {v[0], v[1], v[2], v[3]};
        out.store4(m0 + Cfg::acc_row(ty, i), n0 + Cfg::acc_col(tx, j), v4);
      }
  }
}

template <class Cfg>
Tensor emulate_forward(const Case& t, const Tensor& x, const Tensor& w, const Tensor& b) {
  const ct::ConvGeom g = geom_of(t);
  Tensor y = nan_tensor(t.y_shape());
  const int cols = g.N * g.P * g.Q;
  for (int group = 0; group < g.groups; ++group)
    for (int m0 = 0; m0 < g.Kg; m0 += Cfg::BM)
      for (int n0 = 0; n0 < cols; n0 += Cfg::BN) {
        std::vector<ct::FwdWeightLoader<Cfg>> a;
        std::vector<ct::FwdInputLoader<Cfg>> bl;
        for (int tid = 0; tid < Cfg::kThreads; ++tid) {
          a.emplace_back(w.data<float>(), g, group, m0, tid);
          bl.emplace_back(x.data<float>(), g, group, n0, tid);
        }
        const ct::FwdStore out{y.data<float>(), b.data<float>(), group, g.Kg, g.K, g.P * g.Q, cols,
                               false};
        emulate_block<Cfg>(a, bl, g.Cg * g.R * g.S, out, m0, n0);
      }
  return y;
}

template <class Cfg>
Tensor emulate_backward_data(const Case& t, const Tensor& gy, const Tensor& w) {
  const ct::ConvGeom g = geom_of(t);
  Tensor gx = nan_tensor(t.x_shape());
  const int cols0 = g.N * ((g.H + g.sh - 1) / g.sh) * ((g.W + g.sw - 1) / g.sw);
  for (int z = 0; z < g.groups * g.sh * g.sw; ++z) {
    const int group = z / (g.sh * g.sw);
    const ct::BwdDataPhase ph = ct::bwd_data_phase(g, z % (g.sh * g.sw));
    for (int m0 = 0; m0 < g.Cg; m0 += Cfg::BM)
      for (int n0 = 0; n0 < cols0; n0 += Cfg::BN) {
        if (n0 >= ph.cols) continue;
        std::vector<ct::BwdDataWeightLoader<Cfg>> a;
        std::vector<ct::BwdDataGradLoader<Cfg>> b;
        for (int tid = 0; tid < Cfg::kThreads; ++tid) {
          a.emplace_back(w.data<float>(), g, ph, group, m0, tid);
          b.emplace_back(gy.data<float>(), g, ph, group, n0, tid);
        }
        const ct::BwdDataStore out{gx.data<float>(), group, g.Cg, g.C, g.H, g.W, g.sh, g.sw,
                                   ph.ah, ph.aw, ph.Hph, ph.Wph, ph.cols};
        emulate_block<Cfg>(a, b, ph.t_end, out, m0, n0);
      }
  }
  return gx;
}

template <class Cfg>
Tensor emulate_backward_weight(const Case& t, const Tensor& x, const Tensor& gy) {
  const ct::ConvGeom g = geom_of(t);
  const int crs = g.Cg * g.R * g.S, length = g.N * g.P * g.Q;
  const int64_t tiles = int64_t{(g.Kg + Cfg::BM - 1) / Cfg::BM} * ((crs + Cfg::BN - 1) / Cfg::BN) * g.groups;
  const ct::SplitPlan plan = ct::split_plan(length, tiles, Cfg::BK);
  Tensor partial = nan_tensor({plan.splits, g.K, crs});
  for (int split = 0; split < plan.splits; ++split) {
    const int t_begin = split * plan.chunk, t_end = std::min(length, t_begin + plan.chunk);
    for (int group = 0; group < g.groups; ++group)
      for (int m0 = 0; m0 < g.Kg; m0 += Cfg::BM)
        for (int n0 = 0; n0 < crs; n0 += Cfg::BN) {
          std::vector<ct::BwdWeightGradLoader<Cfg>> a;
          std::vector<ct::BwdWeightInputLoader<Cfg>> b;
          for (int tid = 0; tid < Cfg::kThreads; ++tid) {
            a.emplace_back(gy.data<float>(), g, group, m0, t_begin, t_end, tid);
            b.emplace_back(x.data<float>(), g, group, n0, t_begin, t_end, tid);
          }
          const ct::BwdWeightStore out{partial.data<float>() + int64_t{split} * g.K * crs, group,
                                       g.Kg, crs, false};
          emulate_block<Cfg>(a, b, std::max(t_end - t_begin, 0), out, m0, n0);
        }
  }
  // The fixed-order sum of the splits (sum_splits_kernel).
  std::vector<float> p = partial.to_vector<float>(), gw(static_cast<size_t>(g.K) * crs, 0.0f);
  for (int split = 0; split < plan.splits; ++split)
    for (size_t i = 0; i < gw.size(); ++i) gw[i] += p[split * gw.size() + i];
  return Tensor::from_vector(gw, t.w_shape());
}

TEST(Conv2dTiles, PhaseTapsListTheTapsThatReachAnOutput) {
  // Brute force over strides, dilations, paddings and phases: the taps r of
  // phase a are exactly those with (a + pad - r*dil) divisible by the stride.
  for (int stride = 1; stride <= 4; ++stride)
    for (int dil = 1; dil <= 3; ++dil)
      for (int pad = 0; pad <= 3; ++pad)
        for (int R = 1; R <= 7; ++R)
          for (int a = 0; a < stride; ++a) {
            const ct::PhaseTaps taps = ct::phase_taps(a, pad, dil, stride, R);
            std::vector<int> expected, got;
            for (int r = 0; r < R; ++r)
              if ((a + pad - r * dil) % stride == 0) expected.push_back(r);
            for (int j = 0; j < taps.count; ++j) {
              const int r = taps.first + j * taps.step;
              got.push_back(r);
              // output row of input row h = a + i*stride is i + offset - j*out_step
              EXPECT_EQ((a + pad - r * dil) / stride, taps.offset - j * taps.out_step);
            }
            EXPECT_EQ(got, expected) << "stride " << stride << " dil " << dil << " pad " << pad
                                     << " R " << R << " a " << a;
          }
}

TEST(Conv2dTiles, HostEmulationOfGpuKernelsMatchesReference) {
  std::vector<Case> cases = {
      {1, 1, 7, 7, 1, 1, 1, args(1, 0)},
      {3, 3, 13, 13, 7, 3, 3, args(1, 1)},
      {1, 7, 13, 11, 16, 5, 5, args(1, 2)},
      {2, 33, 7, 7, 16, 3, 3, args(2, 1)},
      {1, 3, 31, 33, 8, 7, 7, args(2, 3)},
      {2, 16, 7, 9, 16, 3, 3, args(1, 1, 1, 2)},
      {2, 7, 13, 13, 7, 3, 3, args(1, 2, 2)},
      {1, 6, 17, 17, 4, 5, 5, args(3, 1, 2, 2)},
      {2, 4, 13, 13, 6, 3, 3, args(2, 0, 2)},
      {2, 5, 13, 17, 6, 3, 5, asymmetric()},
      {1, 3, 47, 47, 4, 11, 11, args(4, 2)},
      {1, 5, 9, 9, 129, 3, 3, args(1, 1)},   // more rows than one large tile
      {2, 130, 5, 5, 3, 3, 3, args(1, 1)},   // more backward-data rows than one large tile
  };
  for (const Case& t : cases) {
    SCOPED_TRACE(t.str());
    const Inputs in = make_inputs(t, true, "emu");
    const Tensor y = direct_forward(t, in.x, in.w, in.b).to(DType::F32);
    const Tensor gx = direct_backward_data(t, in.gy, in.w).to(DType::F32);
    const Tensor gw = direct_backward_weight(t, in.x, in.gy).to(DType::F32);
    EXPECT_TRUE(exactly(emulate_forward<Small>(t, in.x, in.w, in.b), y));
    EXPECT_TRUE(exactly(emulate_backward_data<Small>(t, in.gy, in.w), gx));
    EXPECT_TRUE(exactly(emulate_backward_weight<Small>(t, in.x, in.gy), gw));
    if (t.K >= 16 || t.C >= 16) {  // the large tile where it gets more than one row of threads busy
      EXPECT_TRUE(exactly(emulate_forward<Large>(t, in.x, in.w, in.b), y));
      EXPECT_TRUE(exactly(emulate_backward_data<Large>(t, in.gy, in.w), gx));
      EXPECT_TRUE(exactly(emulate_backward_weight<Large>(t, in.x, in.gy), gw));
    }
  }
}

TEST(Conv2dTiles, SplitPlanCoversTheReductionOnce) {
  for (int64_t length : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{513}, int64_t{6050},
                         int64_t{387200}})
    for (int64_t tiles : {int64_t{1}, int64_t{6}, int64_t{300}}) {
      const ct::SplitPlan plan = ct::split_plan(length, tiles, 8);
      EXPECT_GE(plan.splits, 1);
      EXPECT_EQ(plan.chunk % 8, 0);
      if (length > 0) {
        EXPECT_GE(int64_t{plan.splits} * plan.chunk, length);
        EXPECT_LT(int64_t{plan.splits - 1} * plan.chunk, length);  // no empty split
      }
    }
}

// ---- GPU -----------------------------------------------------------------------------------------

// The CPU grid plus real layer shapes and off-tile sizes. Batch 1-2 for the
// large images keeps the CPU reference quick.
//
// In the simulator (!full_gpu_shapes()) the whole layers give way to smaller
// shapes that take the same paths of conv2d.cu: the same tile for each pass
// (backward-weight's large tile needs Kg >= 96 and Cg*R*S >= 96; backward-data's
// production large tile Cg >= 96 and >= 264 blocks; the production forward
// takes the small tile for every shape here), one or several backward-weight
// splits (N*P*Q > 512 and fewer than 264 tiles split), float4 stores or not
// (P*Q, Cg*R*S divisible by 4), one or several bias splits (N > 1), and the
// same strides (so stride phases), paddings, groups and kernel sizes. Each
// reduced shape stands for the full one in its place (reduced_backward_data
// for the two backward-data ones), and its comment gives the paths both take.
// A test of the forward pass alone (Passes::Forward) leaves out, in the
// simulator, the two shapes there for backward-data's large tile: their
// forward takes the paths of the others, and is most of the simulated time.
enum class Passes { Forward, All };

std::vector<Case> gpu_cases(Passes passes = Passes::All) {
  std::vector<Case> cases = cpu_cases();
  const std::vector<Case> full = {
      {1, 3, 227, 227, 96, 11, 11, args(4, 2)},      // AlexNet conv1 (original, 96 filters)
      {2, 3, 224, 224, 64, 11, 11, args(4, 2)},      // AlexNet conv1 (torchvision)
      {1, 96, 27, 27, 256, 5, 5, args(1, 2, 1, 2)},  // AlexNet conv2, two groups
      {1, 256, 13, 13, 384, 3, 3, args(1, 1)},       // AlexNet conv3
      {2, 384, 13, 13, 256, 3, 3, args(1, 1, 1, 2)}, // AlexNet conv4, two groups
      {2, 3, 224, 224, 96, 7, 7, args(2, 3)},        // ZFNet conv1
      {1, 96, 55, 55, 256, 5, 5, args(2, 0)},        // ZFNet conv2 (5x5/2)
      {1, 5, 9, 9, 129, 3, 3, args(1, 1)},           // off-tile filters
      {3, 129, 7, 7, 33, 3, 3, args(1, 1)},          // off-tile channels
      {64, 1, 28, 28, 32, 3, 3, args(1, 1)},         // fashion-cnn conv1
      {64, 32, 14, 14, 64, 3, 3, args(1, 1)},        // fashion-cnn conv2
      {9, 128, 64, 64, 8, 3, 3, args(1, 1)},         // backward-data on the large tile
      {16, 96, 64, 64, 8, 3, 3, args(2, 1)},         // ... and with stride phases
      {3, 2, 13, 13, 4, 3, 3, args(5, 1)},           // stride larger than the kernel
  };
  // "bw" is backward-weight (tile, splits, float4 stores), "y" the forward's stores.
  const std::vector<Case> reduced = {
      {1, 3, 99, 99, 96, 11, 11, args(4, 2)},       // bw: large, 7 -> 2 splits, scalar; y: float4
      {2, 3, 71, 71, 64, 11, 11, args(4, 2)},       // bw: small, 12 -> 2 splits, scalar; y: scalar
      {1, 16, 23, 23, 192, 5, 5, args(1, 2, 1, 2)}, // bw: large, 2 splits, float4; y: scalar
      {1, 32, 13, 13, 160, 3, 3, args(1, 1)},       // bw: large, 1 split (writes gw), float4
      {2, 32, 9, 9, 256, 3, 3, args(1, 1, 1, 2)},   // bw: large, 1 split, float4; 2 bias splits
      {2, 3, 48, 48, 96, 7, 7, args(2, 3)},         // bw: large, 49 -> 3 splits, scalar; y: float4
      {1, 8, 51, 51, 128, 5, 5, args(2, 0)},        // bw: large, 2 splits, float4; y: float4
      {1, 5, 9, 9, 129, 3, 3, args(1, 1)},          // off-tile filters
      {3, 129, 7, 7, 33, 3, 3, args(1, 1)},         // off-tile channels
      {16, 1, 28, 28, 32, 3, 3, args(1, 1)},        // bw: 98 -> 25 splits; 9 bias splits
      {4, 32, 14, 14, 64, 3, 3, args(1, 1)},        // bw: 25 -> 2 splits, float4; 5 -> 4 bias splits
      {3, 2, 13, 13, 4, 3, 3, args(5, 1)},          // stride larger than the kernel
  };
  const std::vector<Case> reduced_backward_data = {
      // backward-data on the large tile: one phase, full 128-row tiles, 264
      // blocks (N*H*W > 263*128), with a 1x1 output to keep the forward cheap
      {3744, 128, 3, 3, 8, 3, 3, args(1, 0)},
      // ... and with stride phases: 96 of 128 rows, 4 phases of 66 blocks
      {2112, 96, 4, 4, 8, 3, 3, args(2, 1)},
  };
  if (testing::full_gpu_shapes()) {
    cases.insert(cases.end(), full.begin(), full.end());
    return cases;
  }
  cases.insert(cases.end(), reduced.begin(), reduced.end());
  if (passes == Passes::All)
    cases.insert(cases.end(), reduced_backward_data.begin(), reduced_backward_data.end());
  return cases;
}

// fp32 tolerance for a sum of `terms` products of numbers in [-1, 1].
double fp32_atol(double terms) { return 2e-7 * terms + 1e-6; }

TEST(Conv2dCuda, ListsItsVariants) {
  CS_REQUIRE_CUDA();
  const std::vector<std::string> names = kernels::conv2d_cuda_variants();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "direct");
  EXPECT_EQ(names.back(), "implicit_gemm");
  Tensor x = Tensor::zeros({1, 1, 3, 3}, Device::cuda()), w = Tensor::zeros({1, 1, 3, 3}, Device::cuda());
  Tensor y = Tensor::zeros({1, 1, 1, 1}, Device::cuda());
  expect_error([&] { kernels::conv2d_forward_cuda_variant("winograd", x, w, Tensor(), y, args(1, 0)); },
               {"unknown variant 'winograd'", "implicit_gemm"});
}

TEST(Conv2dCuda, EveryForwardVariantMatchesCpuBitwiseOnWholeNumbers) {
  CS_REQUIRE_CUDA();
  for (const Case& t : gpu_cases(Passes::Forward)) {
    SCOPED_TRACE(t.str());
    const Inputs in = make_inputs(t, true, "int");
    const Inputs d = to_device(in, Device::cuda());
    for (bool with_bias : {true, false}) {
      Tensor ref = Tensor::empty(t.y_shape());
      kernels::conv2d_forward(in.x, in.w, with_bias ? in.b : Tensor(), ref, t.a);
      for (const std::string& variant : kernels::conv2d_cuda_variants()) {
        SCOPED_TRACE(::testing::Message() << variant << (with_bias ? " with bias" : " no bias"));
        Tensor y = nan_tensor(t.y_shape(), Device::cuda());
        kernels::conv2d_forward_cuda_variant(variant, d.x, d.w, with_bias ? d.b : Tensor(), y, t.a);
        EXPECT_TRUE(exactly(y.to(Device::cpu()), ref));
      }
      Tensor y = nan_tensor(t.y_shape(), Device::cuda());
      kernels::conv2d_forward(d.x, d.w, with_bias ? d.b : Tensor(), y, t.a);
      EXPECT_TRUE(exactly(y.to(Device::cpu()), ref));
    }
  }
}

TEST(Conv2dCuda, BackwardMatchesCpuBitwiseOnWholeNumbers) {
  CS_REQUIRE_CUDA();
  for (const Case& t : gpu_cases()) {
    SCOPED_TRACE(t.str());
    const Inputs in = make_inputs(t, true, "int");
    const Results ref = run_all(t, in);
    const Results got = run_all(t, to_device(in, Device::cuda()));
    EXPECT_TRUE(exactly(got.gx.to(Device::cpu()), ref.gx));
    EXPECT_TRUE(exactly(got.gw.to(Device::cpu()), ref.gw));
    EXPECT_TRUE(exactly(got.gb.to(Device::cpu()), ref.gb));
  }
}

TEST(Conv2dCuda, MatchesCpuWithinFp32ToleranceOnRandomFloats) {
  CS_REQUIRE_CUDA();
  for (const Case& t : gpu_cases()) {
    SCOPED_TRACE(t.str());
    const Inputs in = make_inputs(t, false, "float");
    // The reference in double, so only the GPU's rounding counts.
    const Inputs in64{in.x.to(DType::F64), in.w.to(DType::F64), in.b.to(DType::F64),
                      in.gy.to(DType::F64)};
    const Results ref = run_all(t, in64);
    const Inputs d = to_device(in, Device::cuda());
    const Results got = run_all(t, d);
    const double l_fwd = static_cast<double>(t.C / t.a.groups * t.R * t.S);
    const double l_data = static_cast<double>(t.K / t.a.groups * t.R * t.S);
    const double l_weight = static_cast<double>(t.N * t.P() * t.Q());
    for (const std::string& variant : kernels::conv2d_cuda_variants()) {
      SCOPED_TRACE(variant);
      Tensor y = nan_tensor(t.y_shape(), Device::cuda());
      kernels::conv2d_forward_cuda_variant(variant, d.x, d.w, d.b, y, t.a);
      EXPECT_CLOSE(y.to(Device::cpu()), ref.y.to(DType::F32), fp32_atol(l_fwd), 1e-5);
    }
    EXPECT_CLOSE(got.y.to(Device::cpu()), ref.y.to(DType::F32), fp32_atol(l_fwd), 1e-5);
    EXPECT_CLOSE(got.gx.to(Device::cpu()), ref.gx.to(DType::F32), fp32_atol(l_data), 1e-5);
    EXPECT_CLOSE(got.gw.to(Device::cpu()), ref.gw.to(DType::F32), fp32_atol(l_weight), 1e-5);
    EXPECT_CLOSE(got.gb.to(Device::cpu()), ref.gb.to(DType::F32), fp32_atol(l_weight), 1e-5);
  }
}

TEST(Conv2dCuda, TwoRunsAreBitwiseEqual) {
  CS_REQUIRE_CUDA();
  // Shapes where backward-weight and the bias gradient split their reductions
  // (the reduced ones, from gpu_cases(), split them too and take the same tiles).
  const std::vector<Case> full = {
      {2, 3, 224, 224, 64, 11, 11, args(4, 2)},
      {64, 32, 14, 14, 64, 3, 3, args(1, 1)},
      {2, 384, 13, 13, 256, 3, 3, args(1, 1, 1, 2)},
      {16, 96, 64, 64, 8, 3, 3, args(2, 1)},
  };
  const std::vector<Case> reduced = {
      {2, 3, 71, 71, 64, 11, 11, args(4, 2)},
      {4, 32, 14, 14, 64, 3, 3, args(1, 1)},
      {2, 32, 9, 9, 256, 3, 3, args(1, 1, 1, 2)},
      {2112, 96, 4, 4, 8, 3, 3, args(2, 1)},
  };
  for (const Case& t : testing::full_gpu_shapes() ? full : reduced) {
    SCOPED_TRACE(t.str());
    const Inputs d = to_device(make_inputs(t, false, "det"), Device::cuda());
    const Results a = run_all(t, d), b = run_all(t, d);
    EXPECT_TRUE(exactly(a.y.to(Device::cpu()), b.y.to(Device::cpu())));
    EXPECT_TRUE(exactly(a.gx.to(Device::cpu()), b.gx.to(Device::cpu())));
    EXPECT_TRUE(exactly(a.gw.to(Device::cpu()), b.gw.to(Device::cpu())));
    EXPECT_TRUE(exactly(a.gb.to(Device::cpu()), b.gb.to(Device::cpu())));
    for (const std::string& variant : kernels::conv2d_cuda_variants()) {
      Tensor y1 = Tensor::empty(t.y_shape(), Device::cuda()), y2 = Tensor::empty(t.y_shape(), Device::cuda());
      kernels::conv2d_forward_cuda_variant(variant, d.x, d.w, d.b, y1, t.a);
      kernels::conv2d_forward_cuda_variant(variant, d.x, d.w, d.b, y2, t.a);
      EXPECT_TRUE(exactly(y1.to(Device::cpu()), y2.to(Device::cpu()))) << variant;
    }
  }
}

TEST(Conv2dCuda, EmptyBatchGivesZeroGradients) {
  CS_REQUIRE_CUDA();
  const Case t{0, 4, 7, 7, 6, 3, 3, args(1, 1, 1, 2)};
  const Device gpu = Device::cuda();
  Tensor x = Tensor::zeros(t.x_shape(), gpu), w = Tensor::full(t.w_shape(), 1.0, gpu);
  Tensor y = Tensor::zeros(t.y_shape(), gpu), gy = Tensor::zeros(t.y_shape(), gpu);
  kernels::conv2d_forward(x, w, Tensor::zeros({6}, gpu), y, t.a);
  for (const std::string& variant : kernels::conv2d_cuda_variants())
    kernels::conv2d_forward_cuda_variant(variant, x, w, Tensor(), y, t.a);
  Tensor gx = Tensor::zeros(t.x_shape(), gpu);
  kernels::conv2d_backward_data(gy, w, gx, t.a);
  Tensor gw = Tensor::full(t.w_shape(), 7.0, gpu), gb = Tensor::full({6}, 7.0, gpu);
  kernels::conv2d_backward_weight(x, gy, gw, t.a);
  kernels::conv2d_backward_bias(gy, gb);
  EXPECT_TRUE(testing::all_close(gw.to(Device::cpu()), Tensor::zeros(t.w_shape()), 0, 0, true));
  EXPECT_TRUE(testing::all_close(gb.to(Device::cpu()), Tensor::zeros({6}), 0, 0, true));
}

}  // namespace
}  // namespace cs
