// GEMM: FLOP/s of every CUDA variant beside cuBLAS SGEMM, and of the CPU
// path (OpenBLAS).
//
// GPU rows (CUDA builds; they skip without a device):
//   BM_GemmCuda/<variant>/<shape>   a named variant (kernels::gemm_cuda_variant)
//   BM_CublasSgemm/<shape>          cuBLAS SGEMM, default math = fp32, TF32 off: the reference
//   BM_CublasTf32/<shape>           cuBLAS with TF32 tensor cores, for context
// Counters: FLOP/s (2*M*N*K per call, over the mean time), and
// ratio_vs_cublas = (median time of cuBLAS fp32) / (median time of the row),
// both medians measured in this process on the same GPU; the tf32_wmma rows
// also get ratio_vs_cublas_tf32.
// CPU rows: BM_GemmCpu/<shape>, FLOP/s only.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/gemm_bench.h"
#include "kernels/gemm.h"

namespace cs::bench {

using kernels::Transpose;

const std::vector<GemmShape>& gemm_bench_shapes() {
  static const std::vector<GemmShape> shapes = [] {
    std::vector<GemmShape> s;
    for (int64_t n : {1024, 2048, 4096, 8192})
      s.push_back({std::to_string(n) + "x" + std::to_string(n) + "x" + std::to_string(n) + "_NN", n,
                   n, n, Transpose::No, Transpose::No});
    s.push_back({"4096x4096x4096_TN", 4096, 4096, 4096, Transpose::Yes, Transpose::No});
    s.push_back({"4096x4096x4096_NT", 4096, 4096, 4096, Transpose::No, Transpose::Yes});
    // Linear layers, y = x W^T with x (batch, in) and W (out, in):
    // forward M = batch, N = out, K = in, B transposed; backward to the input
    // dx = dy W (M = batch, N = in, K = out); to the weight dW = dy^T x
    // (M = out, N = in, K = batch, A transposed).
    s.push_back({"fashion_fc1_fwd_64x256x1152", 64, 256, 1152, Transpose::No, Transpose::Yes});
    s.push_back({"alexnet_fc6_fwd_128x4096x9216", 128, 4096, 9216, Transpose::No, Transpose::Yes});
    s.push_back({"alexnet_fc6_dx_128x9216x4096", 128, 9216, 4096, Transpose::No, Transpose::No});
    s.push_back({"alexnet_fc6_dw_4096x9216x128", 4096, 9216, 128, Transpose::Yes, Transpose::No});
    s.push_back({"alexnet_fc7_fwd_128x4096x4096", 128, 4096, 4096, Transpose::No, Transpose::Yes});
    return s;
  }();
  return shapes;
}

CublasGemmFn*& cublas_gemm() {
  static CublasGemmFn* fn = nullptr;
  return fn;
}

namespace {

struct Operands {
  Tensor a, b, c;
};

Operands make_operands(const GemmShape& s, Device device) {
  const Shape sa = s.ta == Transpose::No ? Shape{s.m, s.k} : Shape{s.k, s.m};
  const Shape sb = s.tb == Transpose::No ? Shape{s.k, s.n} : Shape{s.n, s.k};
  return {Tensor::uniform(sa, -1, 1, 1, device), Tensor::uniform(sb, -1, 1, 2, device),
          Tensor::zeros({s.m, s.n}, device)};
}

// Calls per measurement: about 2 TFLOP of work, between 3 and 50 calls.
int reps_for(const GemmShape& s) {
  return static_cast<int>(std::clamp(2e12 / gemm_flops(s), 3.0, 50.0));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

// Median milliseconds of `work`, after warm-up runs.
template <typename Work>
double median_ms(Device device, Work&& work, int reps, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) work();
  synchronize(device);
  Timer timer(device);
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    timer.start();
    work();
    times.push_back(timer.stop_ms());
  }
  return median(times);
}

// cuBLAS's median time for a shape, measured once per process (ms).
double cublas_reference_ms(const GemmShape& s, bool tf32) {
  static std::map<std::pair<std::string, bool>, double> cache;
  const auto key = std::make_pair(s.name, tf32);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const Device gpu = Device::cuda();
  Operands o = make_operands(s, gpu);
  const double ms = median_ms(gpu, [&] { cublas_gemm()(o.a, s.ta, o.b, s.tb, o.c, tf32); },
                              std::max(reps_for(s), 10));
  cache[key] = ms;
  return ms;
}

// Times each iteration with device events; returns the median (ms).
template <typename Work>
double timed_iterations(benchmark::State& state, Device device, Work&& work, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) work();
  synchronize(device);
  Timer timer(device);
  std::vector<double> times;
  for (auto _ : state) {
    timer.start();
    work();
    const double ms = timer.stop_ms();
    times.push_back(ms);
    state.SetIterationTime(ms / 1e3);
  }
  return median(times);
}

void BM_GemmCuda(benchmark::State& state, const std::string& variant, const GemmShape& s) {
  const Device gpu = Device::cuda();
  if (!device_available(state, gpu)) return;
  Operands o = make_operands(s, gpu);
  const double ms = timed_iterations(state, gpu, [&] {
    kernels::gemm_cuda_variant(variant, o.a, s.ta, o.b, s.tb, o.c);
  });
  report_flops(state, gemm_flops(s));
  if (cublas_gemm() && ms > 0) {
    state.counters["ratio_vs_cublas"] = cublas_reference_ms(s, false) / ms;
    if (variant == "tf32_wmma") state.counters["ratio_vs_cublas_tf32"] = cublas_reference_ms(s, true) / ms;
  }
}

void BM_Cublas(benchmark::State& state, const GemmShape& s, bool tf32) {
  const Device gpu = Device::cuda();
  if (!device_available(state, gpu)) return;
  Operands o = make_operands(s, gpu);
  const double ms = timed_iterations(state, gpu, [&] { cublas_gemm()(o.a, s.ta, o.b, s.tb, o.c, tf32); });
  report_flops(state, gemm_flops(s));
  if (ms > 0) state.counters["ratio_vs_cublas"] = cublas_reference_ms(s, false) / ms;
}

void BM_GemmCpu(benchmark::State& state, const GemmShape& s) {
  const Device cpu = Device::cpu();
  Operands o = make_operands(s, cpu);
  run_timed(state, cpu, [&] { kernels::gemm(o.a, s.ta, o.b, s.tb, o.c); }, 1);
  report_flops(state, gemm_flops(s));
}

// The slow teaching variants skip the largest sizes (seconds per call).
bool worth_timing(const std::string& variant, const GemmShape& s) {
  const bool slow = variant == "naive" || variant == "smem_tiled";
  return !(slow && gemm_flops(s) > 2.0 * 4096.0 * 4096.0 * 4096.0);
}

[[maybe_unused]] const bool registered = [] {
  // The variants are registered by the library's static initializers, which
  // have run by now (the library loads before this executable initializes).
  for (const std::string& variant : kernels::gemm_cuda_variants())
    for (const GemmShape& s : gemm_bench_shapes()) {
      if (!worth_timing(variant, s)) continue;
      benchmark::RegisterBenchmark(("BM_GemmCuda/" + variant + "/" + s.name).c_str(), BM_GemmCuda,
                                   variant, s)
          ->UseManualTime()
          ->Iterations(reps_for(s))
          ->Unit(benchmark::kMillisecond);
    }
  for (const GemmShape& s :
       {GemmShape{"256x256x256_NN", 256, 256, 256, Transpose::No, Transpose::No},
        GemmShape{"512x512x512_NN", 512, 512, 512, Transpose::No, Transpose::No},
        GemmShape{"1024x1024x1024_NN", 1024, 1024, 1024, Transpose::No, Transpose::No},
        GemmShape{"fashion_fc1_fwd_64x256x1152", 64, 256, 1152, Transpose::No, Transpose::Yes}})
    benchmark::RegisterBenchmark(("BM_GemmCpu/" + s.name).c_str(), BM_GemmCpu, s)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace

void register_cublas_gemm_benchmarks() {
  for (const GemmShape& s : gemm_bench_shapes())
    for (bool tf32 : {false, true})
      benchmark::RegisterBenchmark(
          ((tf32 ? "BM_CublasTf32/" : "BM_CublasSgemm/") + s.name).c_str(), BM_Cublas, s, tf32)
          ->UseManualTime()
          ->Iterations(reps_for(s))
          ->Unit(benchmark::kMillisecond);
}

}  // namespace cs::bench
