// Internals of the simulated device shared by its parts: the grid executor
// (executor.cpp: blocks on worker threads, threads on fibers), the runtime
// API (runtime_api.cpp: memory, streams, events) and the libraries
// (libraries.cpp: cuFFT, cuSOLVER, CUB on the CPU).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <string>

namespace cs::sim {

// A kernel whose threads fault ends with this, carrying the CUDA status the
// launch reports and a message naming the kernel and the sites.
struct KernelFault {
  cudaError_t status;
  std::string message;
};

// One queued grid.
struct Grid {
  const void* kernel;
  std::string kernel_name;  // demangled, with template arguments, when the symbol table has it
  dim3 grid, block;
  size_t dynamic_shared_bytes;
  uint64_t launch_index;  // order of launch in the process: with the seed, fixes the schedule
  std::function<void()> body;
};

// Runs every block of `grid` (on the worker pool) and returns when all are
// done; throws KernelFault on the first fault.
void run_grid(const Grid& grid);

// Queues host work in stream order (the CPU stand-ins for cuFFT, cuSOLVER
// and CUB); a KernelFault it throws is reported like a kernel's.
void enqueue_host_work(cudaStream_t stream, std::function<void()> work);
// Sets the calling thread's last error with the simulator's message; returns `status`.
cudaError_t report(cudaError_t status, const std::string& message);

// The demangled name of the function at `address` ("kernel at 0x..." when unknown).
std::string function_name(const void* address);

// Settings read once from the environment (docs/sim.md lists them).
struct Settings {
  uint64_t seed;          // CONVSCOPE_SIM_SEED: thread and block order
  int workers;            // CONVSCOPE_SIM_WORKERS: host threads running blocks
  size_t stack_bytes;     // CONVSCOPE_SIM_STACK_KB: each simulated thread's stack
  size_t memory_bytes;    // CONVSCOPE_SIM_MEMORY_MB: the device's memory
};
const Settings& settings();

// The device the simulator models (an H100 SXM's limits, so launch
// heuristics choose as they would there).
constexpr int kSmCount = 132;
constexpr size_t kStaticSharedLimit = 48 * 1024;
constexpr size_t kSharedOptinLimit = 227 * 1024;
constexpr int kMaxThreadsPerBlock = 1024;

// Splits a 64-bit value into well-mixed bits (SplitMix64).
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace cs::sim
