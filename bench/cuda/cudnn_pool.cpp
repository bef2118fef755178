// cuDNN pooling, the reference for bench/bench_pool.cpp: the same cases,
// max (CUDNN_POOLING_MAX) and average counting padding as the case's
// count_include_pad says (CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, PyTorch's
// default, or _EXCLUDE_PADDING), forward
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

class Pool final : public FwdBwdOp {
 public:
  // x (N, C, H, W), y (N, C, P, Q)
  Pool(const PoolCase& c, PoolOp op) : FwdBwdOp(c.x_shape(), c.y_shape(), is_backward(op)) {
    const Shape ys = c.y_shape();
    const kernels::Pool2dArgs& a = c.args;
    // Ceil mode: pad until cuDNN's floor-mode output has our size.
    int pad_h = a.pad_h, pad_w = a.pad_w;
    while ((c.h + 2 * pad_h - a.kernel_h) / a.stride_h + 1 < ys[2]) ++pad_h;
    while ((c.w + 2 * pad_w - a.kernel_w) / a.stride_w + 1 < ys[3]) ++pad_w;
    padded_for_ceil_ = pad_h != a.pad_h || pad_w != a.pad_w;
    const cudnnPoolingMode_t avg = a.count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                                       : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    CS_CUDNN_CHECK(cudnnSetPooling2dDescriptor(pd_, is_max(op) ? CUDNN_POOLING_MAX : avg, CUDNN_NOT_PROPAGATE_NAN,
                                               a.kernel_h, a.kernel_w, pad_h, pad_w, a.stride_h, a.stride_w));
    int n = 0, ch = 0, p = 0, q = 0;
    CS_CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(pd_, xd_, &n, &ch, &p, &q));
    CS_CHECK(p == ys[2] && q == ys[3], "cuDNN pooling output " << p << "x" << q << " differs from "
                                                               << shape_str(ys) << " for " << c.name);
    prime();  // y, which cuDNN's backward reads
  }

  std::string what() const override {
    return std::string("cuDNN pooling") + (padded_for_ceil_ ? " (ceil mode as padding)" : "");
  }

 private:
  void forward() override {
    CS_CUDNN_CHECK(cudnnPoolingForward(handle(), pd_, &kOne, xd_, x_.raw_data(), &kZero, yd_, y_.raw_data()));
  }
  void backward() override {
    CS_CUDNN_CHECK(cudnnPoolingBackward(handle(), pd_, &kOne, yd_, y_.raw_data(), yd_, gy_.raw_data(), xd_,
                                        x_.raw_data(), &kZero, xd_, gx_.raw_data()));
  }

  bool padded_for_ceil_ = false;
  PoolDesc pd_;
};

[[maybe_unused]] const bool registered = [] {
  for (const PoolCase& c : gpu_layers().pool)
    for (PoolOp op : kPoolOps) {
      const Cost cost{0, kF32 * static_cast<double>(shape_numel(c.x_shape()) + shape_numel(c.y_shape()))};
      add_reference_row(pool_family(op), c.name, cost, [c, op] { return std::make_unique<Pool>(c, op); });
    }
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
