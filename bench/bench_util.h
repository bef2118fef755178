// Timing helpers for the benchmark suites, shared by every family:
//   - device time per iteration (CUDA events on a GPU, the steady clock on
//     the CPU) after warm-up, reported as the median of the repeats;
//   - an L2 flush between GPU repeats, so data that fits in L2 (50 MB on an
//     H100) is read from DRAM as it would be inside a network;
//   - the peaks measured once per process on the same GPU (device-to-device
//     copy bandwidth, cuBLAS SGEMM rate) and the counters every row reports.
//
// Counters (the same names in every family, read by `convscope bench`):
//   median_ms   median time of one call (ms); also the row's reported time
//   repeats     how many timed calls the median is over
//   TFLOP/s     FLOPs / median time (compute-bound rows; 2 FLOPs per multiply-add)
//   GB/s        minimum bytes / median time (memory-bound rows: each input read
//               once, each output written once; the op's own extra traffic,
//               e.g. max-pool switches, is not counted, so rows compare fairly)
//   pct_peak    100 * (TFLOP/s over the cuBLAS SGEMM rate, or GB/s over the copy bandwidth)
//   ref_ms      the reference's median time in this process (our rows only)
//   ratio       ref_ms / median_ms = our throughput / the reference's
//               (> 1: convscope is faster), DESIGN's "convscope ÷ reference"
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include "bench/reference.h"
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

// Runs `body`, turning an exception into a skipped row with its message: one
// failing case (an unsupported shape, out of memory) must not end the run.
template <typename Body>
void guarded(benchmark::State& state, Body&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

// Evicts the GPU's L2 by writing (cudaMemsetAsync) a buffer twice its size on
// the current stream; a no-op on the CPU. Run outside the timed region.
void flush_l2(Device device);

// Calls `work` `warmup` times and waits for the device: what every timing
// below does first.
template <typename Work>
void warm_up(Device device, Work& work, int warmup) {
  for (int i = 0; i < warmup; ++i) work();
  synchronize(device);
}

// One call of `work` timed with `timer`'s device events, L2 flushed first
// when `flush`; returns milliseconds.
template <typename Work>
double timed_call(Timer& timer, Device device, Work& work, bool flush) {
  if (flush) flush_l2(device);
  timer.start();
  work();
  return timer.stop_ms();
}

// Runs `work` a few times to warm up, then once per iteration, timing each
// with device events (manual time: use ->UseManualTime()). No flush: for the
// throughput of repeated calls (elementwise ops, training steps).
template <typename Work>
void run_timed(benchmark::State& state, Device device, Work&& work, int warmup = 3) {
  warm_up(device, work, warmup);
  Timer timer(device);
  for (auto _ : state) state.SetIterationTime(timed_call(timer, device, work, false) / 1e3);
}

// Times each iteration with device events, flushing L2 before each when
// `flush`; returns the median (ms). Manual time: use ->UseManualTime().
template <typename Work>
double timed_iterations(benchmark::State& state, Device device, Work&& work, int warmup = 3,
                        bool flush = true) {
  warm_up(device, work, warmup);
  Timer timer(device);
  std::vector<double> times;
  for (auto _ : state) {
    times.push_back(timed_call(timer, device, work, flush));
    state.SetIterationTime(times.back() / 1e3);
  }
  const double ms = median(times);
  state.counters["median_ms"] = ms;
  return ms;
}

// Seconds of timed calls each row aims for: --benchmark_min_time, read by
// bench/main/bench_main.cpp (the rows run one Google Benchmark iteration and
// repeat the call themselves, so tiny kernels do not take minutes).
double& repeat_budget_s();
constexpr int kMaxRepeats = 1000;
inline int min_repeats(Device device) { return device.is_cuda() ? 10 : 3; }

// The rows' timing: one benchmark iteration (->Iterations(1), see add_row)
// in which `work` is called after warm-up at least min_repeats() times and
// until repeat_budget_s() of timed calls (at most kMaxRepeats), L2 flushed
// before each call when `flush`. The iteration's time is the median (ms),
// also returned and reported as median_ms, with the repeat count.
template <typename Work>
double timed_repeats(benchmark::State& state, Device device, Work&& work, int warmup = 3,
                     bool flush = true) {
  warm_up(device, work, warmup);
  Timer timer(device);
  std::vector<double> times;
  const double budget_ms = repeat_budget_s() * 1e3;
  for (auto _ : state) {
    times.clear();
    double total_ms = 0;
    while (static_cast<int>(times.size()) < min_repeats(device) ||
           (total_ms < budget_ms && static_cast<int>(times.size()) < kMaxRepeats)) {
      times.push_back(timed_call(timer, device, work, flush));
      total_ms += times.back();
    }
    state.SetIterationTime(median(times) / 1e3);
  }
  const double ms = median(times);
  state.counters["median_ms"] = ms;
  state.counters["repeats"] = static_cast<double>(times.size());
  return ms;
}

// Median milliseconds of `reps` calls of `work` after warm-up, outside a
// benchmark loop (references measured for a ratio, peaks).
template <typename Work>
double median_ms(Device device, Work&& work, int reps, int warmup = 3, bool flush = true) {
  warm_up(device, work, warmup);
  Timer timer(device);
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) times.push_back(timed_call(timer, device, work, flush));
  return median(times);
}

// ---- peaks, measured once per process on CUDA device 0 (bench/peaks.cpp) ----------------
struct Peaks {
  double copy_gbs = 0;      // cudaMemcpyAsync device-to-device, (read + write) bytes / time
  double sgemm_tflops = 0;  // cuBLAS SGEMM 4096^3, fp32 (TF32 off); 0 without cuBLAS
  double tf32_tflops = 0;   // cuBLAS 4096^3 with TF32 tensor cores, for TF32 rows
};
// Zeros when there is no GPU.
const Peaks& gpu_peaks();

// ---- counters ---------------------------------------------------------------------------

inline void report_bytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["bytes/s"] = benchmark::Counter(bytes_per_iteration * state.iterations(),
                                                 benchmark::Counter::kIsRate);
}

inline void report_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOP/s"] = benchmark::Counter(flops_per_iteration * state.iterations(),
                                                benchmark::Counter::kIsRate);
}

// TFLOP/s from the median, and percent of the SGEMM peak (of the TF32 peak
// for tensor-core rows) on a GPU.
inline void report_compute(benchmark::State& state, Device device, double flops, double ms,
                           bool tf32 = false) {
  if (ms <= 0) return;
  const double tflops = flops / (ms * 1e-3) / 1e12;
  state.counters["TFLOP/s"] = tflops;
  if (device.is_cuda()) {
    const double peak = tf32 ? gpu_peaks().tf32_tflops : gpu_peaks().sgemm_tflops;
    if (peak > 0) state.counters["pct_peak"] = 100.0 * tflops / peak;
  }
}

// GB/s of the minimum traffic from the median, and percent of the copy bandwidth.
inline void report_memory(benchmark::State& state, Device device, double bytes, double ms) {
  if (ms <= 0) return;
  const double gbs = bytes / (ms * 1e-3) / 1e9;
  state.counters["GB/s"] = gbs;
  if (device.is_cuda() && gpu_peaks().copy_gbs > 0)
    state.counters["pct_peak"] = 100.0 * gbs / gpu_peaks().copy_gbs;
}

// ---- rows ------------------------------------------------------------------------------

// Registers a row timed by timed_repeats(): one iteration whose manual time
// is the median of the repeats, reported in milliseconds.
template <typename Fn>
benchmark::internal::Benchmark* add_row(const std::string& name, Fn&& fn) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
}

// "BM_<family>/<dev>/<case>": every kernel row's name (dev: cuda, cpu, cudnn, ...).
inline std::string row_name(const std::string& family, const std::string& dev, const std::string& case_name) {
  return "BM_" + family + "/" + dev + "/" + case_name;
}

// What one call costs: FLOPs for compute-bound ops, else minimum bytes.
struct Cost {
  double flops = 0;
  double bytes = 0;
};

// Times `work` with timed_repeats() (L2 flushed before each call on a GPU), reports median_ms,
// the throughput and percent of peak; returns the median (ms). With a
// `ref_key`, a GPU row also reports ref_ms and ratio against that reference.
template <typename Work>
double measure_row(benchmark::State& state, Device device, const Cost& cost, Work&& work,
                   const std::string& ref_key = "", bool tf32 = false) {
  const double ms = timed_repeats(state, device, work, device.is_cuda() ? 3 : 1);
  if (cost.flops > 0) report_compute(state, device, cost.flops, ms, tf32);
  if (cost.flops <= 0 && cost.bytes > 0) report_memory(state, device, cost.bytes, ms);
  if (!ref_key.empty() && device.is_cuda()) report_vs_reference(state, ref_key, ms);
  return ms;
}

constexpr double kF32 = sizeof(float);

}  // namespace cs::bench
