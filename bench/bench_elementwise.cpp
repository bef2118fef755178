// Memory-bound elementwise ops: bytes moved per second, on each device.
#include <benchmark/benchmark.h>

#include "bench/bench_util.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace cs::bench {
namespace {

void BM_Add(benchmark::State& state, Device device) {
  if (!device_available(state, device)) return;
  const int64_t n = state.range(0);
  Tensor a = Tensor::uniform({n}, -1, 1, 1, device), b = Tensor::uniform({n}, -1, 1, 2, device);
  Tensor out = Tensor::empty({n}, device);
  run_timed(state, device, [&] { kernels::add(a, b, out); });
  report_bytes(state, 3.0 * n * sizeof(float));
}

void BM_Sum(benchmark::State& state, Device device) {
  if (!device_available(state, device)) return;
  const int64_t n = state.range(0);
  Tensor x = Tensor::uniform({n}, -1, 1, 1, device);
  Tensor out = Tensor::empty({1}, device);
  run_timed(state, device, [&] { kernels::sum_all(x, out); });
  report_bytes(state, 1.0 * n * sizeof(float));
}

BENCHMARK_CAPTURE(BM_Add, cpu, Device::cpu())->Arg(1 << 20)->UseManualTime();
BENCHMARK_CAPTURE(BM_Add, cuda, Device::cuda())->Arg(1 << 20)->Arg(1 << 26)->UseManualTime();
BENCHMARK_CAPTURE(BM_Sum, cpu, Device::cpu())->Arg(1 << 20)->UseManualTime();
BENCHMARK_CAPTURE(BM_Sum, cuda, Device::cuda())->Arg(1 << 20)->Arg(1 << 26)->UseManualTime();

}  // namespace
}  // namespace cs::bench
