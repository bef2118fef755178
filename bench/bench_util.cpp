// The helpers of bench_util.h: the repeat budget, the L2 flush, and the
// peaks every GPU row is compared with, measured once per process on the GPU
// the rows run on (never taken from a data sheet), reported as rows:
//
//   BM_Peak/copy_d2d            cudaMemcpyAsync of 512 MiB device to device
//   BM_Peak/cublas_sgemm_4096   cuBLAS SGEMM 4096^3, fp32 (TF32 off)
//   BM_Peak/cublas_tf32_4096    the same with TF32 tensor cores
#include <map>

#include "bench/bench_util.h"
#include "bench/gemm_bench.h"

namespace cs::bench {

double& repeat_budget_s() {
  static double seconds = 0.1;
  return seconds;
}

void flush_l2(Device device) {
  if (!device.is_cuda()) return;
  // Per device: twice the L2, allocated once and never freed (a static
  // destructor would run after the CUDA runtime has shut down).
  static auto* buffers = new std::map<int, Tensor>;
  Tensor& buffer = (*buffers)[device.index];
  if (!buffer.defined()) {
    const size_t l2 = cuda_device_properties(device.index).l2_cache_bytes;
    const int64_t floats = static_cast<int64_t>(std::max<size_t>(l2, 1 << 20) * 2 / sizeof(float));
    buffer = Tensor::empty({floats}, device);
  }
  buffer.zero_();
}

namespace {

constexpr int64_t kCopyFloats = int64_t{128} << 20;  // 512 MiB, far beyond any L2
constexpr int64_t kGemmSide = 4096;

double measure_copy_gbs() {
  const Device gpu = Device::cuda();
  Tensor src = Tensor::zeros({kCopyFloats}, gpu), dst = Tensor::empty({kCopyFloats}, gpu);
  const double ms = median_ms(gpu, [&] { dst.copy_from(src); }, 10, 3, false);
  return 2.0 * static_cast<double>(src.nbytes()) / (ms * 1e-3) / 1e9;  // read + write
}

double measure_gemm_tflops(bool tf32) {
  if (!cublas_gemm()) return 0;
  const Device gpu = Device::cuda();
  const int64_t n = kGemmSide;
  Tensor a = Tensor::uniform({n, n}, -1, 1, 1, gpu), b = Tensor::uniform({n, n}, -1, 1, 2, gpu);
  Tensor c = Tensor::empty({n, n}, gpu);
  const auto no = kernels::Transpose::No;
  const double ms = median_ms(gpu, [&] { cublas_gemm()(a, no, b, no, c, tf32); }, 10, 3, false);
  return 2.0 * n * n * n / (ms * 1e-3) / 1e12;
}

void BM_Peak(benchmark::State& state, int which) {
  if (!device_available(state, Device::cuda())) return;
  guarded(state, [&] {
    const Peaks& p = gpu_peaks();
    for (auto _ : state) state.SetIterationTime(1e-3);  // the numbers are the counters
    if (which == 0) state.counters["GB/s"] = p.copy_gbs;
    if (which == 1) state.counters["TFLOP/s"] = p.sgemm_tflops;
    if (which == 2) state.counters["TFLOP/s"] = p.tf32_tflops;
    if (which > 0 && !cublas_gemm()) state.SkipWithError("built without cuBLAS");
  });
}

[[maybe_unused]] const bool registered = [] {
  const char* names[] = {"BM_Peak/copy_d2d", "BM_Peak/cublas_sgemm_4096", "BM_Peak/cublas_tf32_4096"};
  for (int i = 0; i < 3; ++i)
    benchmark::RegisterBenchmark(names[i], BM_Peak, i)->UseManualTime()->Iterations(1);
  return true;
}();

}  // namespace

const Peaks& gpu_peaks() {
  static const Peaks peaks = [] {
    Peaks p;
    if (cuda_device_count() == 0) return p;
    p.copy_gbs = measure_copy_gbs();
    p.sgemm_tflops = measure_gemm_tflops(false);
    p.tf32_tflops = measure_gemm_tflops(true);
    return p;
  }();
  return peaks;
}

}  // namespace cs::bench
