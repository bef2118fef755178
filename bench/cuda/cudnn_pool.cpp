// cuDNN pooling, the reference for bench/bench_pool.cpp: the same cases,
// max (CUDNN_POOLING_MAX) and average counting padding
// (CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, PyTorch's default), forward
// and backward (cuDNN's backward reads x, y and dy).
//
//   BM_MaxPoolFwd/cudnn/<case> ... BM_AvgPoolBwd/cudnn/<case>
//
// cuDNN has no ceil mode: for ZFNet's ceil-mode layers it pads by one cell
// instead, which gives the same output size and the same work (the values
// differ; the timing is what is compared). The label says so.
#include <memory>

#include "bench/cuda/cudnn_util.h"
#include "bench/model_layers.h"

namespace cs::bench::cudnn {
namespace {

enum class Op { MaxFwd, MaxBwd, AvgFwd, AvgBwd };
const char* family(Op op) {
  switch (op) {
    case Op::MaxFwd: return "MaxPoolFwd";
    case Op::MaxBwd: return "MaxPoolBwd";
    case Op::AvgFwd: return "AvgPoolFwd";
    case Op::AvgBwd: return "AvgPoolBwd";
  }
  return "?";
}

class Pool {
 public:
  Pool(const PoolCase& c, Op op) : op_(op) {
    const Device gpu = Device::cuda();
    const Shape ys = c.y_shape();
    x_ = Tensor::uniform(c.x_shape(), -1, 1, 1, gpu);  // (N, C, H, W)
    y_ = Tensor::empty(ys, gpu);                       // (N, C, P, Q)
    gy_ = Tensor::uniform(ys, -1, 1, 2, gpu);
    gx_ = Tensor::empty(c.x_shape(), gpu);
    const kernels::Pool2dArgs& a = c.args;
    // Ceil mode: pad until cuDNN's floor-mode output has our size.
    int pad_h = a.pad_h, pad_w = a.pad_w;
    while ((c.h + 2 * pad_h - a.kernel_h) / a.stride_h + 1 < ys[2]) ++pad_h;
    while ((c.w + 2 * pad_w - a.kernel_w) / a.stride_w + 1 < ys[3]) ++pad_w;
    padded_for_ceil_ = pad_h != a.pad_h || pad_w != a.pad_w;
    const bool max = op == Op::MaxFwd || op == Op::MaxBwd;
    CS_CUDNN_CHECK(cudnnSetPooling2dDescriptor(
        pd_, max ? CUDNN_POOLING_MAX : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, CUDNN_NOT_PROPAGATE_NAN,
        a.kernel_h, a.kernel_w, pad_h, pad_w, a.stride_h, a.stride_w));
    set_nchw(xd_, c.x_shape());
    set_nchw(yd_, ys);
    int n = 0, ch = 0, p = 0, q = 0;
    CS_CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(pd_, xd_, &n, &ch, &p, &q));
    CS_CHECK(p == ys[2] && q == ys[3], "cuDNN pooling output " << p << "x" << q << " differs from "
                                                               << shape_str(ys) << " for " << c.name);
    if (op == Op::MaxBwd || op == Op::AvgBwd) forward();  // y, which cuDNN's backward reads
  }

  void run() {
    if (op_ == Op::MaxFwd || op_ == Op::AvgFwd) {
      forward();
      return;
    }
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnPoolingBackward(handle(), pd_, &one, yd_, y_.raw_data(), yd_, gy_.raw_data(), xd_,
                                        x_.raw_data(), &zero, xd_, gx_.raw_data()));
  }

  std::string what() const {
    return std::string("cuDNN pooling") + (padded_for_ceil_ ? " (ceil mode as padding)" : "");
  }

 private:
  void forward() {
    const float one = 1.f, zero = 0.f;
    CS_CUDNN_CHECK(cudnnPoolingForward(handle(), pd_, &one, xd_, x_.raw_data(), &zero, yd_, y_.raw_data()));
  }

  Op op_;
  bool padded_for_ceil_ = false;
  Tensor x_, y_, gy_, gx_;
  TensorDesc xd_, yd_;
  PoolDesc pd_;
};

[[maybe_unused]] const bool registered = [] {
  for (const PoolCase& c : gpu_layers().pool)
    for (Op op : {Op::MaxFwd, Op::MaxBwd, Op::AvgFwd, Op::AvgBwd}) {
      const std::string key = std::string(family(op)) + "/" + c.name;
      const Shape ys = c.y_shape();
      const Cost cost{0, kF32 * static_cast<double>(shape_numel(c.x_shape()) + shape_numel(ys))};
      auto make = [c, op] { return std::make_unique<Pool>(c, op); };
      register_reference(key, make);
      add_row(std::string("BM_") + family(op) + "/cudnn/" + c.name,
              [key, cost, make](benchmark::State& s) { reference_row(s, key, cost, make); });
    }
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
