// cuDNN convolution, the reference for bench/bench_conv.cpp: the same cases,
// the same three directions, the algorithm cuDNN itself finds fastest
// (cudnnFind*, run once per case and direction) and names in the label.
//
//   BM_ConvFwd/cudnn/<case>, BM_ConvBwdData/cudnn/<case>, BM_ConvBwdWeight/cudnn/<case>
//       fp32 with CUDNN_FMA_MATH: no tensor cores, no TF32 (PyTorch's
//       setting when allow_tf32 is off). The reference of our rows.
//   BM_Conv*/cudnn_tf32/<case>   CUDNN_TENSOR_OP_MATH (TF32), for context,
//       on the batch-128 AlexNet and ZFNet layers.
#include <map>
#include <memory>
#include <mutex>

#include "bench/cuda/cudnn_util.h"
#include "bench/model_layers.h"

namespace cs::bench::cudnn {
namespace {

enum class Dir { Fwd, BwdData, BwdWeight };
const char* family(Dir d) {
  return d == Dir::Fwd ? "ConvFwd" : d == Dir::BwdData ? "ConvBwdData" : "ConvBwdWeight";
}

const char* algo_name(Dir d, int a) {
  static const char* fwd[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                              "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* data[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* filter[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED",
                                 "FFT_TILING"};
  if (d == Dir::Fwd && a >= 0 && a < 8) return fwd[a];
  if (d == Dir::BwdData && a >= 0 && a < 6) return data[a];
  if (d == Dir::BwdWeight && a >= 0 && a < 7) return filter[a];
  return "?";
}

bool is_tensor_op(cudnnMathType_t m) {
  return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
}

// cuDNN's choice for one case, direction and math mode.
struct Choice {
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_FMA_MATH;
  bool deterministic = true;
};

// Picks the fastest successful result; fp32 rows refuse tensor-op results.
template <typename Perf>
Choice pick(const Perf* perf, int returned, bool tf32, Dir dir) {
  for (int i = 0; i < returned; ++i) {  // sorted fastest first
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (!tf32 && is_tensor_op(perf[i].mathType)) continue;
    return {static_cast<int>(perf[i].algo), perf[i].memory, perf[i].mathType,
            perf[i].determinism == CUDNN_DETERMINISTIC};
  }
  CS_FAIL("cuDNN found no " << (tf32 ? "TF32" : "fp32") << " algorithm for " << family(dir));
}

class Conv {
 public:
  Conv(const ConvCase& c, Dir dir, bool tf32) : dir_(dir), tf32_(tf32) {
    const Device gpu = Device::cuda();
    // x (N,C,H,W): the input, or gx for backward-data; w (K,C/g,R,S): the
    // filters, or gw for backward-weight; y (N,K,P,Q): the output, or gy for
    // the backward passes. Outputs need no values.
    x_ = dir == Dir::BwdData ? Tensor::empty(c.x_shape(), gpu) : Tensor::uniform(c.x_shape(), -1, 1, 1, gpu);
    w_ = dir == Dir::BwdWeight ? Tensor::empty(c.w_shape(), gpu) : Tensor::uniform(c.w_shape(), -1, 1, 2, gpu);
    y_ = dir == Dir::Fwd ? Tensor::empty(c.y_shape(), gpu) : Tensor::uniform(c.y_shape(), -1, 1, 3, gpu);
    set_nchw(xd_, c.x_shape());
    set_nchw(yd_, c.y_shape());
    const Shape ws = c.w_shape();
    CS_CUDNN_CHECK(cudnnSetFilter4dDescriptor(wd_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(ws[0]),
                                              int(ws[1]), int(ws[2]), int(ws[3])));
    const kernels::Conv2dArgs& a = c.args;
    CS_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(cd_, a.pad_h, a.pad_w, a.stride_h, a.stride_w,
                                                   a.dilation_h, a.dilation_w,
                                                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CS_CUDNN_CHECK(cudnnSetConvolutionGroupCount(cd_, a.groups));
    // Not CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: that lets cuDNN down-convert
    // fp32 to fp16, which would be neither TF32 nor the PyTorch setting.
    CS_CUDNN_CHECK(cudnnSetConvolutionMathType(cd_, tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
    choice_ = choose(std::string(family(dir)) + "/" + c.name + (tf32 ? "/tf32" : ""));
    // TF32 rows run with the math type of the result they chose (it may be
    // an FMA kernel, when that was fastest); fp32 rows stay on FMA math.
    if (tf32) CS_CUDNN_CHECK(cudnnSetConvolutionMathType(cd_, choice_.math));
    workspace_ = Tensor::empty({static_cast<int64_t>(std::max<size_t>(choice_.workspace, 1))}, gpu,
                               DType::U8);
  }

  void run() {
    const float one = 1.f, zero = 0.f;
    cudnnHandle_t h = handle();
    void* ws = workspace_.raw_data();
    const size_t bytes = choice_.workspace;
    if (dir_ == Dir::Fwd)
      CS_CUDNN_CHECK(cudnnConvolutionForward(h, &one, xd_, x_.raw_data(), wd_, w_.raw_data(), cd_,
                                             static_cast<cudnnConvolutionFwdAlgo_t>(choice_.algo),
                                             ws, bytes, &zero, yd_, y_.raw_data()));
    else if (dir_ == Dir::BwdData)
      CS_CUDNN_CHECK(cudnnConvolutionBackwardData(
          h, &one, wd_, w_.raw_data(), yd_, y_.raw_data(), cd_,
          static_cast<cudnnConvolutionBwdDataAlgo_t>(choice_.algo), ws, bytes, &zero, xd_, x_.raw_data()));
    else
      CS_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
          h, &one, xd_, x_.raw_data(), yd_, y_.raw_data(), cd_,
          static_cast<cudnnConvolutionBwdFilterAlgo_t>(choice_.algo), ws, bytes, &zero, wd_, w_.raw_data()));
  }

  std::string what() const {
    std::string s = std::string("cuDNN ") + algo_name(dir_, choice_.algo) +
                    (is_tensor_op(choice_.math) ? " (TF32" : " (fp32") + ", ws " +
                    std::to_string((choice_.workspace + (1 << 20) - 1) >> 20) + " MB";
    if (!choice_.deterministic) s += ", nondeterministic";
    return s + ")";
  }

 private:
  // cudnnFind* once per key: it times every algorithm, which is slow.
  Choice choose(const std::string& key) {
    static std::mutex mutex;
    static auto* cache = new std::map<std::string, Choice>;  // numbers only
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache->find(key);
    if (it != cache->end()) return it->second;
    cudnnHandle_t h = handle();
    int returned = 0;
    Choice c;
    if (dir_ == Dir::Fwd) {
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      CS_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, xd_, wd_, cd_, yd_,
                                                          CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf));
      c = pick(perf, returned, tf32_, dir_);
    } else if (dir_ == Dir::BwdData) {
      cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      CS_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(
          h, wd_, yd_, cd_, xd_, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &returned, perf));
      c = pick(perf, returned, tf32_, dir_);
    } else {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      CS_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(
          h, xd_, yd_, cd_, wd_, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned, perf));
      c = pick(perf, returned, tf32_, dir_);
    }
    (*cache)[key] = c;
    return c;
  }

  Dir dir_;
  bool tf32_;
  Tensor x_, w_, y_, workspace_;
  TensorDesc xd_, yd_;
  FilterDesc wd_;
  ConvDesc cd_;
  Choice choice_;
};

[[maybe_unused]] const bool registered = [] {
  for (const ConvCase& c : gpu_layers().conv)
    for (Dir d : {Dir::Fwd, Dir::BwdData, Dir::BwdWeight}) {
      const Cost cost{c.flops(), 0};
      add_reference_row(family(d), c.name, cost, [c, d] { return std::make_unique<Conv>(c, d, false); });
      if (c.n == 128)  // TF32 for context on the large layers
        add_row(row_name(family(d), "cudnn_tf32", c.name),
                [cost, c, d](benchmark::State& s) {
                  reference_row(s, "", cost, [c, d] { return std::make_unique<Conv>(c, d, true); }, true);
                });
    }
  return true;
}();

}  // namespace
}  // namespace cs::bench::cudnn
