// Broadcasts, axis reductions and row selections: hand cases (ties included),
// error cases, and the GPU against the CPU (bitwise where the arithmetic is
// exact: bias add, max, argmax, top-k, gathers).
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/tensor_ops.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using testing::random_integers;
using testing::random_tensor;
using testing::seed_for;

const Device kCpu = Device::cpu();

// prefix + rest, without GCC 12's false -Wrestrict on "literal" + std::string.
std::string tagged(const char* prefix, const std::string& rest) {
  std::string out(prefix);
  out += rest;
  return out;
}

std::vector<float> values_of(const Tensor& t) { return t.to(kCpu).to_vector<float>(); }
std::vector<int32_t> ints_of(const Tensor& t) { return t.to(kCpu).to_vector<int32_t>(); }

TEST(TensorOps, AddChannelBias) {
  Tensor y = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});  // (N, C)
  kernels::add_channel_bias(y, Tensor::from_vector(std::vector<float>{10, 20, 30}, {3}));
  EXPECT_EQ(values_of(y), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  Tensor z = Tensor::zeros({2, 2, 1, 2});  // (N, C, H, W)
  kernels::add_channel_bias(z, Tensor::from_vector(std::vector<float>{1, -1}, {2}));
  EXPECT_EQ(values_of(z), (std::vector<float>{1, 1, -1, -1, 1, 1, -1, -1}));
}

TEST(TensorOps, ChannelSum) {
  // x (2, 2, 1, 2): channel 0 holds 1, 2 | 5, 6; channel 1 holds 3, 4 | 7, 8.
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 1, 2});
  Tensor out = Tensor::empty({2});
  kernels::channel_sum(x, out);
  EXPECT_EQ(values_of(out), (std::vector<float>{14, 22}));
  Tensor linear = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2});
  kernels::channel_sum(linear, out);
  EXPECT_EQ(values_of(out), (std::vector<float>{9, 12}));
}

TEST(TensorOps, SumAndMeanAxis) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor cols = Tensor::empty({3}), rows = Tensor::empty({2, 1});
  kernels::sum_axis(x, 0, cols);
  EXPECT_EQ(values_of(cols), (std::vector<float>{5, 7, 9}));
  kernels::sum_axis(x, -1, rows);  // keep-dim shape accepted
  EXPECT_EQ(values_of(rows), (std::vector<float>{6, 15}));
  kernels::mean_axis(x, 1, rows);
  EXPECT_EQ(values_of(rows), (std::vector<float>{2, 5}));
  kernels::mean_axis(x, 0, cols);
  EXPECT_EQ(values_of(cols), (std::vector<float>{2.5f, 3.5f, 4.5f}));
  // A middle axis of (2, 2, 2).
  Tensor y = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  Tensor mid = Tensor::empty({2, 2});
  kernels::sum_axis(y, 1, mid);
  EXPECT_EQ(values_of(mid), (std::vector<float>{4, 6, 12, 14}));
}

TEST(TensorOps, MaxOverChannelsAndL2Norm) {
  // x (1, 3, 1, 2): channels (1, -5), (3, -7), (2, -6).
  Tensor x = Tensor::from_vector(std::vector<float>{1, -5, 3, -7, 2, -6}, {1, 3, 1, 2});
  Tensor out = Tensor::empty({1, 1, 2});
  kernels::max_over_channels(x, out);
  EXPECT_EQ(values_of(out), (std::vector<float>{3, -5}));
  Tensor norm = Tensor::empty({1});
  kernels::l2_norm(Tensor::from_vector(std::vector<float>{3, 0, -4}, {3}), norm);
  EXPECT_EQ(norm.item(), 5.0);
  kernels::l2_norm(Tensor::empty({0}), norm);
  EXPECT_EQ(norm.item(), 0.0);
}

TEST(TensorOps, ArgmaxTakesTheFirstMaximum) {
  Tensor x = Tensor::from_vector(
      std::vector<float>{1, 3, 3, 2,        // tie between 1 and 2 -> 1
                         -4, -1, -2, -1,    // tie of negatives -> 1
                         7, 7, 7, 7,        // all equal -> 0
                         -0.0f, 0.0f, -1, 0},  // -0 == +0 -> 0
      {4, 4});
  Tensor out = Tensor::empty({4}, kCpu, DType::I32);
  kernels::argmax_rows(x, out);
  EXPECT_EQ(ints_of(out), (std::vector<int32_t>{1, 1, 0, 0}));
}

TEST(TensorOps, TopkDescendingWithTiesToTheLowerIndex) {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 3, 3, 2, 5,     // row 0
                                                    2, 1, 2, 2, 0},    // row 1: ties at the cut
                                 {2, 5});
  Tensor values = Tensor::empty({2, 3}), indices = Tensor::empty({2, 3}, kCpu, DType::I32);
  kernels::topk_rows(x, 3, values, indices);
  EXPECT_EQ(values_of(values), (std::vector<float>{5, 3, 3, 2, 2, 2}));
  EXPECT_EQ(ints_of(indices), (std::vector<int32_t>{4, 1, 2, 0, 2, 3}));
  Tensor all_v = Tensor::empty({2, 5}), all_i = Tensor::empty({2, 5}, kCpu, DType::I32);
  kernels::topk_rows(x, 5, all_v, all_i);
  EXPECT_EQ(ints_of(all_i), (std::vector<int32_t>{4, 1, 2, 3, 0, 0, 2, 3, 1, 4}));
}

TEST(TensorOps, GatherRowsOfEveryDtype) {
  Tensor idx = Tensor::from_vector(std::vector<int32_t>{2, 0, 2}, {3});
  Tensor f = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor fo = Tensor::empty({3, 2});
  kernels::gather_rows(f, idx, fo);
  EXPECT_EQ(values_of(fo), (std::vector<float>{5, 6, 1, 2, 5, 6}));
  Tensor d = Tensor::from_vector(std::vector<double>{0.5, 1.5, 2.5}, {3});
  Tensor d_out = Tensor::empty({3}, kCpu, DType::F64);
  kernels::gather_rows(d, idx, d_out);
  EXPECT_EQ(d_out.to_vector<double>(), (std::vector<double>{2.5, 0.5, 2.5}));
  Tensor i = Tensor::from_vector(std::vector<int32_t>{7, 8, 9}, {3});
  Tensor i_out = Tensor::empty({3}, kCpu, DType::I32);
  kernels::gather_rows(i, idx, i_out);
  EXPECT_EQ(ints_of(i_out), (std::vector<int32_t>{9, 7, 9}));
  Tensor u = Tensor::from_vector(std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 1, 3});
  Tensor u_out = Tensor::empty({3, 1, 3}, kCpu, DType::U8);
  kernels::gather_rows(u, idx, u_out);
  EXPECT_EQ(u_out.to_vector<uint8_t>(), (std::vector<uint8_t>{7, 8, 9, 1, 2, 3, 7, 8, 9}));
}

TEST(TensorOps, GatherRowsRejectsBadIndices) {
  Tensor f = Tensor::zeros({3, 2}), out = Tensor::empty({2, 2});
  for (int32_t bad : {3, -1}) {
    try {
      kernels::gather_rows(f, Tensor::from_vector(std::vector<int32_t>{0, bad}, {2}), out);
      ADD_FAILURE() << "index " << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("index " + std::to_string(bad) + " at 1"), std::string::npos)
          << e.what();
    }
  }
  Tensor idx = Tensor::from_vector(std::vector<int32_t>{0, 1}, {2});
  Tensor wrong_dtype = Tensor::empty({2, 2}, kCpu, DType::F64);
  EXPECT_THROW(kernels::gather_rows(f, idx, wrong_dtype), Error);
  Tensor wrong_shape = Tensor::empty({2, 3});
  EXPECT_THROW(kernels::gather_rows(f, idx, wrong_shape), Error);
  EXPECT_THROW(kernels::gather_rows(f, Tensor::zeros({2}), out), Error);  // float indices
}

TEST(TensorOps, U8ToFloatNormalized) {
  // x (1, 2, 1, 2) = channel 0: 0, 255; channel 1: 51, 102.
  Tensor x = Tensor::from_vector(std::vector<uint8_t>{0, 255, 51, 102}, {1, 2, 1, 2});
  Tensor out = Tensor::empty({1, 2, 1, 2});
  kernels::u8_to_float_normalized(x, {0.5f, 0.2f}, {0.5f, 0.1f}, out);
  const std::vector<float> v = values_of(out);
  EXPECT_NEAR(v[0], -1.0, 1e-6);  // (0 - 0.5) / 0.5
  EXPECT_NEAR(v[1], 1.0, 1e-6);   // (1 - 0.5) / 0.5
  EXPECT_NEAR(v[2], 0.0, 1e-6);   // (0.2 - 0.2) / 0.1
  EXPECT_NEAR(v[3], 2.0, 1e-6);   // (0.4 - 0.2) / 0.1
  kernels::u8_to_float_normalized(x, {0.0f}, {1.0f}, out);
  const std::vector<float> w = values_of(out);
  EXPECT_NEAR(w[1], 1.0, 1e-7);
  EXPECT_NEAR(w[3], 0.4, 1e-7);
}

TEST(TensorOps, RejectsBadArguments) {
  Tensor y = Tensor::zeros({2, 3});
  Tensor bias = Tensor::zeros({2});
  EXPECT_THROW(kernels::add_channel_bias(y, bias), Error);
  Tensor out = Tensor::empty({4});
  EXPECT_THROW(kernels::sum_axis(y, 0, out), Error);
  EXPECT_THROW(kernels::sum_axis(y, 2, out), Error);
  Tensor empty_axis = Tensor::zeros({0, 3}), three = Tensor::empty({3});
  EXPECT_THROW(kernels::mean_axis(empty_axis, 0, three), Error);
  Tensor values = Tensor::empty({2, 4}), indices = Tensor::empty({2, 4}, kCpu, DType::I32);
  EXPECT_THROW(kernels::topk_rows(y, 4, values, indices), Error);
  Tensor v0 = Tensor::empty({2, 0}), i0 = Tensor::empty({2, 0}, kCpu, DType::I32);
  EXPECT_THROW(kernels::topk_rows(y, 0, v0, i0), Error);
  Tensor float_out = Tensor::empty({2});
  EXPECT_THROW(kernels::argmax_rows(y, float_out), Error);
  Tensor u8 = Tensor::zeros({1, 3, 2, 2}, kCpu, DType::U8), f = Tensor::empty({1, 3, 2, 2});
  EXPECT_THROW(kernels::u8_to_float_normalized(u8, {0.1f, 0.2f}, {1.0f, 1.0f}, f), Error);
  EXPECT_THROW(kernels::u8_to_float_normalized(u8, {0.1f}, {0.0f}, f), Error);
  Tensor x4 = Tensor::zeros({1, 3, 2, 2}), wrong = Tensor::empty({1, 5});
  EXPECT_THROW(kernels::max_over_channels(x4, wrong), Error);
}

// ---- GPU against the CPU ----------------------------------------------------------------------

const Shape kImageShapes[] = {{1, 1, 1, 1}, {1, 7, 3, 5}, {2, 13, 4, 4}, {3, 31, 7, 7},
                              {1, 33, 13, 13}, {4, 129, 1, 1}, {2, 3, 33, 31}, {1, 64, 55, 55}};

std::string shape_tag(const Shape& s) { return shape_str(s); }

TEST(TensorOpsCuda, AddChannelBiasBitwise) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (const Shape& s : kImageShapes) {
    for (bool flat : {false, true}) {  // (N, C, H, W) or (N, C*H*W) as (N, C)
      const Shape shape = flat ? Shape{s[0], s[1] * s[2] * s[3]} : s;
      SCOPED_TRACE(shape_tag(shape));
      Tensor y = random_tensor(shape, seed_for(tagged("y", shape_tag(shape))), -1, 1);
      Tensor bias = random_tensor({shape[1]}, seed_for(tagged("b", shape_tag(shape))), -1, 1);
      Tensor yg = y.to(gpu);
      kernels::add_channel_bias(y, bias);
      kernels::add_channel_bias(yg, bias.to(gpu));
      EXPECT_BITWISE_EQ(yg.to(kCpu), y);
    }
  }
  // A view whose start is not 16-byte aligned though H*W is a multiple of 4
  // (the scalar path).
  Tensor big = random_tensor({1 + 2 * 2 * 4}, seed_for("view"), -1, 1);
  Tensor view = big.narrow(1, 16).reshape({1, 2, 2, 4});
  Tensor view_g = big.to(gpu).narrow(1, 16).reshape({1, 2, 2, 4});
  Tensor bias = Tensor::from_vector(std::vector<float>{0.5f, -2}, {2});
  kernels::add_channel_bias(view, bias);
  kernels::add_channel_bias(view_g, bias.to(gpu));
  EXPECT_BITWISE_EQ(view_g.to(kCpu), view);
}

TEST(TensorOpsCuda, AxisSumsMatchCpu) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  const Shape shapes[] = {{1},        {7},         {129, 1},     {3, 1000},  {2, 5003},
                          {100003},   {13, 7, 33}, {4, 31, 129}, {1, 33, 1}, {257, 3, 2}};
  for (const Shape& s : shapes) {
    for (int axis = 0; axis < static_cast<int>(s.size()); ++axis) {
      SCOPED_TRACE(shape_tag(s) + " axis " + std::to_string(axis));
      Tensor x = random_tensor(s, seed_for(tagged("x", shape_tag(s))), -1, 1);
      Shape reduced = s;
      reduced[static_cast<size_t>(axis)] = 1;
      Tensor out = Tensor::empty(reduced), out_g = Tensor::empty(reduced, gpu);
      const double n = static_cast<double>(s[static_cast<size_t>(axis)]);
      kernels::sum_axis(x, axis, out);
      kernels::sum_axis(x.to(gpu), axis, out_g);
      // Sums of n values in [-1, 1]: fp32 error grows like sqrt(n) ulps of n.
      EXPECT_CLOSE(out_g.to(kCpu), out, 1e-6 * std::sqrt(n) + 1e-7 * n / 64, 1e-5);
      kernels::mean_axis(x, axis, out);
      kernels::mean_axis(x.to(gpu), axis, out_g);
      EXPECT_CLOSE(out_g.to(kCpu), out, (1e-6 * std::sqrt(n) + 1e-7 * n / 64) / n, 1e-5);
    }
  }
}

TEST(TensorOpsCuda, ChannelSumMatchesCpuAndIsDeterministic) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (const Shape& s : kImageShapes) {
    SCOPED_TRACE(shape_tag(s));
    Tensor x = random_tensor(s, seed_for(tagged("x", shape_tag(s))), -1, 1);
    Tensor out = Tensor::empty({s[1]}), a = Tensor::empty({s[1]}, gpu), b = Tensor::empty({s[1]}, gpu);
    kernels::channel_sum(x, out);
    Tensor xg = x.to(gpu);
    kernels::channel_sum(xg, a);
    kernels::channel_sum(xg, b);
    const double n = static_cast<double>(x.numel() / s[1]);
    EXPECT_CLOSE(a.to(kCpu), out, 1e-6 * std::sqrt(n) + 1e-7 * n / 64, 1e-5);
    EXPECT_BITWISE_EQ(a.to(kCpu), b.to(kCpu));
  }
}

TEST(TensorOpsCuda, MaxOverChannelsBitwise) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (const Shape& s : kImageShapes) {
    SCOPED_TRACE(shape_tag(s));
    Tensor x = random_tensor(s, seed_for(tagged("x", shape_tag(s))), -1, 1);
    Tensor out = Tensor::empty({s[0], s[2], s[3]}), out_g = Tensor::empty({s[0], s[2], s[3]}, gpu);
    kernels::max_over_channels(x, out);
    kernels::max_over_channels(x.to(gpu), out_g);
    EXPECT_BITWISE_EQ(out_g.to(kCpu), out);
  }
}

TEST(TensorOpsCuda, L2NormMatchesCpuAndIsDeterministic) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (int64_t n : {0, 1, 7, 33, 129, 4097, 1 << 20, 61100840 / 16}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    Tensor x = random_tensor({n}, seed_for(tagged("x", std::to_string(n))), -1, 1);
    Tensor out = Tensor::empty({1}), a = Tensor::empty({1}, gpu), b = Tensor::empty({1}, gpu);
    kernels::l2_norm(x, out);
    Tensor xg = x.to(gpu);
    kernels::l2_norm(xg, a);
    kernels::l2_norm(xg, b);
    if (n == 0) {
      EXPECT_EQ(a.item(), 0.0);
      continue;
    }
    EXPECT_CLOSE(a.to(kCpu), out, 0, 1e-5);
    EXPECT_BITWISE_EQ(a.to(kCpu), b.to(kCpu));
  }
}

// Row selections: short rows (a warp each), rows past the warp limit (a block
// each), long rows (100003), many rows; small integers give many ties.
const Shape kRowShapes[] = {{1, 1},   {7, 7},   {13, 13},    {31, 31},    {33, 33},  {129, 129},
                            {5, 1000}, {3, 1025}, {2, 4096}, {2, 4097}, {1, 100003}, {3, 100003},
                            {1000, 10}};

TEST(TensorOpsCuda, ArgmaxBitwiseWithTies) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (const Shape& s : kRowShapes) {
    for (bool ties : {false, true}) {
      SCOPED_TRACE(shape_tag(s) + (ties ? " with ties" : ""));
      Tensor x = ties ? random_integers(s, seed_for(tagged("t", shape_tag(s))), -3, 3)
                      : random_tensor(s, seed_for(tagged("x", shape_tag(s))), -1, 1);
      Tensor out = Tensor::empty({s[0]}, kCpu, DType::I32), out_g = Tensor::empty({s[0]}, gpu, DType::I32);
      kernels::argmax_rows(x, out);
      kernels::argmax_rows(x.to(gpu), out_g);
      EXPECT_EQ(ints_of(out_g), ints_of(out));
    }
  }
  // The maximum at the very end of a long row, and -0 / +0 ties.
  std::vector<float> v(100003, -1.0f);
  v.back() = 2.0f;
  v[5] = -0.0f;
  Tensor x = Tensor::from_vector(v, {1, 100003});
  Tensor out_g = Tensor::empty({1}, gpu, DType::I32);
  kernels::argmax_rows(x.to(gpu), out_g);
  EXPECT_EQ(ints_of(out_g), (std::vector<int32_t>{100002}));
  Tensor zeros = Tensor::from_vector(std::vector<float>{-1, -0.0f, 0.0f, -0.0f}, {1, 4});
  kernels::argmax_rows(zeros.to(gpu), out_g);
  EXPECT_EQ(ints_of(out_g), (std::vector<int32_t>{1}));
}

TEST(TensorOpsCuda, TopkBitwiseWithTies) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (const Shape& s : kRowShapes) {
    for (int k : {1, 2, 5, 31, 256, 3000}) {
      if (k > s[1]) continue;
      for (bool ties : {false, true}) {
        SCOPED_TRACE(shape_tag(s) + " k = " + std::to_string(k) + (ties ? " with ties" : ""));
        Tensor x = ties ? random_integers(s, seed_for(tagged("t", shape_tag(s))), -20, 20)
                        : random_tensor(s, seed_for(tagged("x", shape_tag(s))), -1, 1);
        Tensor values = Tensor::empty({s[0], k}), indices = Tensor::empty({s[0], k}, kCpu, DType::I32);
        Tensor values_g = Tensor::empty({s[0], k}, gpu), indices_g = Tensor::empty({s[0], k}, gpu, DType::I32);
        kernels::topk_rows(x, k, values, indices);
        kernels::topk_rows(x.to(gpu), k, values_g, indices_g);
        EXPECT_EQ(ints_of(indices_g), ints_of(indices));
        EXPECT_EQ(values_of(values_g), values_of(values));
      }
    }
  }
  // k = K (everything sorted), and signed zeros (equal values: by index).
  Tensor x = Tensor::from_vector(std::vector<float>{0.0f, -0.0f, 1, -0.0f, 0.0f, -1}, {1, 6});
  Tensor vg = Tensor::empty({1, 6}, gpu), ig = Tensor::empty({1, 6}, gpu, DType::I32);
  kernels::topk_rows(x.to(gpu), 6, vg, ig);
  EXPECT_EQ(ints_of(ig), (std::vector<int32_t>{2, 0, 1, 3, 4, 5}));
}

TEST(TensorOpsCuda, TopkDeterministic) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  Tensor x = random_integers({4, 100003}, seed_for("x"), -50, 50, gpu);
  Tensor a_v = Tensor::empty({4, 256}, gpu), a_i = Tensor::empty({4, 256}, gpu, DType::I32);
  Tensor b_v = Tensor::empty({4, 256}, gpu), b_i = Tensor::empty({4, 256}, gpu, DType::I32);
  kernels::topk_rows(x, 256, a_v, a_i);
  kernels::topk_rows(x, 256, b_v, b_i);
  EXPECT_BITWISE_EQ(a_i.to(kCpu), b_i.to(kCpu));
  EXPECT_BITWISE_EQ(a_v.to(kCpu), b_v.to(kCpu));
}

Tensor random_of(DType dtype, const Shape& shape, uint64_t seed) {
  return random_integers(shape, seed, 0, 255).to(dtype);
}

TEST(TensorOpsCuda, GatherRowsBitwiseForEveryDtype) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  // Row sizes of 1, 3, 4, 16 and 784 elements: every copy unit (1 to 16 bytes).
  const Shape shapes[] = {{7}, {13, 3}, {33, 4}, {31, 16}, {129, 1, 28, 28}};
  for (DType dtype : {DType::F32, DType::F64, DType::I32, DType::U8}) {
    for (const Shape& s : shapes) {
      for (int64_t shift : {0, 1}) {  // shift 1: a view starting one row in
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + shape_tag(s) + " shift " + std::to_string(shift));
        Shape padded = s;
        padded[0] += shift;
        Tensor x_all = random_of(dtype, padded, seed_for(tagged("x", shape_tag(s))));
        Tensor x = x_all.narrow(shift, s[0]), x_g = x_all.to(gpu).narrow(shift, s[0]);
        std::vector<int32_t> rows;
        const std::vector<double> u = random_tensor({37}, seed_for(tagged("i", shape_tag(s))), 0, 1).to_double_vector();
        for (double r : u) rows.push_back(std::min<int32_t>(static_cast<int32_t>(r * s[0]), static_cast<int32_t>(s[0] - 1)));
        rows.push_back(0);
        rows.push_back(static_cast<int32_t>(s[0] - 1));
        Tensor idx = Tensor::from_vector(rows, {static_cast<int64_t>(rows.size())});
        Shape out_shape = s;
        out_shape[0] = idx.numel();
        Tensor out = Tensor::empty(out_shape, kCpu, dtype), out_g = Tensor::empty(out_shape, gpu, dtype);
        kernels::gather_rows(x, idx, out);
        kernels::gather_rows(x_g, idx.to(gpu), out_g);
        EXPECT_BITWISE_EQ(out_g.to(kCpu), out);
      }
    }
  }
}

TEST(TensorOpsCuda, GatherRowsBadIndexOnTheDevice) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2}, gpu);
  Tensor idx = Tensor::from_vector(std::vector<int32_t>{1, 3}, {2}, gpu);
  Tensor out = Tensor::full({2, 2}, 9.0, gpu);
  const bool was = kernels::device_checks();
  kernels::set_device_checks(true);  // read back and checked like CPU indices
  try {
    kernels::gather_rows(x, idx, out);
    ADD_FAILURE() << "index 3 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("index 3 at 1"), std::string::npos) << e.what();
  }
  kernels::set_device_checks(false);  // not read back: the bad row is zero-filled
  kernels::gather_rows(x, idx, out);
  EXPECT_EQ(values_of(out), (std::vector<float>{3, 4, 0, 0}));
  Tensor no_rows = Tensor::empty({0, 2}, gpu);  // every index is out of range
  kernels::gather_rows(no_rows, idx, out);
  EXPECT_EQ(values_of(out), (std::vector<float>{0, 0, 0, 0}));
  kernels::set_device_checks(was);
}

TEST(TensorOpsCuda, U8ToFloatMatchesCpu) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  const Shape shapes[] = {{1, 1, 28, 28}, {7, 3, 13, 13}, {2, 3, 31, 33}, {5, 40, 3, 1}, {1, 1, 1, 1}};
  for (const Shape& s : shapes) {
    SCOPED_TRACE(shape_tag(s));
    Tensor x = random_of(DType::U8, s, seed_for(tagged("x", shape_tag(s))));
    std::vector<float> mean, std_dev;
    for (int64_t c = 0; c < s[1]; ++c) {
      mean.push_back(0.3f + 0.01f * static_cast<float>(c));
      std_dev.push_back(0.2f + 0.02f * static_cast<float>(c));
    }
    for (bool shared : {false, true}) {
      const std::vector<float> m = shared ? std::vector<float>{0.2860f} : mean;
      const std::vector<float> sd = shared ? std::vector<float>{0.3530f} : std_dev;
      Tensor out = Tensor::empty(s), out_g = Tensor::empty(s, gpu);
      kernels::u8_to_float_normalized(x, m, sd, out);
      kernels::u8_to_float_normalized(x.to(gpu), m, sd, out_g);
      EXPECT_CLOSE(out_g.to(kCpu), out, 1e-6, 1e-6);
    }
  }
}

}  // namespace
}  // namespace cs
