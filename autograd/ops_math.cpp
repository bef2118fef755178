// Arithmetic, reductions, reshapes and Gram matrices on the tape.
#include "autograd/ops.h"
#include "kernels/elementwise.h"
#include "kernels/gram.h"
#include "kernels/image_ops.h"
#include "kernels/reduce.h"

namespace cs::ag {

namespace {

void check_same_shape(const Variable& a, const Variable& b, const char* op) {
  CS_CHECK(a.shape() == b.shape(), op << ": shapes differ: " << shape_str(a.shape()) << " and "
                                      << shape_str(b.shape()));
}

// A tensor of `shape` filled with the single value of g (read back to the host).
Tensor broadcast_scalar(const Tensor& g, const Shape& shape, double factor) {
  Tensor out = Tensor::empty(shape, g.device(), g.dtype());
  kernels::fill(out, g.item() * factor);
  return out;
}

}  // namespace

Variable add(const Variable& a, const Variable& b) {
  check_same_shape(a, b, "add");
  Tensor y = Tensor::empty_like(a.value());
  kernels::add(a.value(), b.value(), y);
  return record("add", {a, b}, y, [](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{g[0], g[0]};
  });
}

Variable sub(const Variable& a, const Variable& b) {
  check_same_shape(a, b, "sub");
  Tensor y = Tensor::empty_like(a.value());
  kernels::sub(a.value(), b.value(), y);
  return record("sub", {a, b}, y, [](const std::vector<Tensor>& g, const std::vector<bool>& needs) {
    Tensor gb;
    if (needs[1]) {
      gb = Tensor::empty_like(g[0]);
      kernels::scale(g[0], -1.0, gb);
    }
    return std::vector<Tensor>{g[0], gb};
  });
}

Variable mul(const Variable& a, const Variable& b) {
  check_same_shape(a, b, "mul");
  const Tensor av = a.value(), bv = b.value();
  Tensor y = Tensor::empty_like(av);
  kernels::mul(av, bv, y);
  return record("mul", {a, b}, y,
                [av, bv](const std::vector<Tensor>& g, const std::vector<bool>& needs) {
                  std::vector<Tensor> grads(2);
                  if (needs[0]) {
                    grads[0] = Tensor::empty_like(av);
                    kernels::mul(g[0], bv, grads[0]);
                  }
                  if (needs[1]) {
                    grads[1] = Tensor::empty_like(bv);
                    kernels::mul(g[0], av, grads[1]);
                  }
                  return grads;
                });
}

Variable scale(const Variable& x, double alpha) {
  Tensor y = Tensor::empty_like(x.value());
  kernels::scale(x.value(), alpha, y);
  return record("scale", {x}, y, [alpha](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor gx = Tensor::empty_like(g[0]);
    kernels::scale(g[0], alpha, gx);
    return std::vector<Tensor>{gx};
  });
}

Variable sum(const Variable& x) {
  Tensor y = Tensor::empty({1}, x.device(), x.dtype());
  kernels::sum_all(x.value(), y);
  return record("sum", {x}, y, [shape = x.shape()](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{broadcast_scalar(g[0], shape, 1.0)};
  });
}

Variable mean(const Variable& x) {
  const int64_t n = x.value().numel();
  CS_CHECK(n > 0, "mean of an empty tensor");
  Tensor total = Tensor::empty({1}, x.device(), x.dtype());
  kernels::sum_all(x.value(), total);
  Tensor y = Tensor::empty({1}, x.device(), x.dtype());
  kernels::scale(total, 1.0 / static_cast<double>(n), y);
  return record("mean", {x}, y, [shape = x.shape(), n](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{broadcast_scalar(g[0], shape, 1.0 / static_cast<double>(n))};
  });
}

Variable sum_squares(const Variable& x) {
  const Tensor xv = x.value();
  Tensor squares = Tensor::empty_like(xv);
  kernels::mul(xv, xv, squares);
  Tensor y = Tensor::empty({1}, xv.device(), xv.dtype());
  kernels::sum_all(squares, y);
  return record("sum_squares", {x}, y, [xv](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor gx = Tensor::empty_like(xv);
    kernels::scale(xv, 2.0 * g[0].item(), gx);
    return std::vector<Tensor>{gx};
  });
}

Variable reshape(const Variable& x, const Shape& shape) {
  const Tensor y = x.value().reshape(shape);
  return record("reshape", {x}, y,
                [in_shape = x.shape()](const std::vector<Tensor>& g, const std::vector<bool>&) {
                  return std::vector<Tensor>{g[0].reshape(in_shape)};
                });
}

Variable flatten(const Variable& x) {
  CS_CHECK(x.ndim() >= 1, "flatten of a 0-d variable");
  return reshape(x, {x.dim(0), -1});
}

Variable gram(const Variable& f) {
  const Tensor fv = f.value();
  CS_CHECK(fv.ndim() == 4, "gram: features must be (N, C, H, W), got " << shape_str(fv.shape()));
  Tensor g = Tensor::empty({fv.dim(0), fv.dim(1), fv.dim(1)}, fv.device(), fv.dtype());
  kernels::gram_forward(fv, g);
  return record("gram", {f}, g, [fv](const std::vector<Tensor>& gg, const std::vector<bool>&) {
    Tensor gf = Tensor::empty_like(fv);
    kernels::gram_backward(fv, gg[0], gf);
    return std::vector<Tensor>{gf};
  });
}

Variable total_variation(const Variable& x) {
  const Tensor xv = x.value();
  Tensor loss = Tensor::empty({1}, xv.device(), xv.dtype());
  kernels::total_variation_forward(xv, loss);
  return record("total_variation", {x}, loss, [xv](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor gx = Tensor::empty_like(xv);
    kernels::total_variation_backward(xv, g[0], gx);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace cs::ag
