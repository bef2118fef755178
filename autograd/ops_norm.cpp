// Batch norm and local response normalization on the tape.
#include "autograd/ops.h"
#include "kernels/batchnorm.h"

namespace cs::ag {

Variable batch_norm(const Variable& x, const Variable& gamma, const Variable& beta,
                    Tensor& running_mean, Tensor& running_var, bool training, double momentum,
                    double eps) {
  const Tensor xv = x.value(), gv = gamma.value(), bv = beta.value();
  Tensor y = Tensor::empty_like(xv);
  if (training) {
    const Shape c{xv.dim(1)};
    Tensor save_mean = Tensor::empty(c, xv.device(), xv.dtype());
    Tensor save_invstd = Tensor::empty(c, xv.device(), xv.dtype());
    kernels::batch_norm_forward_train(xv, gv, bv, running_mean, running_var, momentum, eps, y,
                                      save_mean, save_invstd);
    return record("batch_norm", {x, gamma, beta}, y,
                  [xv, gv, save_mean, save_invstd](const std::vector<Tensor>& g,
                                                   const std::vector<bool>&) {
                    std::vector<Tensor> grads{Tensor::empty_like(xv), Tensor::empty_like(gv),
                                              Tensor::empty_like(gv)};
                    kernels::batch_norm_backward_train(g[0], xv, gv, save_mean, save_invstd,
                                                       grads[0], grads[1], grads[2]);
                    return grads;
                  });
  }
  kernels::batch_norm_forward_eval(xv, gv, bv, running_mean, running_var, eps, y);
  // The statistics are constants here: copy them so later training steps
  // cannot change what this backward uses.
  return record("batch_norm_eval", {x, gamma, beta}, y,
                [xv, gv, rm = running_mean.clone(), rv = running_var.clone(), eps](
                    const std::vector<Tensor>& g, const std::vector<bool>&) {
                  std::vector<Tensor> grads{Tensor::empty_like(xv), Tensor::empty_like(gv),
                                            Tensor::empty_like(gv)};
                  kernels::batch_norm_backward_eval(g[0], xv, gv, rm, rv, eps, grads[0], grads[1],
                                                    grads[2]);
                  return grads;
                });
}

Variable lrn(const Variable& x, const kernels::LrnArgs& args) {
  const Tensor xv = x.value();
  Tensor y = Tensor::empty_like(xv);
  Tensor scale = Tensor::empty_like(xv);
  kernels::lrn_forward(xv, y, scale, args);
  return record("lrn", {x}, y,
                [xv, y, scale, args](const std::vector<Tensor>& g, const std::vector<bool>&) {
                  Tensor gx = Tensor::empty_like(xv);
                  kernels::lrn_backward(xv, y, scale, g[0], gx, args);
                  return std::vector<Tensor>{gx};
                });
}

}  // namespace cs::ag
