// Convolution and linear layers on the tape.
#include "autograd/ops.h"
#include "kernels/gemm.h"
#include "kernels/tensor_ops.h"

namespace cs::ag {

Variable conv2d(const Variable& x, const Variable& w, const Variable& bias,
                const kernels::Conv2dArgs& args) {
  const Tensor xv = x.value(), wv = w.value();
  Tensor y = Tensor::empty(kernels::conv2d_output_shape(xv.shape(), wv.shape(), args), xv.device(),
                           xv.dtype());
  const Tensor bv = bias.defined() ? bias.value() : Tensor();
  kernels::conv2d_forward(xv, wv, bv, y, args);
  return record("conv2d", {x, w, bias}, y,
                [xv, wv, args, has_bias = bias.defined()](const std::vector<Tensor>& g,
                                                          const std::vector<bool>& needs) {
                  std::vector<Tensor> grads(3);
                  if (needs[0]) {
                    grads[0] = Tensor::empty_like(xv);
                    kernels::conv2d_backward_data(g[0], wv, grads[0], args);
                  }
                  if (needs[1]) {
                    grads[1] = Tensor::empty_like(wv);
                    kernels::conv2d_backward_weight(xv, g[0], grads[1], args);
                  }
                  if (has_bias && needs[2]) {
                    grads[2] = Tensor::empty({wv.dim(0)}, wv.device(), wv.dtype());
                    kernels::conv2d_backward_bias(g[0], grads[2]);
                  }
                  return grads;
                });
}

Variable linear(const Variable& x, const Variable& w, const Variable& bias) {
  const Tensor xv = x.value(), wv = w.value();
  CS_CHECK(xv.ndim() == 2, "linear: input must be (N, features), got "
                               << shape_str(xv.shape()) << " (flatten it first)");
  CS_CHECK(wv.ndim() == 2 && wv.dim(1) == xv.dim(1),
           "linear: weight " << shape_str(wv.shape()) << " does not fit input "
                             << shape_str(xv.shape()) << " (expected (out, " << xv.dim(1) << "))");
  Tensor y = Tensor::empty({xv.dim(0), wv.dim(0)}, xv.device(), xv.dtype());
  kernels::gemm(xv, kernels::Transpose::No, wv, kernels::Transpose::Yes, y);
  if (bias.defined()) {
    CS_CHECK(bias.value().shape() == Shape{wv.dim(0)},
             "linear: bias " << shape_str(bias.shape()) << " for " << wv.dim(0) << " outputs");
    kernels::add_channel_bias(y, bias.value());
  }
  return record("linear", {x, w, bias}, y,
                [xv, wv, has_bias = bias.defined()](const std::vector<Tensor>& g,
                                                    const std::vector<bool>& needs) {
                  std::vector<Tensor> grads(3);
                  if (needs[0]) {  // gx (N, in) = gy (N, out) w (out, in)
                    grads[0] = Tensor::empty_like(xv);
                    kernels::gemm(g[0], kernels::Transpose::No, wv, kernels::Transpose::No,
                                  grads[0]);
                  }
                  if (needs[1]) {  // gw (out, in) = gy^T (out, N) x (N, in)
                    grads[1] = Tensor::empty_like(wv);
                    kernels::gemm(g[0], kernels::Transpose::Yes, xv, kernels::Transpose::No,
                                  grads[1]);
                  }
                  if (has_bias && needs[2]) {
                    grads[2] = Tensor::empty({wv.dim(0)}, wv.device(), wv.dtype());
                    kernels::channel_sum(g[0], grads[2]);
                  }
                  return grads;
                });
}

}  // namespace cs::ag
