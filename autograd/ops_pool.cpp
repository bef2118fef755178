// Pooling and resizing on the tape.
#include "autograd/ops.h"
#include "kernels/resize.h"

namespace cs::ag {

Variable max_pool2d(const Variable& x, const kernels::Pool2dArgs& args) {
  const Tensor xv = x.value();
  const Shape out_shape = kernels::pool2d_output_shape(xv.shape(), args);
  Tensor y = Tensor::empty(out_shape, xv.device(), xv.dtype());
  Tensor switches = Tensor::empty(out_shape, xv.device(), DType::I32);
  kernels::max_pool2d_forward(xv, y, switches, args);
  return record("max_pool2d", {x}, y,
                [switches, args, in_shape = xv.shape()](const std::vector<Tensor>& g,
                                                  const std::vector<bool>&) {
                  // Unpooling: each gradient goes back to the input that won its window.
                  Tensor gx = Tensor::empty(in_shape, g[0].device(), g[0].dtype());
                  kernels::max_pool2d_backward(g[0], switches, gx, args);
                  return std::vector<Tensor>{gx};
                });
}

Variable avg_pool2d(const Variable& x, const kernels::Pool2dArgs& args) {
  const Tensor xv = x.value();
  Tensor y = Tensor::empty(kernels::pool2d_output_shape(xv.shape(), args), xv.device(), xv.dtype());
  kernels::avg_pool2d_forward(xv, y, args);
  return record("avg_pool2d", {x}, y,
                [args, in_shape = xv.shape()](const std::vector<Tensor>& g, const std::vector<bool>&) {
                  Tensor gx = Tensor::empty(in_shape, g[0].device(), g[0].dtype());
                  kernels::avg_pool2d_backward(g[0], gx, args);
                  return std::vector<Tensor>{gx};
                });
}

Variable adaptive_avg_pool2d(const Variable& x, int out_h, int out_w) {
  const Tensor xv = x.value();
  CS_CHECK(xv.ndim() == 4, "adaptive_avg_pool2d: input must be (N, C, H, W), got "
                               << shape_str(xv.shape()));
  CS_CHECK(out_h > 0 && out_w > 0, "adaptive_avg_pool2d: output size " << out_h << "x" << out_w);
  Tensor y = Tensor::empty({xv.dim(0), xv.dim(1), out_h, out_w}, xv.device(), xv.dtype());
  kernels::adaptive_avg_pool2d_forward(xv, y);
  return record("adaptive_avg_pool2d", {x}, y,
                [in_shape = xv.shape()](const std::vector<Tensor>& g, const std::vector<bool>&) {
                  Tensor gx = Tensor::empty(in_shape, g[0].device(), g[0].dtype());
                  kernels::adaptive_avg_pool2d_backward(g[0], gx);
                  return std::vector<Tensor>{gx};
                });
}

Variable resize_bilinear(const Variable& x, int out_h, int out_w) {
  const Tensor xv = x.value();
  CS_CHECK(xv.ndim() == 4, "resize_bilinear: input must be (N, C, H, W), got "
                               << shape_str(xv.shape()));
  CS_CHECK(out_h > 0 && out_w > 0, "resize_bilinear: output size " << out_h << "x" << out_w);
  Tensor y = Tensor::empty({xv.dim(0), xv.dim(1), out_h, out_w}, xv.device(), xv.dtype());
  kernels::resize_bilinear_forward(xv, y);
  return record("resize_bilinear", {x}, y,
                [in_shape = xv.shape()](const std::vector<Tensor>& g, const std::vector<bool>&) {
                  Tensor gx = Tensor::empty(in_shape, g[0].device(), g[0].dtype());
                  kernels::resize_bilinear_backward(g[0], gx);
                  return std::vector<Tensor>{gx};
                });
}

}  // namespace cs::ag
