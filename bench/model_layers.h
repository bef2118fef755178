// The layer shapes the kernel benchmarks run: every conv, pool, batch-norm,
// LRN, dropout, softmax and linear layer of fashion-cnn (batch 64 and 256),
// AlexNet and ZFNet (batch 1 and 128, 224x224), taken from the built-in specs
// models/specs/{fashion-cnn,alexnet,zfnet}.spec (`convscope summary --model
// NAME` prints the same shapes). Hard-coded so registering the rows costs
// nothing; bench/model_layers.cpp names each layer's spec path.
//
// Case names read "<model>_<layer>_n<batch>_<input C>x<H>x<W>..." so a row
// name alone says what ran.
#pragma once

#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/conv2d.h"
#include "kernels/lrn.h"
#include "kernels/pool.h"
#include "runtime/tensor.h"

namespace cs::bench {

// x: (n, c, h, w)   w: (k, c/groups, r, s)   y: (n, k, p, q)
struct ConvCase {
  std::string name;
  int64_t n, c, h, w, k, r, s;
  kernels::Conv2dArgs args;
  Shape x_shape() const { return {n, c, h, w}; }
  Shape w_shape() const { return {k, c / args.groups, r, s}; }
  Shape y_shape() const { return kernels::conv2d_output_shape(x_shape(), w_shape(), args); }
  // 2 * N*K*P*Q * (C/groups)*R*S: the same count for forward, backward-data
  // and backward-weight.
  double flops() const;
};

// x: (n, c, h, w) -> y: (n, c, p, q)
struct PoolCase {
  std::string name;
  int64_t n, c, h, w;
  kernels::Pool2dArgs args;
  Shape x_shape() const { return {n, c, h, w}; }
  Shape y_shape() const { return kernels::pool2d_output_shape(x_shape(), args); }
};

// The four pooling row families (bench_pool.cpp and its cuDNN reference):
// "MaxPoolFwd", "MaxPoolBwd", "AvgPoolFwd", "AvgPoolBwd".
enum class PoolOp { MaxFwd, MaxBwd, AvgFwd, AvgBwd };
inline constexpr PoolOp kPoolOps[] = {PoolOp::MaxFwd, PoolOp::MaxBwd, PoolOp::AvgFwd, PoolOp::AvgBwd};
const char* pool_family(PoolOp op);
inline bool is_max(PoolOp op) { return op == PoolOp::MaxFwd || op == PoolOp::MaxBwd; }
inline bool is_backward(PoolOp op) { return op == PoolOp::MaxBwd || op == PoolOp::AvgBwd; }

// x: (n, c, h, w): batch norm (per channel) and LRN (across channels).
struct ChannelCase {
  std::string name;
  int64_t n, c, h, w;
  kernels::LrnArgs lrn;  // LRN cases only
  Shape x_shape() const { return {n, c, h, w}; }
};

// x: (n, k): softmax over classes, dropout over features.
struct RowsCase {
  std::string name;
  int64_t n, k;
  double p = 0;  // dropout probability (dropout cases)
};

// y (batch, out) = x (batch, in) W^T, W: (out, in). GEMM rows (bench_gemm.cpp).
struct LinearCase {
  std::string name;  // "alexnet_fc6_n128_9216x4096"
  int64_t batch, in, out;
};

struct ModelLayers {
  std::vector<ConvCase> conv;
  std::vector<PoolCase> pool;
  std::vector<ChannelCase> batchnorm, lrn;
  std::vector<RowsCase> softmax, dropout;
  std::vector<LinearCase> linear;
};

// The GPU cases: the three models at their benchmark batch sizes.
const ModelLayers& gpu_layers();
// The CPU cases, small enough to run in seconds: fashion-cnn at batch 16,
// and ZFNet's LRN layers at batch 1.
const ModelLayers& cpu_layers();

// How the kernel suites register their rows: add(case, Device::cuda(), "cuda")
// for each GPU case of one layer kind, then add(case, Device::cpu(), "cpu")
// for each CPU case; e.g. for_each_device_case(&ModelLayers::pool, add).
template <typename Case, typename Add>
void for_each_device_case(std::vector<Case> ModelLayers::*kind, Add&& add) {
  for (const Case& c : gpu_layers().*kind) add(c, Device::cuda(), std::string("cuda"));
  for (const Case& c : cpu_layers().*kind) add(c, Device::cpu(), std::string("cpu"));
}

// The forward and backward rows of one layer kind on both devices,
// BM_<fwd_family>/<dev>/<case> and BM_<bwd_family>/<dev>/<case>, each
// running bm(state, case, backward, device).
template <typename Case>
void add_fwd_bwd_device_rows(std::vector<Case> ModelLayers::*kind, const char* fwd_family, const char* bwd_family,
                             void (*bm)(benchmark::State&, const Case&, bool, Device)) {
  for_each_device_case(kind, [&](const Case& c, Device device, const std::string& dev) {
    for (bool bwd : {false, true})
      add_row(row_name(bwd ? bwd_family : fwd_family, dev, c.name),
              [bm, c, bwd, device](benchmark::State& s) { bm(s, c, bwd, device); });
  });
}

}  // namespace cs::bench
