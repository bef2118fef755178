// main() of the benchmark executable: CPU kernel selection, the repeat
// budget, then Google Benchmark.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/bench_util.h"
#include "runtime/build_info.h"
#include "runtime/device.h"
#include "runtime/preinit/cpu_setup.h"

namespace {

// --benchmark_min_time=X (seconds; "0.2" or "0.2s") also sets how long the
// rows that repeat their call themselves keep timing (bench_util.h).
void read_repeat_budget(int argc, char** argv) {
  const char* flag = "--benchmark_min_time=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], flag, std::strlen(flag)) == 0) {
      const double seconds = std::strtod(argv[i] + std::strlen(flag), nullptr);
      if (seconds > 0) cs::bench::repeat_budget_s() = seconds;
    }
}

// What the JSON's context should say about the machine and this build.
void add_context() {
  const cs::BuildInfo& b = cs::build_info();
  benchmark::AddCustomContext("convscope_version", b.version);
  benchmark::AddCustomContext("convscope_build_type", b.build_type);
  if (cs::cuda_device_count() == 0) {
    benchmark::AddCustomContext("gpu", "none");
    return;
  }
  const cs::DeviceProperties p = cs::cuda_device_properties(0);
  benchmark::AddCustomContext("gpu", p.name);
  benchmark::AddCustomContext("gpu_compute_capability",
                              std::to_string(p.compute_major) + "." + std::to_string(p.compute_minor));
  benchmark::AddCustomContext("gpu_l2_bytes", std::to_string(p.l2_cache_bytes));
  benchmark::AddCustomContext("cuda_runtime", cs::cuda_runtime_version());
  benchmark::AddCustomContext("cuda_driver", cs::cuda_driver_version());
}

}  // namespace

int main(int argc, char** argv) {
  cs::select_cpu_kernels(argc, argv);
  read_repeat_budget(argc, argv);
  benchmark::Initialize(&argc, argv);
  add_context();
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
