// Timing helpers for the benchmark suites: device time per iteration (CUDA
// events on a GPU, the steady clock on the CPU), and throughput counters.
#pragma once

#include <benchmark/benchmark.h>

#include "runtime/stream.h"
#include "runtime/tensor.h"

namespace cs::bench {

// False (and the benchmark is skipped with a message) when `device` is a GPU
// and none is usable.
inline bool device_available(benchmark::State& state, Device device) {
  if (device.is_cuda() && cuda_device_count() == 0) {
    state.SkipWithError("no CUDA device (skipped)");
    return false;
  }
  return true;
}

// Runs `work` a few times to warm up, then once per iteration, timing each
// with device events (manual time: use ->UseManualTime()).
template <typename Work>
void run_timed(benchmark::State& state, Device device, Work&& work, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) work();
  synchronize(device);
  Timer timer(device);
  for (auto _ : state) {
    timer.start();
    work();
    state.SetIterationTime(timer.stop_ms() / 1e3);
  }
}

inline void report_bytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["bytes/s"] = benchmark::Counter(bytes_per_iteration * state.iterations(),
                                                 benchmark::Counter::kIsRate);
}

inline void report_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOP/s"] = benchmark::Counter(flops_per_iteration * state.iterations(),
                                                benchmark::Counter::kIsRate);
}

}  // namespace cs::bench
