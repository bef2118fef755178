// The visualization workloads, end to end through viz/, timed the way a user
// runs them; bench/pytorch_viz_baseline.py times the same work in PyTorch
// (same row names, same sizes) for the side-by-side table.
//
//   BM_Viz/occlusion/alexnet/625/cuda   25x25 windows (32 px, stride 9) over
//       one 224x224 image, all occluded copies batched through AlexNet
//   BM_Viz/saliency/alexnet/1/<dev>      d class score / d image, one image
//   BM_Viz/deepdream/alexnet/3x20/<dev>  features.8 (conv4), 3 octaves x 20
//       steps at 224x224, jitter off
//   BM_Viz/style/alexnet/adam100/256/<dev>  100 Adam steps at 256x256, content
//       at features.8, Gram style losses at every conv
//   BM_Viz/knn/<Q>x<P>/d<D>/k10/<dev>    exact L2 k-NN (GEMM distances + top-k)
//   BM_Viz/tsne/<N>/d<D>/<dev>           t-SNE, 1000 iterations, method auto
//       (exact up to 10k points, fft beyond on the GPU); .../fft/<dev> forces
//       the FFT-accelerated method
//   BM_Viz/topk-scan/fashion-cnn/<N>/<dev>  top-9 per channel of features.8
//       over N images (the top-patches scan)
//
// Random weights and synthetic inputs: the work does not depend on the values
// (t-SNE's does slightly; its input is a fixed Gaussian mixture). One timed
// repeat is one whole call; L2 is not flushed (each call touches far more
// than L2 holds).
#include <cmath>

#include "bench/bench_util.h"
#include "kernels/distance.h"
#include "kernels/image_ops.h"
#include "models/data.h"
#include "models/netspec.h"
#include "viz/attribution.h"
#include "viz/deepdream.h"
#include "viz/neighbors.h"
#include "viz/occlusion.h"
#include "viz/style_transfer.h"
#include "viz/top_patches.h"
#include "viz/tsne.h"

namespace cs::bench {
namespace {

models::Model model_on(const std::string& name, Device device) {
  models::Model m = models::build_model(models::load_net_spec(name), 1);
  m.net->to(device);
  m.net->eval();
  return m;
}

// (C, H, W) normalised-looking image with values in [-2, 2].
Tensor random_image(int64_t c, int64_t h, int64_t w, uint64_t seed, Device device) {
  return Tensor::uniform({c, h, w}, -2.0, 2.0, seed, device);
}

// `classes` Gaussian clusters in D dimensions, n points: t-SNE's input.
Tensor gaussian_mixture(int64_t n, int64_t d, int classes, Device device) {
  const Tensor noise = Tensor::normal({n, d}, 0.0, 1.0, 7, Device::cpu());
  std::vector<float> x = noise.to_vector<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j)
      x[static_cast<size_t>(i * d + j)] += (j % classes == i % classes) ? 6.0f : 0.0f;
  return Tensor::from_vector(x, {n, d}, device);
}

models::DataSource synthetic_source(int64_t n, const Shape& chw, Device device) {
  std::vector<uint8_t> pixels(static_cast<size_t>(n * chw[0] * chw[1] * chw[2]));
  uint32_t state = 99;
  for (uint8_t& p : pixels) p = static_cast<uint8_t>((state = state * 1664525u + 1013904223u) >> 24);
  std::vector<int32_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = static_cast<int32_t>(i % 10);
  models::DataSource s;
  s.name = "synthetic";
  s.test.images = Tensor::from_vector(pixels, {n, chw[0], chw[1], chw[2]}, device);  // (N, C, H, W) uint8
  s.test.labels = Tensor::from_vector(labels, {n}, device);
  s.test.labels_host = labels;
  for (int i = 0; i < 10; ++i) s.class_names.push_back(std::to_string(i));
  s.mean.assign(static_cast<size_t>(chw[0]), 0.5f);
  s.std.assign(static_cast<size_t>(chw[0]), 0.25f);
  return s;
}

void report_call(benchmark::State& state, double ms) { state.counters["call_ms"] = ms; }

// One image at the model's input size; `stride` sets ceil(H / stride)^2 windows.
void BM_Occlusion(benchmark::State& state, Device device, const std::string& model, int window, int stride) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    models::Model m = model_on(model, device);
    const Shape& in = m.input_shape;  // (C, H, W)
    const Tensor image = random_image(in[0], in[1], in[2], 1, device);
    const models::DataSource source = synthetic_source(1, in, device);
    viz::OcclusionOptions o;
    o.window = window;
    o.stride = stride;
    const int64_t windows = kernels::OcclusionGrid::positions(in[1], stride) *
                            kernels::OcclusionGrid::positions(in[2], stride);
    o.batch_size = windows;  // one batch
    report_call(state, timed_repeats(state, device, [&] { viz::occlusion(*m.net, image, 3, source, o); }, 1, false));
    state.counters["windows"] = static_cast<double>(windows);
  });
}

void BM_Saliency(benchmark::State& state, Device device, const std::string& model) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    models::Model m = model_on(model, device);
    const Shape& in = m.input_shape;
    const Tensor images = random_image(in[0], in[1], in[2], 2, device).reshape({1, in[0], in[1], in[2]});
    report_call(state, timed_repeats(state, device, [&] {
      viz::class_gradients(*m.net, images, {3}, ag::ReluRule::Standard);
    }, 2, false));
  });
}

void BM_DeepDream(benchmark::State& state, Device device) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    models::Model m = model_on("alexnet", device);
    const Tensor image = random_image(3, 224, 224, 3, device);
    viz::DreamOptions o;
    o.layer = "features.8";
    o.octaves = 3;
    o.steps = 20;
    o.jitter = 0;
    report_call(state, timed_repeats(state, device, [&] { viz::deep_dream(*m.net, image, o); }, 1, false));
  });
}

void BM_Style(benchmark::State& state, Device device, int64_t size, int steps) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    models::Model m = model_on("alexnet", device);
    const Tensor content = random_image(3, size, size, 4, device), style = random_image(3, size, size, 5, device);
    viz::StyleOptions o;
    o.content_layer = "features.8";
    o.style_layers = {"features.0", "features.3", "features.6", "features.8", "features.10"};
    o.optimizer = "adam";
    o.steps = steps;
    report_call(state, timed_repeats(state, device, [&] { viz::style_transfer(*m.net, content, style, o); }, 1, false));
  });
}

void BM_Knn(benchmark::State& state, Device device, int64_t queries, int64_t points, int64_t dims) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    const Tensor q = Tensor::normal({queries, dims}, 0.0, 1.0, 11, device);  // (Q, D)
    const Tensor p = Tensor::normal({points, dims}, 0.0, 1.0, 12, device);   // (P, D)
    const double ms = timed_repeats(state, device, [&] {
      viz::nearest_neighbors(q, p, 10, kernels::Metric::L2);
    }, 1, false);
    report_call(state, ms);
    report_compute(state, device, 2.0 * static_cast<double>(queries) * points * dims, ms);
  });
}

void BM_Tsne(benchmark::State& state, Device device, int64_t n, int64_t dims, const char* method = "auto") {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    const Tensor x = gaussian_mixture(n, dims, 10, device);
    viz::TsneOptions o;
    o.report_every = 0;
    o.method = method;
    double kl = 0;
    std::string method;
    report_call(state, timed_repeats(state, device, [&] {
      const viz::TsneResult r = viz::tsne(x, o);
      kl = r.kl_divergence;
      method = r.method;
    }, 0, false));
    state.counters["kl_divergence"] = kl;
    state.SetLabel("method " + method);
  });
}

void BM_TopkScan(benchmark::State& state, Device device, int64_t images) {
  if (!device_available(state, device)) return;
  guarded(state, [&] {
    models::Model m = model_on("fashion-cnn", device);
    const models::DataSource source = synthetic_source(images, m.input_shape, device);
    viz::ScanOptions o;
    o.k = 9;
    const double ms = timed_repeats(state, device, [&] {
      viz::scan_top_activations(*m.net, source.test, source, m.input_shape, "features.8", o);
    }, 1, false);
    report_call(state, ms);
    state.counters["images_per_s"] = static_cast<double>(images) / (ms * 1e-3);
  });
}

[[maybe_unused]] const bool registered = [] {
  const Device gpu = Device::cuda(), cpu = Device::cpu();
  // GPU rows: the sizes of the targets in DESIGN.md. CPU rows: small enough
  // that the CPU suite stays quick (fashion-cnn, few points).
  add_row("BM_Viz/occlusion/alexnet/625/cuda", [gpu](benchmark::State& s) { BM_Occlusion(s, gpu, "alexnet", 32, 9); });
  add_row("BM_Viz/occlusion/fashion-cnn/196/cpu", [cpu](benchmark::State& s) { BM_Occlusion(s, cpu, "fashion-cnn", 6, 2); });
  add_row("BM_Viz/saliency/alexnet/1/cuda", [gpu](benchmark::State& s) { BM_Saliency(s, gpu, "alexnet"); });
  add_row("BM_Viz/saliency/fashion-cnn/1/cpu", [cpu](benchmark::State& s) { BM_Saliency(s, cpu, "fashion-cnn"); });
  add_row("BM_Viz/deepdream/alexnet/3x20/cuda", [gpu](benchmark::State& s) { BM_DeepDream(s, gpu); });
  add_row("BM_Viz/style/alexnet/adam100/256/cuda", [gpu](benchmark::State& s) { BM_Style(s, gpu, 256, 100); });
  add_row("BM_Viz/style/alexnet/adam5/64/cpu", [cpu](benchmark::State& s) { BM_Style(s, cpu, 64, 5); });
  add_row("BM_Viz/knn/10000x60000/d256/k10/cuda", [gpu](benchmark::State& s) { BM_Knn(s, gpu, 10000, 60000, 256); });
  add_row("BM_Viz/knn/500x5000/d256/k10/cpu", [cpu](benchmark::State& s) { BM_Knn(s, cpu, 500, 5000, 256); });
  add_row("BM_Viz/tsne/10000/d256/cuda", [gpu](benchmark::State& s) { BM_Tsne(s, gpu, 10000, 256); });
  add_row("BM_Viz/tsne/10000/d256/fft/cuda", [gpu](benchmark::State& s) { BM_Tsne(s, gpu, 10000, 256, "fft"); });
  add_row("BM_Viz/tsne/70000/d256/cuda", [gpu](benchmark::State& s) { BM_Tsne(s, gpu, 70000, 256); });
  add_row("BM_Viz/tsne/200/d64/cpu", [cpu](benchmark::State& s) { BM_Tsne(s, cpu, 200, 64); });
  add_row("BM_Viz/topk-scan/fashion-cnn/60000/cuda", [gpu](benchmark::State& s) { BM_TopkScan(s, gpu, 60000); });
  add_row("BM_Viz/topk-scan/fashion-cnn/256/cpu", [cpu](benchmark::State& s) { BM_TopkScan(s, cpu, 256); });
  return true;
}();

}  // namespace
}  // namespace cs::bench
