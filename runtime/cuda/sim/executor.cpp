// The simulated device's grid executor. A grid's blocks go to a pool of host
// worker threads in a seeded order; a block's threads run on one worker as
// stackful fibers (Boost.Context), each until it reaches a barrier, a warp
// collective or its end. Between those points the order of the threads is
// reshuffled from the seed, so a kernel whose result depends on the schedule
// (a race) gives different results under different seeds.
//
// Stricter than the hardware on purpose: a barrier releases only when every
// thread of the block waits at the same __syncthreads; a thread that exits or
// waits elsewhere is an error naming both sites, never a hang. Warp
// collectives wait for exactly the lanes of their mask. Shared memory is
// NaN-filled at every block start and bounded by redzones.
#include <boost/context/detail/fcontext.hpp>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "runtime/cuda/sim/device_api.h"
#include "runtime/cuda/sim/sim_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define CS_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CS_SIM_ASAN 1
#endif
#endif
#if defined(CS_SIM_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace cs::sim {
namespace {

namespace bctx = boost::context::detail;

enum class State : uint8_t { Ready, AtBarrier, AtWarp, Exited };

struct AsyncCopy {
  void* dst;
  const void* src;
};

struct SimThread {
  uint3 index;
  unsigned linear;
  State state;
  Site site;  // where it waits (barrier or warp collective)
  bctx::fcontext_t context;
  char* stack_low;
  size_t stack_size;
  std::vector<AsyncCopy> uncommitted;
  std::deque<std::vector<AsyncCopy>> groups;  // committed cp.async groups, oldest first
};

// One pending collective of a warp.
struct WarpOp {
  unsigned mask = 0, arrived = 0;
  Site site{};
  const char* what = nullptr;
  void* lane_data[32] = {};
  void (*complete)(void* const*, unsigned, void*) = nullptr;
  void* context = nullptr;
};

struct SharedAllocation {
  const SharedSite* site;  // nullptr: the dynamic shared memory
  size_t offset, bytes;
};

constexpr size_t kRedzone = 64;
constexpr unsigned char kFreshShared = 0xff;  // every float / double reads NaN
constexpr unsigned char kRedzoneByte = 0xfe;
constexpr size_t kArenaBytes = 240 * 1024;  // the 227 KiB limit plus redzones; a multiple of 4096

struct FiberAbort {};

struct Block {
  const Grid* grid = nullptr;
  uint3 index{};
  std::vector<SimThread> threads;
  std::vector<std::vector<WarpOp>> warps;
  std::vector<SharedAllocation> shared;
  size_t arena_used = 0, static_bytes = 0;
  bool faulted = false;
  KernelFault fault;
};

// Pooled fiber stacks, each with a guard page below it (stacks grow down).
class StackPool {
 public:
  ~StackPool() {
    for (char* region : regions_) munmap(region, region_bytes_);
  }
  // Usable bytes [low, low + size) of stack i.
  char* get(size_t i, size_t size) {
    if (size != stack_bytes_) {
      for (char* region : regions_) munmap(region, region_bytes_);
      regions_.clear();
      stack_bytes_ = size;
      region_bytes_ = size + page();
    }
    while (regions_.size() <= i) {
      void* p = mmap(nullptr, region_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      mprotect(p, page(), PROT_NONE);  // the guard page
      regions_.push_back(static_cast<char*>(p));
    }
    return regions_[i] + page();
  }

 private:
  static size_t page() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }
  std::vector<char*> regions_;
  size_t stack_bytes_ = 0, region_bytes_ = 0;
};

struct Worker {
  bctx::fcontext_t scheduler = nullptr;
  Block block;
  SimThread* current = nullptr;
  StackPool stacks;
  // Page-aligned, so offsets aligned in the arena are aligned addresses.
  std::unique_ptr<unsigned char, decltype(&std::free)> arena{
      static_cast<unsigned char*>(std::aligned_alloc(4096, kArenaBytes)), &std::free};
  const void* scheduler_stack_low = nullptr;  // for ASan's fiber annotations
  size_t scheduler_stack_size = 0;
};

thread_local Worker* t_worker = nullptr;

Worker& worker() {
  if (!t_worker) t_worker = new Worker();  // one per host thread that runs blocks; lives with it
  return *t_worker;
}

std::string where(const Site& s) {
  std::ostringstream o;
  o << s.file << ":" << s.line << " (" << s.function << ")";
  return o.str();
}

std::string thread_name(const SimThread& t) {
  std::ostringstream o;
  o << "thread (" << t.index.x << "," << t.index.y << "," << t.index.z << ")";
  return o.str();
}

std::string block_name(const Block& b) {
  std::ostringstream o;
  o << "block (" << b.index.x << "," << b.index.y << "," << b.index.z << ") of kernel "
    << b.grid->kernel_name;
  return o.str();
}

// Records the block's first fault.
void set_fault(Block& b, cudaError_t status, const std::string& what) {
  if (b.faulted) return;
  b.faulted = true;
  b.fault = KernelFault{status, "simulated device: " + what + " [" + block_name(b) + "]"};
}

SimThread& current_thread() {
  Worker* w = t_worker;
  if (!w || !w->current) throw std::logic_error("simulated device: device code called outside a kernel");
  return *w->current;
}

// ---- fiber switching ------------------------------------------------------------------------

void fiber_entry(bctx::transfer_t from);

void resume(Worker& w, SimThread& t) {
  w.current = &t;
#if defined(CS_SIM_ASAN)
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, t.stack_low, t.stack_size);
#endif
  bctx::transfer_t back = bctx::jump_fcontext(t.context, &t);
#if defined(CS_SIM_ASAN)
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  t.context = back.fctx;
  w.current = nullptr;
}

// From a fiber back to its block's scheduler; returns when resumed.
void suspend(Worker& w, bool exiting) {
#if defined(CS_SIM_ASAN)
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(exiting ? nullptr : &fake_stack, w.scheduler_stack_low,
                                 w.scheduler_stack_size);
#else
  (void)exiting;
#endif
  bctx::transfer_t back = bctx::jump_fcontext(w.scheduler, nullptr);
#if defined(CS_SIM_ASAN)
  __sanitizer_finish_switch_fiber(fake_stack, &w.scheduler_stack_low, &w.scheduler_stack_size);
#endif
  w.scheduler = back.fctx;
}

void on_exit(Worker& w, SimThread& t) {
  Block& b = w.block;
  t.state = State::Exited;
  const unsigned lane = t.linear % 32;
  for (const WarpOp& op : b.warps[t.linear / 32]) {
    if (op.mask >> lane & 1u) {
      std::ostringstream o;
      o << thread_name(t) << " (lane " << lane << ") exited while lanes of its warp wait for it at " << op.what
        << " at " << where(op.site) << " (mask 0x" << std::hex << op.mask << ")";
      set_fault(b, cudaErrorLaunchFailure, o.str());
      return;
    }
  }
}

void fiber_entry(bctx::transfer_t from) {
  Worker& w = *t_worker;
#if defined(CS_SIM_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, &w.scheduler_stack_low, &w.scheduler_stack_size);
#endif
  w.scheduler = from.fctx;
  SimThread& t = *static_cast<SimThread*>(from.data);
  try {
    w.block.grid->body();
  } catch (const FiberAbort&) {
  } catch (const std::exception& e) {
    set_fault(w.block, cudaErrorLaunchFailure, std::string("exception in device code: ") + e.what());
  }
  on_exit(w, t);
  suspend(w, true);
  std::abort();  // an exited fiber is never resumed
}

[[noreturn]] void fault_here(cudaError_t status, const std::string& what) {
  Worker& w = *t_worker;
  set_fault(w.block, status, thread_name(*w.current) + ": " + what);
  throw FiberAbort{};
}

// ---- shared memory ------------------------------------------------------------------------

size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

void poison(unsigned char* p, size_t n) {
#if defined(CS_SIM_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(p, n);  // it may be a redzone already
#endif
  std::memset(p, kRedzoneByte, n);
#if defined(CS_SIM_ASAN)
  ASAN_POISON_MEMORY_REGION(p, n);
#endif
}

// Appends an allocation of `bytes` after a redzone; NaN-fills it.
size_t arena_allocate(Worker& w, size_t bytes, size_t align) {
  Block& b = w.block;
  const size_t offset = align_up(b.arena_used + kRedzone, std::max<size_t>(align, 16));
  if (offset + bytes + kRedzone > kArenaBytes) return SIZE_MAX;
  poison(w.arena.get() + b.arena_used, offset - b.arena_used);
  if (bytes > 0) std::memset(w.arena.get() + offset, kFreshShared, bytes);
  b.arena_used = offset + bytes;
  poison(w.arena.get() + b.arena_used, kRedzone);
  return offset;
}

// A write past a shared variable changes the redzone after it.
void check_redzones(Worker& w) {
  Block& b = w.block;
#if defined(CS_SIM_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(w.arena.get(), kArenaBytes);
#endif
  for (size_t i = 0; i < b.shared.size(); ++i) {
    const SharedAllocation& a = b.shared[i];
    const size_t end = a.offset + a.bytes;
    const size_t next = i + 1 < b.shared.size() ? b.shared[i + 1].offset : std::min(end + kRedzone, kArenaBytes);
    for (size_t p = end; p < next; ++p) {
      if (w.arena.get()[p] != kRedzoneByte) {
        std::ostringstream o;
        o << "shared memory written " << (p - end) << " bytes past the end of "
          << (a.site ? std::string("'") + a.site->name + "' (" + a.site->file + ":" + std::to_string(a.site->line) + ")"
                     : std::string("the dynamic shared memory"))
          << " of " << a.bytes << " bytes";
        set_fault(b, cudaErrorIllegalAddress, o.str());
        return;
      }
    }
  }
}

// ---- one block ------------------------------------------------------------------------------

std::string barrier_report(const Block& b) {
  std::ostringstream o;
  const SimThread* waiting = nullptr;
  const SimThread* other = nullptr;
  for (const SimThread& t : b.threads) {
    if (t.state == State::AtBarrier && !waiting) waiting = &t;
  }
  for (const SimThread& t : b.threads) {
    if (waiting && &t != waiting &&
        (t.state == State::Exited || t.state == State::AtWarp ||
         (t.state == State::AtBarrier && (t.site.line != waiting->site.line ||
                                           std::strcmp(t.site.file, waiting->site.file) != 0)))) {
      other = &t;
      break;
    }
  }
  if (waiting && other) {
    o << "barrier divergence: " << thread_name(*waiting) << " waits at __syncthreads() at "
      << where(waiting->site) << " while " << thread_name(*other);
    if (other->state == State::Exited) o << " has exited the kernel";
    else if (other->state == State::AtWarp) o << " waits at a warp collective at " << where(other->site);
    else o << " waits at another __syncthreads() at " << where(other->site);
    o << " (on a GPU: a hang or undefined behaviour)";
    return o.str();
  }
  // No barrier involved: lanes wait at warp collectives that cannot complete.
  for (const auto& ops : b.warps) {
    for (const WarpOp& op : ops) {
      unsigned missing = op.mask & ~op.arrived;
      o << "warp collective deadlock: " << op.what << " at " << where(op.site) << " with mask 0x" << std::hex
        << op.mask << " waits for lanes 0x" << missing << std::dec;
      for (int lane = 0; lane < 32; ++lane) {
        if (!(missing >> lane & 1u)) continue;
        const size_t idx = static_cast<size_t>(&ops - b.warps.data()) * 32 + lane;
        if (idx < b.threads.size()) {
          const SimThread& t = b.threads[idx];
          o << "; lane " << lane << " waits at " << where(t.site);
        }
        break;
      }
      return o.str();
    }
  }
  return "the block's threads wait for each other (deadlock)";
}

void run_block(Worker& w, const Grid& g, uint64_t linear_block) {
  Block& b = w.block;
  b.grid = &g;
  b.index = uint3{static_cast<unsigned>(linear_block % g.grid.x),
                  static_cast<unsigned>(linear_block / g.grid.x % g.grid.y),
                  static_cast<unsigned>(linear_block / (static_cast<uint64_t>(g.grid.x) * g.grid.y))};
  const unsigned n = g.block.x * g.block.y * g.block.z;
  b.threads.assign(n, SimThread{});
  b.warps.assign((n + 31) / 32, {});
  b.shared.clear();
  b.arena_used = 0;
  b.static_bytes = 0;
  b.faulted = false;
#if defined(CS_SIM_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(w.arena.get(), kArenaBytes);
#endif
  // The dynamic shared memory comes first, so the statics follow it.
  const size_t dyn = arena_allocate(w, g.dynamic_shared_bytes, 128);
  b.shared.push_back({nullptr, dyn, g.dynamic_shared_bytes});

  const size_t stack_bytes = settings().stack_bytes;
  for (unsigned i = 0; i < n; ++i) {
    SimThread& t = b.threads[i];
    t.linear = i;
    t.index = uint3{i % g.block.x, i / g.block.x % g.block.y, i / (g.block.x * g.block.y)};
    t.state = State::Ready;
    t.stack_low = w.stacks.get(i, stack_bytes);
    t.stack_size = stack_bytes;
    t.context = bctx::make_fcontext(t.stack_low + stack_bytes, stack_bytes, &fiber_entry);
  }

  std::mt19937_64 rng(mix64(settings().seed ^ mix64(g.launch_index * 0x10001ull + linear_block)));
  std::vector<unsigned> ready;
  ready.reserve(n);
  while (!b.faulted) {
    ready.clear();
    unsigned at_barrier = 0, exited = 0;
    for (unsigned i = 0; i < n; ++i) {
      const State s = b.threads[i].state;
      if (s == State::Ready) ready.push_back(i);
      else if (s == State::AtBarrier) ++at_barrier;
      else if (s == State::Exited) ++exited;
    }
    if (ready.empty()) {
      if (exited == n) break;
      const bool all_at_one_barrier = [&] {
        if (at_barrier != n) return false;
        const Site& first = b.threads[0].site;
        for (const SimThread& t : b.threads)
          if (t.site.line != first.line || std::strcmp(t.site.file, first.file) != 0) return false;
        return true;
      }();
      if (!all_at_one_barrier) {
        set_fault(b, cudaErrorLaunchFailure, barrier_report(b));
        break;
      }
      for (SimThread& t : b.threads) t.state = State::Ready;
      continue;
    }
    std::shuffle(ready.begin(), ready.end(), rng);
    for (unsigned i : ready) {
      if (b.threads[i].state != State::Ready) continue;
      resume(w, b.threads[i]);
      if (b.faulted) break;
    }
  }
  if (!b.faulted) check_redzones(w);
#if defined(CS_SIM_ASAN)
  if (b.faulted) {
    // Abandoned fibers leave poisoned frames on their stacks: clean them for reuse.
    for (SimThread& t : b.threads) ASAN_UNPOISON_MEMORY_REGION(t.stack_low, t.stack_size);
  }
#endif
}

// ---- the worker pool ----------------------------------------------------------------------

// The order blocks are handed out in: a seeded permutation of [0, count).
class BlockOrder {
 public:
  BlockOrder(uint64_t count, uint64_t seed) : count_(count) {
    std::mt19937_64 rng(seed);
    if (count <= (uint64_t{1} << 20)) {
      explicit_.resize(count);
      std::iota(explicit_.begin(), explicit_.end(), uint64_t{0});
      std::shuffle(explicit_.begin(), explicit_.end(), rng);
    } else {
      // An affine permutation i -> (a i + c) mod count with gcd(a, count) = 1.
      multiplier_ = rng() % count | 1;
      while (std::gcd(multiplier_, count) != 1) multiplier_ += 2;
      offset_ = rng() % count;
    }
  }
  uint64_t operator[](uint64_t i) const {
    if (!explicit_.empty()) return explicit_[i];
    return static_cast<uint64_t>((static_cast<unsigned __int128>(multiplier_) * i + offset_) % count_);
  }

 private:
  uint64_t count_, multiplier_ = 1, offset_ = 0;
  std::vector<uint64_t> explicit_;
};

class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool();  // never destroyed: workers may outlive static destructors
    return *pool;
  }

  void run(const Grid& g) {
    std::lock_guard<std::mutex> one_grid_at_a_time(run_mutex_);
    const uint64_t blocks = static_cast<uint64_t>(g.grid.x) * g.grid.y * g.grid.z;
    BlockOrder order(blocks, mix64(settings().seed + g.launch_index));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &g;
      order_ = &order;
      total_ = blocks;
      next_.store(0);
      faulted_ = false;
      faulted_flag_.store(false);
      fault_ = KernelFault{};
      busy_ = static_cast<int>(helpers_.size());
      ++generation_;
    }
    wake_.notify_all();
    work();  // the calling thread is a worker too
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    job_ = nullptr;
    if (faulted_) throw fault_;
  }

 private:
  Pool() {
    const int workers = std::max(1, settings().workers);
    for (int i = 1; i < workers; ++i) helpers_.emplace_back([this] { helper_loop(); });
    for (std::thread& t : helpers_) t.detach();
  }

  void helper_loop() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
      }
      work();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_all();
    }
  }

  void work() {
    Worker& w = worker();
    for (;;) {
      const uint64_t i = next_.fetch_add(1);
      if (i >= total_ || faulted_flag_.load()) break;
      run_block(w, *job_, (*order_)[i]);
      if (w.block.faulted) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!faulted_) {
          faulted_ = true;
          fault_ = w.block.fault;
        }
        faulted_flag_.store(true);
      }
    }
  }

  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> helpers_;
  const Grid* job_ = nullptr;
  const BlockOrder* order_ = nullptr;
  uint64_t total_ = 0, generation_ = 0;
  std::atomic<uint64_t> next_{0};
  std::atomic<bool> faulted_flag_{false};
  int busy_ = 0;
  bool faulted_ = false;
  KernelFault fault_;
};

}  // namespace

// ---- entry points ---------------------------------------------------------------------------

void run_grid(const Grid& g) { Pool::instance().run(g); }

const uint3& current_thread_index() { return current_thread().index; }
const uint3& current_block_index() { return t_worker->block.index; }
const dim3& current_block_dim() { return t_worker->block.grid->block; }
const dim3& current_grid_dim() { return t_worker->block.grid->grid; }
int lane_id() { return static_cast<int>(current_thread().linear % 32); }

void kernel_fault(cudaError_t status, const char* message) {
  current_thread();
  fault_here(status, message);
}

void syncthreads(Site site) {
  SimThread& t = current_thread();
  t.state = State::AtBarrier;
  t.site = site;
  suspend(*t_worker, false);
}

void warp_collective(Site site, const char* what, unsigned mask, void* lane_data,
                     void (*complete)(void* const*, unsigned, void*), void* context) {
  SimThread& t = current_thread();
  Worker& w = *t_worker;
  Block& b = w.block;
  const unsigned lane = t.linear % 32, warp = t.linear / 32;
  const unsigned n = static_cast<unsigned>(b.threads.size());
  const unsigned lanes_in_warp = std::min(32u, n - warp * 32);
  const unsigned existing = lanes_in_warp == 32 ? 0xffffffffu : (1u << lanes_in_warp) - 1;
  auto fail = [&](const std::string& why) {
    std::ostringstream o;
    o << what << " at " << where(site) << " (lane " << lane << ", mask 0x" << std::hex << mask << std::dec
      << "): " << why;
    fault_here(cudaErrorLaunchFailure, o.str());
  };
  if (!(mask >> lane & 1u)) fail("the calling lane is not in the mask");
  if (mask & ~existing) fail("the mask names lanes past the end of the block");
  for (unsigned l = 0; l < 32; ++l) {
    if ((mask >> l & 1u) && b.threads[warp * 32 + l].state == State::Exited)
      fail("lane " + std::to_string(l) + " of the mask has exited");
  }
  std::vector<WarpOp>& ops = b.warps[warp];
  WarpOp* op = nullptr;
  for (WarpOp& candidate : ops) {
    if (candidate.mask >> lane & 1u) {
      op = &candidate;
      break;
    }
    if (candidate.mask & mask) {
      std::ostringstream o;
      o << "lanes disagree on the mask: lanes 0x" << std::hex << (candidate.mask & mask) << " are in this mask and in 0x"
        << candidate.mask << std::dec << " of " << candidate.what << " at " << where(candidate.site);
      fail(o.str());
    }
  }
  if (op) {
    if (op->mask != mask) {
      std::ostringstream o;
      o << "lanes disagree on the mask: 0x" << std::hex << op->mask << std::dec << " at " << where(op->site);
      fail(o.str());
    }
    if (std::strcmp(op->what, what) != 0 || op->site.line != site.line || std::strcmp(op->site.file, site.file) != 0)
      fail(std::string("other lanes of the mask wait at ") + op->what + " at " + where(op->site));
  } else {
    ops.push_back(WarpOp{});
    op = &ops.back();
    op->mask = mask;
    op->site = site;
    op->what = what;
    op->complete = complete;
    op->context = context;
  }
  op->lane_data[lane] = lane_data;
  op->arrived |= 1u << lane;
  t.state = State::AtWarp;
  t.site = site;
  if (op->arrived == op->mask) {
    const WarpOp done = *op;
    ops.erase(ops.begin() + (op - ops.data()));
    done.complete(done.lane_data, done.mask, done.context);
    for (unsigned l = 0; l < 32; ++l)
      if (done.mask >> l & 1u) b.threads[warp * 32 + l].state = State::Ready;
  }
  suspend(w, false);
}

namespace {
struct SyncwarpNothing {};
void complete_nothing(void* const*, unsigned, void*) {}

struct VoteLane {
  bool predicate;
  unsigned result;
};
void complete_vote(void* const* lanes, unsigned mask, void* context) {
  const auto mode = static_cast<VoteMode>(reinterpret_cast<uintptr_t>(context));
  unsigned ballot = 0;
  for (int l = 0; l < 32; ++l)
    if ((mask >> l & 1u) && static_cast<VoteLane*>(lanes[l])->predicate) ballot |= 1u << l;
  unsigned result = ballot;
  if (mode == VoteMode::Any) result = ballot != 0;
  if (mode == VoteMode::All) result = ballot == mask;
  for (int l = 0; l < 32; ++l)
    if (mask >> l & 1u) static_cast<VoteLane*>(lanes[l])->result = result;
}
}  // namespace

void syncwarp(Site site, unsigned mask) {
  SyncwarpNothing me;
  warp_collective(site, "__syncwarp", mask, &me, &complete_nothing, nullptr);
}

unsigned vote(Site site, VoteMode mode, unsigned mask, bool predicate) {
  static const char* const names[] = {"__ballot_sync", "__any_sync", "__all_sync"};
  VoteLane me{predicate, 0};
  warp_collective(site, names[static_cast<int>(mode)], mask, &me, &complete_vote,
                  reinterpret_cast<void*>(static_cast<uintptr_t>(mode)));
  return me.result;
}

void* shared_variable(const SharedSite* site, size_t bytes, size_t align) {
  current_thread();
  Worker& w = *t_worker;
  Block& b = w.block;
  for (const SharedAllocation& a : b.shared)
    if (a.site == site) return w.arena.get() + a.offset;
  b.static_bytes += bytes;
  if (b.static_bytes > kStaticSharedLimit)
    fault_here(cudaErrorInvalidValue, "static shared memory exceeds 48 KiB at '" + std::string(site->name) + "' (" +
                                          site->file + ":" + std::to_string(site->line) + ")");
  if (b.static_bytes + b.grid->dynamic_shared_bytes > kSharedOptinLimit)
    fault_here(cudaErrorInvalidValue, "static plus dynamic shared memory exceed the device's 227 KiB per block");
  const size_t offset = arena_allocate(w, bytes, align);
  if (offset == SIZE_MAX) fault_here(cudaErrorInvalidValue, "shared memory arena exhausted");
  b.shared.push_back({site, offset, bytes});
  return w.arena.get() + offset;
}

void* dynamic_shared(size_t align) {
  current_thread();
  Worker& w = *t_worker;
  const SharedAllocation& a = w.block.shared.front();
  if (reinterpret_cast<uintptr_t>(w.arena.get() + a.offset) % align != 0)
    fault_here(cudaErrorMisalignedAddress, "dynamic shared memory alignment above 128 bytes is not modelled");
  return w.arena.get() + a.offset;
}

void cp_async_16(void* shared_dst, const void* global_src) {
  SimThread& t = current_thread();
  if (reinterpret_cast<uintptr_t>(shared_dst) % 16 || reinterpret_cast<uintptr_t>(global_src) % 16)
    fault_here(cudaErrorMisalignedAddress, "cp.async of 16 bytes needs 16-byte aligned addresses");
  t.uncommitted.push_back({shared_dst, global_src});
}

void cp_async_commit() {
  SimThread& t = current_thread();
  t.groups.push_back(std::move(t.uncommitted));
  t.uncommitted.clear();
}

void cp_async_wait(int newest_groups_left_pending) {
  SimThread& t = current_thread();
  while (static_cast<int>(t.groups.size()) > newest_groups_left_pending) {
    for (const AsyncCopy& c : t.groups.front()) std::memcpy(c.dst, c.src, 16);
    t.groups.pop_front();
  }
}

}  // namespace cs::sim
