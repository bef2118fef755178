// convscope info: how this copy was built and what devices it sees.
#include <zlib.h>

#include <CLI/Version.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "runtime/build_info.h"
#include "runtime/device.h"
#include "runtime/memory.h"

namespace cs::cli {

namespace {

void print_device(int index) {
  const DeviceProperties p = cuda_device_properties(index);
  std::printf("cuda:%d  %s\n", index, p.name.c_str());
  std::printf("  compute capability      %d.%d\n", p.compute_major, p.compute_minor);
  std::printf("  streaming multiprocessors %d\n", p.sm_count);
  std::printf("  SM clock                %.0f MHz\n", p.clock_khz / 1e3);
  std::printf("  memory                  %s, %d-bit bus at %.0f MHz (peak %.0f GB/s)\n",
              format_bytes(p.total_memory_bytes).c_str(), p.memory_bus_width_bits,
              p.memory_clock_khz / 1e3, p.peak_memory_bandwidth_gbs());
  std::printf("  L2 cache                %s\n", format_bytes(p.l2_cache_bytes).c_str());
  std::printf("  shared memory           %s per block (%s opt-in), %s per SM\n",
              format_bytes(p.shared_memory_per_block).c_str(),
              format_bytes(p.shared_memory_per_block_optin).c_str(),
              format_bytes(p.shared_memory_per_sm).c_str());
  std::printf("  registers               %d per block, %d per SM\n", p.registers_per_block,
              p.registers_per_sm);
  std::printf("  threads                 %d per block, %d per SM, warp size %d\n",
              p.max_threads_per_block, p.max_threads_per_sm, p.warp_size);
}

#if defined(CONVSCOPE_CUDA_SIM)
constexpr bool kSimulatedDevice = true;
#else
constexpr bool kSimulatedDevice = false;
#endif

int run_info() {
  const BuildInfo& b = build_info();
  std::printf("convscope %s (%s build, %s)\n", b.version.c_str(), b.build_type.c_str(),
              b.cxx_compiler.c_str());
  if (kSimulatedDevice) {
    std::printf("CUDA backend: on, simulated device (kernels/cuda/*.cu compiled by the host compiler; "
                "their threads run on CPU fibers; see docs/sim.md)\n");
    std::printf("  it models an H100's limits (132 SMs, 48 KiB static / 227 KiB opt-in shared memory per "
                "block, warps of 32) and proves logic, never speed\n");
  } else if (cuda_compiled()) {
    std::printf("CUDA backend: on (toolkit %s, architectures %s, runtime %s, driver %s)\n",
                b.cuda_toolkit_version.c_str(), b.cuda_architectures.c_str(),
                cuda_runtime_version().c_str(),
                cuda_driver_version().empty() ? "none" : cuda_driver_version().c_str());
    if (!b.cudnn_version.empty())
      std::printf("cuDNN headers: %s (a reference in benchmarks; convscope's ops do not use it)\n",
                  b.cudnn_version.c_str());
  } else {
    std::printf("CUDA backend: off (CPU-only build)\n");
  }
  std::printf("CPU GEMM: OpenBLAS %s\n", b.openblas_version.c_str());
  std::printf("libraries: CLI11 %s, nlohmann-json %d.%d.%d, zlib %s, stb_image (Debian libstb)\n",
              CLI11_VERSION, NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
              NLOHMANN_JSON_VERSION_PATCH, ZLIB_VERSION);
  const int count = cuda_device_count();
  if (count == 0) {
    std::printf("no CUDA device: running on CPU\n");
    return 0;
  }
  for (int i = 0; i < count; ++i) print_device(i);
  return 0;
}

}  // namespace

void register_info(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("info", "Show the build configuration and every device found");
  set_action(cmd, run_info);
}

}  // namespace cs::cli
