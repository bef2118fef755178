#include "layers/pooling.h"

#include <sstream>

#include "autograd/ops.h"

namespace cs::nn {

namespace {

std::string describe_pool(const char* type, const kernels::Pool2dArgs& a) {
  std::ostringstream out;
  out << type << "(kernel=" << a.kernel_h << "x" << a.kernel_w << ", stride=" << a.stride_h << "x"
      << a.stride_w;
  if (a.pad_h || a.pad_w) out << ", padding=" << a.pad_h << "x" << a.pad_w;
  if (a.ceil_mode) out << ", ceil_mode=true";
  out << ")";
  return out.str();
}

Shape pool_output_shape(const char* type, const Shape& input, const kernels::Pool2dArgs& args) {
  CS_CHECK(input.size() == 4, type << " expects an (N, C, H, W) input, got " << shape_str(input));
  return kernels::pool2d_output_shape(input, args);
}

LayerGeometry pool_geometry(const kernels::Pool2dArgs& a) {
  return LayerGeometry{a.kernel_h, a.kernel_w, a.stride_h, a.stride_w, a.pad_h, a.pad_w, 1, 1};
}

}  // namespace

MaxPool2d::MaxPool2d(const kernels::Pool2dArgs& args) : Module("MaxPool2d"), args_(args) {}
Variable MaxPool2d::forward(const Variable& x) { return ag::max_pool2d(x, args_); }
std::string MaxPool2d::describe() const { return describe_pool("MaxPool2d", args_); }
Shape MaxPool2d::output_shape(const Shape& input) const {
  return pool_output_shape("MaxPool2d", input, args_);
}
int64_t MaxPool2d::flops(const Shape& input) const {
  return shape_numel(output_shape(input)) * args_.kernel_h * args_.kernel_w;
}
std::optional<LayerGeometry> MaxPool2d::geometry() const { return pool_geometry(args_); }

AvgPool2d::AvgPool2d(const kernels::Pool2dArgs& args) : Module("AvgPool2d"), args_(args) {}
Variable AvgPool2d::forward(const Variable& x) { return ag::avg_pool2d(x, args_); }
std::string AvgPool2d::describe() const { return describe_pool("AvgPool2d", args_); }
Shape AvgPool2d::output_shape(const Shape& input) const {
  return pool_output_shape("AvgPool2d", input, args_);
}
int64_t AvgPool2d::flops(const Shape& input) const {
  return shape_numel(output_shape(input)) * args_.kernel_h * args_.kernel_w;
}
std::optional<LayerGeometry> AvgPool2d::geometry() const { return pool_geometry(args_); }

AdaptiveAvgPool2d::AdaptiveAvgPool2d(int out_h, int out_w)
    : Module("AdaptiveAvgPool2d"), out_h_(out_h), out_w_(out_w) {
  CS_CHECK(out_h > 0 && out_w > 0, "AdaptiveAvgPool2d: output size " << out_h << "x" << out_w);
}
Variable AdaptiveAvgPool2d::forward(const Variable& x) {
  return ag::adaptive_avg_pool2d(x, out_h_, out_w_);
}
std::string AdaptiveAvgPool2d::describe() const {
  std::ostringstream out;
  out << "AdaptiveAvgPool2d(" << out_h_ << "x" << out_w_ << ")";
  return out.str();
}
Shape AdaptiveAvgPool2d::output_shape(const Shape& input) const {
  CS_CHECK(input.size() == 4, "AdaptiveAvgPool2d expects an (N, C, H, W) input, got "
                                  << shape_str(input));
  return {input[0], input[1], out_h_, out_w_};
}

}  // namespace cs::nn
