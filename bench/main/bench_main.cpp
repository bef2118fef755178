// main() of the benchmark executable: CPU kernel selection, then Google Benchmark.
#include <benchmark/benchmark.h>

#include "runtime/preinit/cpu_setup.h"

int main(int argc, char** argv) {
  cs::select_cpu_kernels(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
