// GEMM: FLOP/s of every CUDA variant beside cuBLAS SGEMM, and of the CPU
// path (OpenBLAS).
//
// GPU rows (CUDA builds; they skip without a device):
//   BM_GemmCuda/<variant>/<shape>   a named variant (kernels::gemm_cuda_variant); on the
//                                   linear-layer shapes only the production variant
//   BM_CublasSgemm/<shape>          cuBLAS SGEMM, default math = fp32, TF32 off: the reference
//   BM_CublasTf32/<shape>           cuBLAS with TF32 tensor cores, for context
// Shapes: squares 1024-8192 (NN; 4096 also TN and NT), then every linear
// layer of fashion-cnn (batch 64, 256) and AlexNet/ZFNet (batch 1, 128) as
// its three GEMMs (bench/model_layers.h).
// Counters: FLOP/s (2*M*N*K per call, over the mean time); median_ms,
// TFLOP/s and pct_peak (of the cuBLAS SGEMM 4096^3 rate measured in this
// run, bench_util.h) from the median; ratio_vs_cublas = ratio = (median time
// of cuBLAS fp32) / (median time of the row), both measured in this process
// on the same GPU, L2 flushed before each call; the tf32_wmma rows also get
// ratio_vs_cublas_tf32.
// CPU rows: BM_GemmCpu/<shape>, FLOP/s only.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/gemm_bench.h"
#include "bench/model_layers.h"
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
    for (const LinearCase& l : gpu_layers().linear) {
      s.push_back({l.name + "_fwd", l.batch, l.out, l.in, Transpose::No, Transpose::Yes, true});
      s.push_back({l.name + "_dx", l.batch, l.in, l.out, Transpose::No, Transpose::No, true});
      s.push_back({l.name + "_dw", l.out, l.in, l.batch, Transpose::Yes, Transpose::No, true});
    }
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

void BM_GemmCuda(benchmark::State& state, const std::string& variant, const GemmShape& s) {
  const Device gpu = Device::cuda();
  if (!device_available(state, gpu)) return;
  Operands o = make_operands(s, gpu);
  const double ms = timed_iterations(state, gpu, [&] {
    kernels::gemm_cuda_variant(variant, o.a, s.ta, o.b, s.tb, o.c);
  });
  report_flops(state, gemm_flops(s));
  const bool tf32 = variant == "tf32_wmma";
  report_compute(state, gpu, gemm_flops(s), ms, tf32);
  if (cublas_gemm() && ms > 0) {
    const double ref = cublas_reference_ms(s, false);
    state.counters["ratio_vs_cublas"] = state.counters["ratio"] = ref / ms;
    state.counters["ref_ms"] = ref;
    state.SetLabel("vs cuBLAS SGEMM (fp32)");
    if (tf32) state.counters["ratio_vs_cublas_tf32"] = cublas_reference_ms(s, true) / ms;
  }
}

void BM_Cublas(benchmark::State& state, const GemmShape& s, bool tf32) {
  const Device gpu = Device::cuda();
  if (!device_available(state, gpu)) return;
  Operands o = make_operands(s, gpu);
  const double ms = timed_iterations(state, gpu, [&] { cublas_gemm()(o.a, s.ta, o.b, s.tb, o.c, tf32); });
  report_flops(state, gemm_flops(s));
  report_compute(state, gpu, gemm_flops(s), ms, tf32);
  state.SetLabel(tf32 ? "cuBLAS TF32 tensor cores" : "cuBLAS SGEMM (fp32)");
  if (ms > 0) state.counters["ratio_vs_cublas"] = cublas_reference_ms(s, false) / ms;
}

void BM_GemmCpu(benchmark::State& state, const GemmShape& s) {
  const Device cpu = Device::cpu();
  Operands o = make_operands(s, cpu);
  const double ms = timed_iterations(state, cpu, [&] { kernels::gemm(o.a, s.ta, o.b, s.tb, o.c); }, 1);
  report_flops(state, gemm_flops(s));
  report_compute(state, cpu, gemm_flops(s), ms);
}

// The slow teaching variants skip the largest sizes (seconds per call); the
// linear-layer shapes run the production variant (the last) only.
bool worth_timing(const std::string& variant, const GemmShape& s) {
  if (s.layer) return variant == kernels::gemm_cuda_variants().back();
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
        GemmShape{"fashion_fc1_n16_1152x256_fwd", 16, 256, 1152, Transpose::No, Transpose::Yes, true}})
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
