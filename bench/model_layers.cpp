#include "bench/model_layers.h"

#include <sstream>

namespace cs::bench {

double ConvCase::flops() const {
  const Shape y = y_shape();
  return 2.0 * static_cast<double>(n * k * y[2] * y[3]) * static_cast<double>((c / args.groups) * r * s);
}

const char* pool_family(PoolOp op) {
  switch (op) {
    case PoolOp::MaxFwd: return "MaxPoolFwd";
    case PoolOp::MaxBwd: return "MaxPoolBwd";
    case PoolOp::AvgFwd: return "AvgPoolFwd";
    case PoolOp::AvgBwd: return "AvgPoolBwd";
  }
  return "?";
}

namespace {

using kernels::Conv2dArgs;
using kernels::LrnArgs;
using kernels::Pool2dArgs;

struct ConvLayer {
  const char* name;  // "alexnet_conv1"
  int64_t c, h, w, k, r;
  int stride, pad, groups;
};
struct PoolLayer {
  const char* name;
  int64_t c, h, w;
  int kernel, stride;
  bool ceil_mode;
};
struct ChannelLayer {
  const char* name;
  int64_t c, h, w;
};
struct VectorLayer {
  const char* name;
  int64_t features;
  double p;
};
struct LinearLayer {
  const char* name;
  int64_t in, out;
};

// One model: its layers as the spec builds them for one example.
struct Model {
  std::vector<ConvLayer> conv;
  std::vector<PoolLayer> pool;
  std::vector<ChannelLayer> batchnorm, lrn;
  std::vector<VectorLayer> dropout;
  std::vector<LinearLayer> linear;
  const char* name;
  int64_t classes;
};

// models/specs/fashion-cnn.spec, input 1x28x28.
// A function, not a namespace-scope object: rows register during static
// initialization, possibly before this file's objects would be built.
const Model& fashion_cnn() {
  static const Model m{
    {{"fashion_conv1", 1, 28, 28, 32, 3, 1, 1, 1},     // features.0  -> 32x28x28
     {"fashion_conv2", 32, 14, 14, 64, 3, 1, 1, 1},    // features.4  -> 64x14x14
     {"fashion_conv3", 64, 7, 7, 128, 3, 1, 1, 1}},    // features.8  -> 128x7x7
    {{"fashion_pool1", 32, 28, 28, 2, 2, false},       // features.3  -> 32x14x14
     {"fashion_pool2", 64, 14, 14, 2, 2, false},       // features.7  -> 64x7x7
     {"fashion_pool3", 128, 7, 7, 2, 2, false}},       // features.11 -> 128x3x3
    {{"fashion_bn1", 32, 28, 28},                      // features.1
     {"fashion_bn2", 64, 14, 14},                      // features.5
     {"fashion_bn3", 128, 7, 7}},                      // features.9
    {},
    {{"fashion_drop1", 1152, 0.3}, {"fashion_drop2", 256, 0.3}},  // classifier.0, .3
    {{"fashion_fc1", 1152, 256}, {"fashion_fc2", 256, 10}},       // classifier.1, .4
    "fashion",
    10};
  return m;
}

// models/specs/alexnet.spec (torchvision's AlexNet), input 3x224x224.
const Model& alexnet() {
  static const Model m{
    {{"alexnet_conv1", 3, 224, 224, 64, 11, 4, 2, 1},  // features.0  -> 64x55x55
     {"alexnet_conv2", 64, 27, 27, 192, 5, 1, 2, 1},   // features.3  -> 192x27x27
     {"alexnet_conv3", 192, 13, 13, 384, 3, 1, 1, 1},  // features.6  -> 384x13x13
     {"alexnet_conv4", 384, 13, 13, 256, 3, 1, 1, 1},  // features.8  -> 256x13x13
     {"alexnet_conv5", 256, 13, 13, 256, 3, 1, 1, 1}}, // features.10 -> 256x13x13
    {{"alexnet_pool1", 64, 55, 55, 3, 2, false},       // features.2  -> 64x27x27
     {"alexnet_pool2", 192, 27, 27, 3, 2, false},      // features.5  -> 192x13x13
     {"alexnet_pool5", 256, 13, 13, 3, 2, false}},     // features.12 -> 256x6x6
    {},
    {},
    {{"alexnet_drop6", 9216, 0.5}, {"alexnet_drop7", 4096, 0.5}},  // classifier.0, .3
    {{"alexnet_fc6", 9216, 4096}, {"alexnet_fc7", 4096, 4096}, {"alexnet_fc8", 4096, 1000}},
    "alexnet",
    1000};
  return m;
}

// models/specs/zfnet.spec, input 3x224x224; LRN size 5, alpha 5e-4, beta 0.75, k 2.
// Its classifier is AlexNet's (9216 -> 4096 -> 4096 -> 1000): the same GEMM
// and dropout shapes, so they are not repeated.
const Model& zfnet() {
  static const Model m{
    {{"zfnet_conv1", 3, 224, 224, 96, 7, 2, 1, 1},     // features.0  -> 96x110x110
     {"zfnet_conv2", 96, 55, 55, 256, 5, 2, 0, 1},     // features.4  -> 256x26x26
     {"zfnet_conv3", 256, 13, 13, 384, 3, 1, 1, 1},    // features.8  -> 384x13x13
     {"zfnet_conv4", 384, 13, 13, 384, 3, 1, 1, 1},    // features.10 -> 384x13x13
     {"zfnet_conv5", 384, 13, 13, 256, 3, 1, 1, 1}},   // features.12 -> 256x13x13
    {{"zfnet_pool1", 96, 110, 110, 3, 2, true},        // features.2  -> 96x55x55 (ceil)
     {"zfnet_pool2", 256, 26, 26, 3, 2, true},         // features.6  -> 256x13x13 (ceil)
     {"zfnet_pool5", 256, 13, 13, 3, 2, false}},       // features.14 -> 256x6x6
    {},
    {{"zfnet_lrn1", 96, 55, 55}, {"zfnet_lrn2", 256, 13, 13}},  // features.3, .7
    {},
    {},
    "zfnet",
    1000};
  return m;
}

std::string suffix(int64_t n) { return "_n" + std::to_string(n) + "_"; }

// Concatenates text and numbers ("k", 64, "r", 11 -> "k64r11"); a stream, not
// operator+ chains (GCC 12 warns falsely about those, -Wrestrict).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

void add_model(ModelLayers& out, const Model& m, std::initializer_list<int64_t> batches) {
  for (int64_t n : batches) {
    for (const ConvLayer& l : m.conv) {
      Conv2dArgs a;
      a.stride_h = a.stride_w = l.stride;
      a.pad_h = a.pad_w = l.pad;
      a.groups = l.groups;
      std::string name = cat(l.name, suffix(n), l.c, "x", l.h, "x", l.w, "_k", l.k, "r", l.r, "s",
                             l.stride, "p", l.pad);
      if (l.groups > 1) name += cat("g", l.groups);
      out.conv.push_back({name, n, l.c, l.h, l.w, l.k, l.r, l.r, a});
    }
    for (const PoolLayer& l : m.pool) {
      Pool2dArgs a;
      a.kernel_h = a.kernel_w = l.kernel;
      a.stride_h = a.stride_w = l.stride;
      a.ceil_mode = l.ceil_mode;
      const std::string name = cat(l.name, suffix(n), l.c, "x", l.h, "x", l.w, "_k", l.kernel, "s",
                                   l.stride, l.ceil_mode ? "_ceil" : "");
      out.pool.push_back({name, n, l.c, l.h, l.w, a});
    }
    auto channel_name = [&](const ChannelLayer& l) {
      return cat(l.name, suffix(n), l.c, "x", l.h, "x", l.w);
    };
    for (const ChannelLayer& l : m.batchnorm) out.batchnorm.push_back({channel_name(l), n, l.c, l.h, l.w, {}});
    for (const ChannelLayer& l : m.lrn) {
      LrnArgs a;  // the spec's: lrn 5 alpha=0.0005 beta=0.75 k=2
      a.size = 5;
      a.alpha = 5e-4;
      a.beta = 0.75;
      a.k = 2;
      out.lrn.push_back({channel_name(l), n, l.c, l.h, l.w, a});
    }
    for (const VectorLayer& l : m.dropout)
      out.dropout.push_back({cat(l.name, suffix(n), l.features), n, l.features, l.p});
    if (!m.linear.empty())  // ZFNet's classifier output is AlexNet's
      out.softmax.push_back({cat(m.name, "_softmax", suffix(n), m.classes), n, m.classes, 0});
    for (const LinearLayer& l : m.linear)
      out.linear.push_back({cat(l.name, suffix(n), l.in, "x", l.out), n, l.in, l.out});
  }
}

}  // namespace

const ModelLayers& gpu_layers() {
  static const ModelLayers layers = [] {
    ModelLayers l;
    add_model(l, fashion_cnn(), {64, 256});
    add_model(l, alexnet(), {1, 128});
    add_model(l, zfnet(), {1, 128});
    return l;
  }();
  return layers;
}

const ModelLayers& cpu_layers() {
  static const ModelLayers layers = [] {
    ModelLayers l;
    add_model(l, fashion_cnn(), {16});
    ModelLayers zf;  // fashion-cnn has no LRN: ZFNet's at batch 1
    add_model(zf, zfnet(), {1});
    l.lrn = zf.lrn;
    return l;
  }();
  return layers;
}

}  // namespace cs::bench
