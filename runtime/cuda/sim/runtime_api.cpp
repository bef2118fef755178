// The simulated device's CUDA runtime API: device memory as exact-size host
// allocations (so AddressSanitizer sees every out-of-bounds access), streams
// as queues that run only when something waits for them, events as positions
// in those queues.
//
// Deferred execution is what makes a missing cross-stream wait visible: work
// on stream B that reads what stream A writes runs before A's work unless an
// event orders them, so the test sees stale data (fresh allocations are NaN)
// instead of passing by luck. Async copies' destinations hold garbage until
// the copy has run.
#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "runtime/cuda/sim/device_api.h"
#include "runtime/cuda/sim/sim_internal.h"

struct CUstream_st {
  std::deque<std::function<void()>> pending;
  uint64_t enqueued = 0, executed = 0;
  bool destroyed = false;
  size_t cached_bytes = 0;  // freed on this stream, kept by the pool for reuse here
};

struct CUevent_st {
  CUstream_st* stream = nullptr;  // where it was last recorded
  uint64_t position = 0;          // complete when stream->executed >= position
  double time_ms = 0;
  bool timing = true;
  bool destroyed = false;
};

struct CUmemPoolHandle_st {
  uint64_t release_threshold = 0;
};

namespace cs::sim {
namespace {

// ---- settings -------------------------------------------------------------------------------

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const unsigned long long parsed = std::strtoull(v, &end, 10);
  if (*end != '\0') {
    std::fprintf(stderr, "convscope: %s=%s is not a whole number; using %llu\n", name, v,
                 static_cast<unsigned long long>(fallback));
    return fallback;
  }
  return parsed;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kDefaultStackKb = 512;
#else
constexpr size_t kDefaultStackKb = 64;
#endif

// ---- state ----------------------------------------------------------------------------------

// Everything below is guarded by this lock; work runs with it held, so
// streams drain one op at a time in a well-defined order.
std::recursive_mutex& exec_mutex() {
  static std::recursive_mutex m;
  return m;
}

struct Allocation {
  size_t bytes;
  bool pooled;
  bool freeing;  // a free is queued: later launches must not use it
};

struct Memory {
  std::mutex mutex;
  std::map<uintptr_t, Allocation> live;
  size_t pooled_in_use = 0, plain_in_use = 0;
};
Memory& memory() {
  static Memory* m = new Memory();
  return *m;
}

CUstream_st& legacy_stream() {
  static CUstream_st* s = new CUstream_st();
  return *s;
}
std::vector<CUstream_st*>& all_streams() {
  static std::vector<CUstream_st*>* v = new std::vector<CUstream_st*>{&legacy_stream()};
  return *v;
}
CUmemPoolHandle_st& default_pool() {
  static CUmemPoolHandle_st pool;
  return pool;
}
std::unordered_map<const void*, int>& max_dynamic_shared() {
  static std::unordered_map<const void*, int> m;
  return m;
}

std::atomic<uint64_t> launch_counter{0};
std::atomic<size_t> memory_limit_bytes{0};  // 0: not yet read from the settings
int current_device_count() { return static_cast<int>(std::min<uint64_t>(env_u64("CONVSCOPE_SIM_DEVICES", 1), 1)); }

// The calling thread's last error and the message behind it.
thread_local cudaError_t t_last_error = cudaSuccess;
thread_local std::string t_messages[1000];

cudaError_t fail(cudaError_t status, const std::string& message) {
  t_last_error = status;
  t_messages[static_cast<int>(status) % 1000] = message;
  return status;
}

CUstream_st& stream_of(cudaStream_t s) { return s ? *s : legacy_stream(); }

size_t cached_total() {
  size_t total = 0;
  for (CUstream_st* s : all_streams()) total += s->cached_bytes;
  return total;
}

// ---- executing queued work ------------------------------------------------------------------

cudaError_t run_until(CUstream_st& s, uint64_t position);

// Runs one stream's queue up to `position`; a kernel fault becomes the
// returned status (and the thread's last error), and the queue goes on.
cudaError_t run_until(CUstream_st& s, uint64_t position) {
  cudaError_t first = cudaSuccess;
  while (s.executed < position && !s.pending.empty()) {
    std::function<void()> op = std::move(s.pending.front());
    s.pending.pop_front();
    ++s.executed;
    try {
      op();
    } catch (const KernelFault& f) {
      if (first == cudaSuccess) first = fail(f.status, f.message);
    } catch (const std::exception& e) {
      if (first == cudaSuccess) first = fail(cudaErrorUnknown, std::string("simulated device: ") + e.what());
    }
  }
  return first;
}

cudaError_t run_all() {
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  // Streams are drained in a seeded order: independent streams are independent.
  std::vector<CUstream_st*> order = all_streams();
  std::shuffle(order.begin(), order.end(), std::mt19937_64(mix64(settings().seed + launch_counter.load())));
  cudaError_t first = cudaSuccess;
  for (bool again = true; again;) {
    again = false;
    for (CUstream_st* s : order) {
      if (s->pending.empty()) continue;
      const cudaError_t status = run_until(*s, s->enqueued);
      if (first == cudaSuccess) first = status;
      again = true;
    }
  }
  return first;
}

void enqueue(CUstream_st& s, std::function<void()> op) {
  s.pending.push_back(std::move(op));
  ++s.enqueued;
}

bool is_device_range_locked(const void* p, size_t bytes, bool allow_freeing = false) {
  Memory& m = memory();
  const auto addr = reinterpret_cast<uintptr_t>(p);
  auto it = m.live.upper_bound(addr);
  if (it == m.live.begin()) return false;
  --it;
  if (it->second.freeing && !allow_freeing) return false;
  return addr + bytes <= it->first + std::max<size_t>(it->second.bytes, 0) && addr >= it->first &&
         addr - it->first <= it->second.bytes;
}

bool is_device(const void* p) {
  std::lock_guard<std::mutex> lock(memory().mutex);
  return is_device_range_locked(p, 0, true);
}

cudaError_t check_range(const void* p, size_t bytes, const char* what) {
  std::lock_guard<std::mutex> lock(memory().mutex);
  if (is_device_range_locked(p, bytes)) return cudaSuccess;
  std::ostringstream o;
  o << "simulated device: " << what << " " << p << " (+" << bytes
    << " bytes) is not inside one live device allocation";
  return fail(cudaErrorInvalidValue, o.str());
}

cudaError_t allocate(void** ptr, size_t bytes, bool pooled, CUstream_st* stream) {
  if (!ptr) return fail(cudaErrorInvalidValue, "cudaMalloc: null result pointer");
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  Memory& m = memory();
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    const size_t limit = memory_limit();
    // The pool reuses what was freed on the same stream; memory cached for
    // other streams stays reserved until the pool is trimmed.
    size_t reuse = pooled && stream ? std::min(stream->cached_bytes, bytes) : 0;
    const size_t reserved = m.pooled_in_use + m.plain_in_use + cached_total();
    if (reserved - reuse + bytes > limit) {
      std::ostringstream o;
      o << "out of memory: " << bytes << " bytes asked, " << (m.pooled_in_use + m.plain_in_use)
        << " in use and " << cached_total() << " cached by the pool of the simulated device's " << limit
        << " (CONVSCOPE_SIM_MEMORY_MB)";
      return fail(cudaErrorMemoryAllocation, o.str());
    }
    if (reuse) stream->cached_bytes -= reuse;
  }
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes) != 0) return fail(cudaErrorMemoryAllocation, "host allocation failed");
  std::memset(p, 0xff, bytes);  // fresh device memory reads as NaN
  std::lock_guard<std::mutex> lock(m.mutex);
  m.live[reinterpret_cast<uintptr_t>(p)] = Allocation{bytes, pooled, false};
  (pooled ? m.pooled_in_use : m.plain_in_use) += bytes;
  *ptr = p;
  return cudaSuccess;
}

// Marks `ptr` as being freed; the memory goes when `release` runs.
cudaError_t begin_free(void* ptr, size_t* bytes, bool* pooled) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  auto it = m.live.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == m.live.end() || it->second.freeing) {
    std::ostringstream o;
    o << "simulated device: cudaFree of " << ptr
      << (it == m.live.end() ? ", which is not the start of a device allocation" : ", which is already being freed");
    return fail(cudaErrorInvalidValue, o.str());
  }
  it->second.freeing = true;
  *bytes = it->second.bytes;
  *pooled = it->second.pooled;
  return cudaSuccess;
}

void release(void* ptr, size_t bytes, bool pooled, CUstream_st* cache_on) {
  Memory& m = memory();
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    m.live.erase(reinterpret_cast<uintptr_t>(ptr));
    (pooled ? m.pooled_in_use : m.plain_in_use) -= bytes;
    if (pooled && cache_on && default_pool().release_threshold > 0) cache_on->cached_bytes += bytes;
  }
  std::memset(ptr, 0xff, bytes);  // a use after free reads NaN where ASan is not watching
  std::free(ptr);
}

// Gives cached pool memory back above the release threshold (CUDA does so at synchronizations).
void trim_pool(size_t keep) {
  std::lock_guard<std::mutex> lock(memory().mutex);
  size_t total = cached_total();
  for (CUstream_st* s : all_streams()) {
    if (total <= keep) break;
    const size_t drop = std::min(s->cached_bytes, total - keep);
    s->cached_bytes -= drop;
    total -= drop;
  }
}

cudaError_t after_sync(cudaError_t status) {
  trim_pool(default_pool().release_threshold);
  return status;
}

// ---- kernel names from the symbol table -------------------------------------------------------

struct Symbol {
  uintptr_t start, size;
  std::string name;
};

// The function symbols of one loaded file (its .symtab: kernels are often
// internal, so the dynamic symbols alone do not name them).
std::vector<Symbol> read_symbols(const char* path) {
  std::vector<Symbol> out;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    close(fd);
    return out;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return out;
  const auto* base = static_cast<const unsigned char*>(map);
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  const bool ok = std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
                  eh->e_shoff + static_cast<size_t>(eh->e_shnum) * sizeof(Elf64_Shdr) <= size;
  if (ok) {
    const auto* sections = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; ++i) {
      const Elf64_Shdr& sh = sections[i];
      if (sh.sh_type != SHT_SYMTAB || sh.sh_link >= eh->e_shnum) continue;
      const Elf64_Shdr& strings = sections[sh.sh_link];
      if (sh.sh_offset + sh.sh_size > size || strings.sh_offset + strings.sh_size > size) continue;
      const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sh.sh_offset);
      const size_t count = sh.sh_size / sizeof(Elf64_Sym);
      for (size_t k = 0; k < count; ++k) {
        if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || syms[k].st_name >= strings.sh_size) continue;
        const char* name = reinterpret_cast<const char*>(base + strings.sh_offset + syms[k].st_name);
        if (std::memchr(name, '\0', strings.sh_size - syms[k].st_name) == nullptr) continue;
        out.push_back(Symbol{syms[k].st_value, std::max<uintptr_t>(syms[k].st_size, 1), name});
      }
    }
  }
  munmap(map, size);
  std::sort(out.begin(), out.end(), [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
  return out;
}

}  // namespace

// ---- internal entry points --------------------------------------------------------------------

const Settings& settings() {
  static const Settings s = [] {
    Settings v;
    v.seed = env_u64("CONVSCOPE_SIM_SEED", 1);
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    v.workers = static_cast<int>(env_u64("CONVSCOPE_SIM_WORKERS", std::min(hw, 8u)));
    v.stack_bytes = env_u64("CONVSCOPE_SIM_STACK_KB", kDefaultStackKb) * 1024;
    v.memory_bytes = env_u64("CONVSCOPE_SIM_MEMORY_MB", 16384) << 20;
    return v;
  }();
  return s;
}

std::string function_name(const void* address) {
  static std::mutex mutex;
  static std::map<std::string, std::vector<Symbol>> files;
  static std::unordered_map<const void*, std::string> names;
  std::lock_guard<std::mutex> lock(mutex);
  auto known = names.find(address);
  if (known != names.end()) return known->second;
  std::string raw;
  Dl_info info{};
  if (dladdr(address, &info) != 0 && info.dli_fname) {
    if (info.dli_sname && info.dli_saddr == address) raw = info.dli_sname;
    if (raw.empty()) {
      auto& symbols = files[info.dli_fname];
      if (symbols.empty()) symbols = read_symbols(info.dli_fname);
      const uintptr_t offset = reinterpret_cast<uintptr_t>(address) - reinterpret_cast<uintptr_t>(info.dli_fbase);
      auto it = std::upper_bound(symbols.begin(), symbols.end(), offset,
                                 [](uintptr_t v, const Symbol& s) { return v < s.start; });
      if (it != symbols.begin() && offset < std::prev(it)->start + std::prev(it)->size) raw = std::prev(it)->name;
    }
  }
  std::string name;
  if (!raw.empty()) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(raw.c_str(), nullptr, nullptr, &status);
    name = status == 0 && demangled ? demangled : raw;
    std::free(demangled);
  } else {
    std::ostringstream o;
    o << "kernel at " << address;
    name = o.str();
  }
  names.emplace(address, name);
  return name;
}

void set_memory_limit(size_t bytes) { memory_limit_bytes.store(bytes); }
size_t memory_limit() {
  const size_t v = memory_limit_bytes.load();
  return v ? v : settings().memory_bytes;
}

bool is_device_range(const void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(memory().mutex);
  return is_device_range_locked(p, bytes);
}

void refuse_launch(const void* kernel, cudaError_t status, const char* why, int argument) {
  std::ostringstream o;
  o << "simulated device: launch of " << function_name(kernel) << " refused: " << why;
  if (argument >= 0) o << " (argument " << argument << ")";
  fail(status, o.str());
}

void enqueue_launch(const void* kernel, dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
                    std::function<void()> body) {
  std::ostringstream why;
  cudaError_t status = cudaSuccess;
  const uint64_t threads = static_cast<uint64_t>(block.x) * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0) {
    status = cudaErrorInvalidConfiguration;
    why << "a grid or block dimension is 0";
  } else if (threads > kMaxThreadsPerBlock || block.x > 1024 || block.y > 1024 || block.z > 64) {
    status = cudaErrorInvalidConfiguration;
    why << "block (" << block.x << "," << block.y << "," << block.z << ") exceeds 1024 threads or (1024, 1024, 64)";
  } else if (grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535) {
    status = cudaErrorInvalidConfiguration;
    why << "grid (" << grid.x << "," << grid.y << "," << grid.z << ") exceeds (2^31 - 1, 65535, 65535)";
  } else if (shared_bytes > kSharedOptinLimit) {
    status = cudaErrorInvalidValue;
    why << shared_bytes << " bytes of dynamic shared memory exceed the device's " << kSharedOptinLimit;
  } else if (shared_bytes > kStaticSharedLimit) {
    std::lock_guard<std::recursive_mutex> lock(exec_mutex());
    auto it = max_dynamic_shared().find(kernel);
    if (it == max_dynamic_shared().end() || static_cast<size_t>(it->second) < shared_bytes) {
      status = cudaErrorInvalidValue;
      why << shared_bytes
          << " bytes of dynamic shared memory need cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize) "
             "first (48 KiB without it)";
    }
  }
  if (status != cudaSuccess) {
    refuse_launch(kernel, status, why.str().c_str(), -1);
    return;
  }
  auto g = std::make_shared<Grid>();
  g->kernel = kernel;
  g->kernel_name = function_name(kernel);
  g->grid = grid;
  g->block = block;
  g->dynamic_shared_bytes = shared_bytes;
  g->launch_index = launch_counter.fetch_add(1);
  g->body = std::move(body);
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  enqueue(stream_of(stream), [g] { run_grid(*g); });
}

// Queues a host function in stream order (the CPU stand-ins for cuFFT,
// cuSOLVER and CUB run this way).
void enqueue_host_work(cudaStream_t stream, std::function<void()> work) {
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  enqueue(stream_of(stream), std::move(work));
}

cudaError_t report(cudaError_t status, const std::string& message) { return fail(status, message); }

}  // namespace cs::sim

using namespace cs::sim;

// ---- errors ---------------------------------------------------------------------------------

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidKernelImage: return "cudaErrorInvalidKernelImage";
    case cudaErrorNoKernelImageForDevice: return "cudaErrorNoKernelImageForDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorMisalignedAddress: return "cudaErrorMisalignedAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    default: return "cudaErrorUnknown";
  }
}

// The message of the calling thread's last error of this kind: the
// simulator's own words (which kernel, which sites) when it raised it.
const char* cudaGetErrorString(cudaError_t error) {
  const std::string& m = t_messages[static_cast<int>(error) % 1000];
  if (!m.empty()) return m.c_str();
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorNotReady: return "device not ready";
    default: return "simulated device error";
  }
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = t_last_error;
  t_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return t_last_error; }

// ---- device ---------------------------------------------------------------------------------

cudaError_t cudaGetDeviceCount(int* count) {
  *count = current_device_count();
  if (*count == 0) return fail(cudaErrorNoDevice, "no CUDA-capable device is detected (CONVSCOPE_SIM_DEVICES=0)");
  return cudaSuccess;
}

namespace {
thread_local int t_device = 0;
}

cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= current_device_count())
    return fail(cudaErrorInvalidDevice, "invalid device ordinal (the simulated device is cuda:0)");
  t_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = t_device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (device < 0 || device >= current_device_count()) return fail(cudaErrorInvalidDevice, "invalid device ordinal");
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "convscope simulated CUDA device (H100 SXM limits)");
  p->totalGlobalMem = memory_limit();
  p->sharedMemPerBlock = kStaticSharedLimit;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = kMaxThreadsPerBlock;
  p->maxThreadsDim[0] = 1024;
  p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 0x7fffffff;
  p->maxGridSize[1] = 65535;
  p->maxGridSize[2] = 65535;
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = kSmCount;
  p->memoryBusWidth = 5120;
  p->l2CacheSize = 50 * 1024 * 1024;
  p->maxThreadsPerMultiProcessor = 2048;
  p->sharedMemPerMultiprocessor = 228 * 1024;
  p->regsPerMultiprocessor = 65536;
  p->sharedMemPerBlockOptin = kSharedOptinLimit;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  if (const cudaError_t e = cudaGetDeviceProperties(&p, device); e != cudaSuccess) return e;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrClockRate: *value = 1980000; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrMemoryClockRate: *value = 2619000; break;
    case cudaDevAttrGlobalMemoryBusWidth: *value = p.memoryBusWidth; break;
    case cudaDevAttrL2CacheSize: *value = p.l2CacheSize; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); break;
    default: return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute not modelled by the simulator");
  }
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return after_sync(run_all()); }
cudaError_t cudaDeviceReset() { return cudaDeviceSynchronize(); }
cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || static_cast<size_t>(value) > kSharedOptinLimit)
      return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: more dynamic shared memory than the device has");
    std::lock_guard<std::recursive_mutex> lock(exec_mutex());
    max_dynamic_shared()[func] = value;
  }
  return cudaSuccess;
}

// ---- memory ---------------------------------------------------------------------------------

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  return allocate(ptr, bytes, false, nullptr);
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  const cudaError_t status = run_all();  // cudaFree synchronizes the device
  size_t bytes = 0;
  bool pooled = false;
  if (const cudaError_t e = begin_free(ptr, &bytes, &pooled); e != cudaSuccess) return e;
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  release(ptr, bytes, pooled, nullptr);
  return status;
}

cudaError_t cudaMallocAsync(void** ptr, size_t bytes, cudaStream_t stream) {
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  return allocate(ptr, bytes, true, &stream_of(stream));
}

cudaError_t cudaFreeAsync(void* ptr, cudaStream_t stream) {
  if (!ptr) return cudaSuccess;
  size_t bytes = 0;
  bool pooled = false;
  if (const cudaError_t e = begin_free(ptr, &bytes, &pooled); e != cudaSuccess) return e;
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  CUstream_st* s = &stream_of(stream);
  enqueue(*s, [ptr, bytes, pooled, s] { release(ptr, bytes, pooled, s); });
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  Memory& m = memory();
  std::lock_guard<std::recursive_mutex> exec(exec_mutex());
  std::lock_guard<std::mutex> lock(m.mutex);
  const size_t used = m.pooled_in_use + m.plain_in_use + cached_total();
  *total_bytes = memory_limit();
  *free_bytes = *total_bytes > used ? *total_bytes - used : 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  if (device < 0 || device >= current_device_count()) return fail(cudaErrorInvalidDevice, "invalid device ordinal");
  *pool = &default_pool();
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value) {
  if (pool != &default_pool()) return fail(cudaErrorInvalidValue, "unknown memory pool");
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  if (attr == cudaMemPoolAttrReleaseThreshold) pool->release_threshold = *static_cast<uint64_t*>(value);
  return cudaSuccess;
}

cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value) {
  if (pool != &default_pool()) return fail(cudaErrorInvalidValue, "unknown memory pool");
  std::lock_guard<std::recursive_mutex> exec(exec_mutex());
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  uint64_t v = 0;
  switch (attr) {
    case cudaMemPoolAttrReleaseThreshold: v = pool->release_threshold; break;
    case cudaMemPoolAttrReservedMemCurrent:
    case cudaMemPoolAttrReservedMemHigh: v = m.pooled_in_use + cached_total(); break;
    case cudaMemPoolAttrUsedMemCurrent:
    case cudaMemPoolAttrUsedMemHigh: v = m.pooled_in_use; break;
    default: break;
  }
  *static_cast<uint64_t*>(value) = v;
  return cudaSuccess;
}

cudaError_t cudaMemPoolTrimTo(cudaMemPool_t pool, size_t min_bytes_to_keep) {
  if (pool != &default_pool()) return fail(cudaErrorInvalidValue, "unknown memory pool");
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  trim_pool(min_bytes_to_keep);
  return cudaSuccess;
}

namespace {
// Checks both ends of a copy against its kind.
cudaError_t check_copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  const bool dst_device = is_device(dst), src_device = is_device(src);
  if (kind == cudaMemcpyDefault) kind = dst_device ? (src_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                                   : (src_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  const bool want_dst = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool want_src = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (want_dst) {
    if (const cudaError_t e = check_range(dst, bytes, "copy destination"); e != cudaSuccess) return e;
  } else if (dst_device) {
    return fail(cudaErrorInvalidValue, "simulated device: copy destination is device memory but the kind says host");
  }
  if (want_src) {
    if (const cudaError_t e = check_range(src, bytes, "copy source"); e != cudaSuccess) return e;
  } else if (src_device) {
    return fail(cudaErrorInvalidValue, "simulated device: copy source is device memory but the kind says host");
  }
  return cudaSuccess;
}
}  // namespace

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  if (const cudaError_t e = check_copy(dst, src, bytes, kind); e != cudaSuccess) return e;
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  // Until the copy runs its destination holds garbage (unless it overlaps the source).
  const auto d = reinterpret_cast<uintptr_t>(dst), s = reinterpret_cast<uintptr_t>(src);
  if (d + bytes <= s || s + bytes <= d) std::memset(dst, 0xff, bytes);
  enqueue(stream_of(stream), [dst, src, bytes] { std::memmove(dst, src, bytes); });
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (const cudaError_t e = cudaMemcpyAsync(dst, src, bytes, kind, nullptr); e != cudaSuccess) return e;
  return cudaDeviceSynchronize();
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t bytes,
                                cudaStream_t stream) {
  if (dst_device != 0 || src_device != 0) return fail(cudaErrorInvalidDevice, "the simulator has one device");
  return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream);
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  if (const cudaError_t e = check_range(ptr, bytes, "cudaMemset destination"); e != cudaSuccess) return e;
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  enqueue(stream_of(stream), [ptr, value, bytes] { std::memset(ptr, value, bytes); });
  return cudaSuccess;
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  if (const cudaError_t e = cudaMemsetAsync(ptr, value, bytes, nullptr); e != cudaSuccess) return e;
  return cudaDeviceSynchronize();
}

// ---- streams and events -----------------------------------------------------------------------

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  auto* s = new CUstream_st();
  all_streams().push_back(s);
  *stream = s;
  return cudaSuccess;
}

// The work queued before destruction still runs (as on a GPU); the queue
// object stays, since events may still point at it.
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!stream) return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy of the default stream");
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  if (stream->destroyed) return fail(cudaErrorInvalidResourceHandle, "stream destroyed twice");
  stream->destroyed = true;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  CUstream_st& s = stream_of(stream);
  if (s.destroyed) return fail(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize of a destroyed stream");
  return after_sync(run_until(s, s.enqueued));
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  // Queued work runs when it is observed: a query drives the stream.
  CUstream_st& s = stream_of(stream);
  return after_sync(run_until(s, s.enqueued));
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned) {
  if (!event || event->destroyed) return fail(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: no such event");
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  CUstream_st* target = event->stream;
  const uint64_t position = event->position;
  if (!target) return cudaSuccess;  // never recorded: nothing to wait for
  enqueue(stream_of(stream), [target, position] {
    if (const cudaError_t e = run_until(*target, position); e != cudaSuccess)
      throw KernelFault{e, cudaGetErrorString(e)};
  });
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  *event = new CUevent_st();
  (*event)->timing = !(flags & cudaEventDisableTiming);
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle, "cudaEventDestroy of a null event");
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  event->destroyed = true;  // kept: queued records may still point at it
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!event || event->destroyed) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: no such event");
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  CUstream_st& s = stream_of(stream);
  event->stream = &s;
  event->position = s.enqueued + 1;
  enqueue(s, [event] {
    event->time_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
                         .count();
  });
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event || event->destroyed) return fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: no such event");
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  if (!event->stream) return cudaSuccess;
  return after_sync(run_until(*event->stream, event->position));
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  if (!event || event->destroyed) return fail(cudaErrorInvalidResourceHandle, "cudaEventQuery: no such event");
  if (!event->stream) return cudaSuccess;
  return after_sync(run_until(*event->stream, event->position));
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  std::lock_guard<std::recursive_mutex> lock(exec_mutex());
  if (!start || !end || !start->timing || !end->timing)
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime needs two timing events");
  if (!start->stream || !end->stream || start->stream->executed < start->position ||
      end->stream->executed < end->position)
    return fail(cudaErrorNotReady, "cudaEventElapsedTime: an event has not completed");
  *ms = static_cast<float>(end->time_ms - start->time_ms);
  return cudaSuccess;
}
