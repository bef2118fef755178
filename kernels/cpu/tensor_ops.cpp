// Broadcasts, axis reductions and row selections: dispatchers and the CPU reference.
#include "kernels/tensor_ops.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>

namespace cs::kernels {

OpRegistry<TensorOpsImpl>& tensor_ops_registry() {
  static OpRegistry<TensorOpsImpl> registry("tensor_ops");
  return registry;
}

AxisView axis_view(const Shape& shape, int axis) {
  const int rank = static_cast<int>(shape.size());
  const int a = axis < 0 ? axis + rank : axis;
  CS_CHECK(a >= 0 && a < rank, "axis " << axis << " out of range for shape " << shape_str(shape));
  AxisView v;
  for (int d = 0; d < a; ++d) v.outer *= shape[d];
  v.size = shape[a];
  for (int d = a + 1; d < rank; ++d) v.inner *= shape[d];
  return v;
}

namespace {
const TensorOpsImpl& impl_for(const Tensor& t) { return tensor_ops_registry().get(t.device()); }

std::atomic<bool>& device_checks_flag() {
  static std::atomic<bool> flag{[] {
    const char* text = std::getenv("CONVSCOPE_DEVICE_CHECKS");
    return text != nullptr && std::strcmp(text, "1") == 0;
  }()};
  return flag;
}
}  // namespace

void set_device_checks(bool on) { device_checks_flag().store(on); }
bool device_checks() { return device_checks_flag().load(); }

void add_channel_bias(Tensor& y, const Tensor& bias) {
  check_compatible({&y, &bias}, "add_channel_bias");
  CS_CHECK(y.ndim() >= 2, "add_channel_bias: output must be (N, C, ...), got " << shape_str(y.shape()));
  check_shape(bias, {y.dim(1)}, "add_channel_bias: bias");
  if (y.numel() == 0) return;
  impl_for(y).add_channel_bias(y, bias, axis_view(y.shape(), 1));
}

void channel_sum(const Tensor& x, Tensor& out) {
  check_compatible({&x, &out}, "channel_sum");
  CS_CHECK(x.ndim() >= 2, "channel_sum: input must be (N, C, ...), got " << shape_str(x.shape()));
  check_shape(out, {x.dim(1)}, "channel_sum: output");
  // Sum over N and the trailing dimensions: (N, C, rest) reduced twice in a fixed order.
  const AxisView v = axis_view(x.shape(), 1);
  Tensor per_image = Tensor::empty({v.outer, v.size}, x.device(), x.dtype());
  impl_for(x).sum_axis(x, AxisView{v.outer * v.size, v.inner, 1}, 1.0, per_image);
  impl_for(x).sum_axis(per_image, AxisView{1, v.outer, v.size}, 1.0, out);
}

namespace {
void check_axis_output(const Tensor& x, int axis, const Tensor& out, const char* op) {
  const AxisView v = axis_view(x.shape(), axis);
  CS_CHECK(out.numel() == v.outer * v.inner,
           op << ": output " << shape_str(out.shape()) << " does not fit " << shape_str(x.shape())
              << " reduced over axis " << axis);
}
}  // namespace

void sum_axis(const Tensor& x, int axis, Tensor& out) {
  check_compatible({&x, &out}, "sum_axis");
  check_axis_output(x, axis, out, "sum_axis");
  if (out.numel() == 0) return;
  impl_for(x).sum_axis(x, axis_view(x.shape(), axis), 1.0, out);
}

void mean_axis(const Tensor& x, int axis, Tensor& out) {
  check_compatible({&x, &out}, "mean_axis");
  check_axis_output(x, axis, out, "mean_axis");
  const AxisView v = axis_view(x.shape(), axis);
  CS_CHECK(v.size > 0, "mean_axis: axis " << axis << " of " << shape_str(x.shape()) << " is empty");
  if (out.numel() == 0) return;
  impl_for(x).sum_axis(x, v, 1.0 / static_cast<double>(v.size), out);
}

void max_over_channels(const Tensor& x, Tensor& out) {
  check_compatible({&x, &out}, "max_over_channels");
  CS_CHECK(x.ndim() == 4 && x.dim(1) > 0, "max_over_channels: input must be (N, C, H, W), got "
                                              << shape_str(x.shape()));
  CS_CHECK(out.numel() == x.dim(0) * x.dim(2) * x.dim(3),
           "max_over_channels: output " << shape_str(out.shape()) << " for input "
                                        << shape_str(x.shape()) << " (expected (N, H, W))");
  if (out.numel() == 0) return;
  impl_for(x).max_over_channels(x, out);
}

void l2_norm(const Tensor& x, Tensor& out) {
  check_compatible({&x, &out}, "l2_norm");
  check_shape(out, {1}, "l2_norm: output");
  impl_for(x).l2_norm(x, out);
}

void argmax_rows(const Tensor& x, Tensor& out) {
  check_compute_dtype(x, "argmax_rows");
  CS_CHECK(x.ndim() == 2 && x.dim(1) > 0, "argmax_rows: input must be (N, K > 0), got "
                                              << shape_str(x.shape()));
  check_shape(out, {x.dim(0)}, "argmax_rows: output");
  check_dtype(out, DType::I32, "argmax_rows: output");
  check_same_device(x, out, "argmax_rows");
  if (out.numel() == 0) return;
  impl_for(x).argmax_rows(x, out);
}

void topk_rows(const Tensor& x, int k, Tensor& values, Tensor& indices) {
  check_compatible({&x, &values}, "topk_rows");
  CS_CHECK(x.ndim() == 2, "topk_rows: input must be (N, K), got " << shape_str(x.shape()));
  CS_CHECK(k >= 1 && k <= x.dim(1), "topk_rows: k = " << k << " outside [1, " << x.dim(1) << "]");
  check_shape(values, {x.dim(0), k}, "topk_rows: values");
  check_shape(indices, {x.dim(0), k}, "topk_rows: indices");
  check_dtype(indices, DType::I32, "topk_rows: indices");
  check_same_device(x, indices, "topk_rows");
  if (values.numel() == 0) return;
  impl_for(x).topk_rows(x, k, values, indices);
}

void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) {
  CS_CHECK(x.defined() && out.defined(), "gather_rows: undefined tensor");
  CS_CHECK(x.ndim() >= 1, "gather_rows: input must have rows");
  check_dtype(indices, DType::I32, "gather_rows: indices");
  CS_CHECK(indices.ndim() == 1, "gather_rows: indices must be 1-D, got " << shape_str(indices.shape()));
  CS_CHECK(out.dtype() == x.dtype(), "gather_rows: output dtype " << dtype_name(out.dtype())
                                                                  << " differs from the input's");
  Shape expected = x.shape();
  expected[0] = indices.dim(0);
  check_shape(out, expected, "gather_rows: output");
  check_same_device(x, indices, "gather_rows");
  check_same_device(x, out, "gather_rows");
  // GPU indices: read back only with device checks on (see tensor_ops.h).
  if (indices.device().is_cpu() || device_checks()) {
    const Tensor host = indices.to(Device::cpu());
    const int32_t* p = host.data<int32_t>();
    for (int64_t i = 0; i < host.numel(); ++i)
      CS_CHECK(p[i] >= 0 && p[i] < x.dim(0),
               "gather_rows: index " << p[i] << " at " << i << " outside [0, " << x.dim(0) << ")");
  }
  if (out.numel() == 0) return;
  impl_for(x).gather_rows(x, indices, out);
}

void u8_to_float_normalized(const Tensor& x, const std::vector<float>& mean,
                            const std::vector<float>& std, Tensor& out) {
  check_dtype(x, DType::U8, "u8_to_float_normalized: input");
  check_dtype(out, DType::F32, "u8_to_float_normalized: output");
  check_same_device(x, out, "u8_to_float_normalized");
  CS_CHECK(x.ndim() >= 2, "u8_to_float_normalized: input must be (N, C, ...), got "
                              << shape_str(x.shape()));
  check_shape(out, x.shape(), "u8_to_float_normalized: output");
  const size_t c = static_cast<size_t>(x.dim(1));
  CS_CHECK((mean.size() == 1 || mean.size() == c) && mean.size() == std.size(),
           "u8_to_float_normalized: " << mean.size() << " means and " << std.size()
                                      << " deviations for " << c << " channels");
  for (float s : std) CS_CHECK(s > 0, "u8_to_float_normalized: standard deviation " << s);
  if (x.numel() == 0) return;
  impl_for(x).u8_to_float(x, mean, std, out);
}

// ---- CPU reference ------------------------------------------------------------------------

namespace {

void cpu_add_channel_bias(Tensor& y, const Tensor& bias, const AxisView& v) {
  dispatch_floating(y.dtype(), "add_channel_bias", [&](auto zero) {
    using T = decltype(zero);
    T* py = y.data<T>();
    const T* pb = bias.data<T>();
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t c = 0; c < v.size; ++c)
        for (int64_t i = 0; i < v.inner; ++i) py[(o * v.size + c) * v.inner + i] += pb[c];
  });
}

void cpu_sum_axis(const Tensor& x, const AxisView& v, double scale, Tensor& out) {
  dispatch_floating(x.dtype(), "sum_axis", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        double total = 0;
        for (int64_t a = 0; a < v.size; ++a) total += px[(o * v.size + a) * v.inner + i];
        po[o * v.inner + i] = static_cast<T>(total * scale);
      }
  });
}

void cpu_max_over_channels(const Tensor& x, Tensor& out) {
  dispatch_floating(x.dtype(), "max_over_channels", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) {
        T best = px[i * c * hw + j];
        for (int64_t k = 1; k < c; ++k) best = std::max(best, px[(i * c + k) * hw + j]);
        po[i * hw + j] = best;
      }
  });
}

void cpu_l2_norm(const Tensor& x, Tensor& out) {
  dispatch_floating(x.dtype(), "l2_norm", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    double total = 0;
    for (int64_t i = 0; i < x.numel(); ++i) total += static_cast<double>(px[i]) * px[i];
    out.data<T>()[0] = static_cast<T>(std::sqrt(total));
  });
}

void cpu_argmax_rows(const Tensor& x, Tensor& out) {
  dispatch_floating(x.dtype(), "argmax_rows", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = x.dim(0), k = x.dim(1);
    for (int64_t i = 0; i < n; ++i) {
      const T* row = x.data<T>() + i * k;
      int64_t best = 0;
      for (int64_t j = 1; j < k; ++j)
        if (row[j] > row[best]) best = j;  // strict: the first maximum wins
      out.data<int32_t>()[i] = static_cast<int32_t>(best);
    }
  });
}

void cpu_topk_rows(const Tensor& x, int k, Tensor& values, Tensor& indices) {
  dispatch_floating(x.dtype(), "topk_rows", [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = x.dim(0), width = x.dim(1);
    std::vector<int32_t> order(static_cast<size_t>(width));
    for (int64_t i = 0; i < n; ++i) {
      const T* row = x.data<T>() + i * width;
      std::iota(order.begin(), order.end(), 0);
      // Larger first; equal values keep the lower index first.
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [row](int32_t a, int32_t b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
      });
      for (int j = 0; j < k; ++j) {
        values.data<T>()[i * k + j] = row[order[j]];
        indices.data<int32_t>()[i * k + j] = order[j];
      }
    }
  });
}

void cpu_gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) {
  const size_t row_bytes = static_cast<size_t>(x.numel() / std::max<int64_t>(x.dim(0), 1)) *
                           dtype_size(x.dtype());
  const auto* src = static_cast<const unsigned char*>(x.raw_data());
  auto* dst = static_cast<unsigned char*>(out.raw_data());
  const int32_t* idx = indices.data<int32_t>();
  for (int64_t i = 0; i < indices.numel(); ++i)
    std::memcpy(dst + i * row_bytes, src + static_cast<size_t>(idx[i]) * row_bytes, row_bytes);
}

void cpu_u8_to_float(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& std,
                     Tensor& out) {
  const AxisView v = axis_view(x.shape(), 1);
  const uint8_t* px = x.data<uint8_t>();
  float* po = out.data<float>();
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t c = 0; c < v.size; ++c) {
      const size_t k = mean.size() == 1 ? 0 : static_cast<size_t>(c);
      // (x/255 - mean) / std, rounded the same way on every device.
      const float inv_std = 1.0f / std[k];
      for (int64_t i = 0; i < v.inner; ++i) {
        const int64_t j = (o * v.size + c) * v.inner + i;
        po[j] = (static_cast<float>(px[j]) / 255.0f - mean[k]) * inv_std;
      }
    }
}

}  // namespace

CS_REGISTER_OP(tensor_ops_registry, DeviceType::CPU,
               (TensorOpsImpl{&cpu_add_channel_bias, &cpu_sum_axis, &cpu_max_over_channels,
                              &cpu_l2_norm, &cpu_argmax_rows, &cpu_topk_rows, &cpu_gather_rows,
                              &cpu_u8_to_float}))

}  // namespace cs::kernels
