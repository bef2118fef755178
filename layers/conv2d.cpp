#include "layers/conv2d.h"

#include <cmath>
#include <sstream>

#include "autograd/ops.h"

namespace cs::nn {

Conv2d::Conv2d(const Conv2dOptions& options) : Module("Conv2d"), options_(options) {
  const auto& a = options.args;
  CS_CHECK(options.in_channels > 0 && options.out_channels > 0,
           "Conv2d: channels must be positive, got " << options.in_channels << " -> "
                                                     << options.out_channels);
  CS_CHECK(options.kernel_h > 0 && options.kernel_w > 0,
           "Conv2d: kernel size must be positive, got " << options.kernel_h << "x" << options.kernel_w);
  CS_CHECK(a.groups > 0 && options.in_channels % a.groups == 0 && options.out_channels % a.groups == 0,
           "Conv2d: groups=" << a.groups << " must divide in_channels=" << options.in_channels
                             << " and out_channels=" << options.out_channels);
  weight_ = register_parameter(
      "weight", Tensor::zeros({options.out_channels, options.in_channels / a.groups, options.kernel_h,
                               options.kernel_w}));
  if (options.bias) bias_ = register_parameter("bias", Tensor::zeros({options.out_channels}));
  reset_parameters(0);
}

void Conv2d::reset_parameters(uint64_t seed) {
  const Shape ws = weight_.shape();
  const double fan_in = static_cast<double>(ws[1] * ws[2] * ws[3]);
  const double bound = 1.0 / std::sqrt(fan_in);
  const uint64_t s = seed_for_path(seed);
  const Device d = weight_.device();
  weight_.value().copy_from(Tensor::uniform(ws, -bound, bound, mix_seed(s, 1), d, weight_.dtype()));
  if (bias_.defined())
    bias_.value().copy_from(
        Tensor::uniform(bias_.shape(), -bound, bound, mix_seed(s, 2), d, bias_.dtype()));
}

Variable Conv2d::forward(const Variable& x) {
  return ag::conv2d(x, weight_, bias_, options_.args);
}

std::string Conv2d::describe() const {
  const auto& a = options_.args;
  std::ostringstream out;
  out << "Conv2d(" << options_.in_channels << ", " << options_.out_channels << ", kernel="
      << options_.kernel_h << "x" << options_.kernel_w;
  if (a.stride_h != 1 || a.stride_w != 1) out << ", stride=" << a.stride_h << "x" << a.stride_w;
  if (a.pad_h || a.pad_w) out << ", padding=" << a.pad_h << "x" << a.pad_w;
  if (a.dilation_h != 1 || a.dilation_w != 1)
    out << ", dilation=" << a.dilation_h << "x" << a.dilation_w;
  if (a.groups != 1) out << ", groups=" << a.groups;
  if (!options_.bias) out << ", bias=false";
  out << ")";
  return out.str();
}

Shape Conv2d::output_shape(const Shape& input) const {
  CS_CHECK(input.size() == 4, "Conv2d expects an (N, C, H, W) input, got " << shape_str(input));
  CS_CHECK(input[1] == options_.in_channels,
           "Conv2d expects " << options_.in_channels << " input channels, got " << input[1]
                             << " (input " << shape_str(input) << ")");
  return kernels::conv2d_output_shape(input, weight_.shape(), options_.args);
}

int64_t Conv2d::flops(const Shape& input) const {
  const Shape out = output_shape(input);
  const int64_t per_output = 2LL * (options_.in_channels / options_.args.groups) *
                             options_.kernel_h * options_.kernel_w;
  return shape_numel(out) * per_output;
}

std::optional<LayerGeometry> Conv2d::geometry() const {
  const auto& a = options_.args;
  return LayerGeometry{options_.kernel_h, options_.kernel_w, a.stride_h, a.stride_w,
                       a.pad_h,           a.pad_w,           a.dilation_h, a.dilation_w};
}

}  // namespace cs::nn
