// The engine's own use of the device, checked where the simulated device can
// provoke what a GPU rarely shows: running out of memory on demand.
#include <gtest/gtest.h>

#include "runtime/cuda/sim/device_api.h"
#include "runtime/device.h"
#include "runtime/stream.h"
#include "runtime/tensor.h"

namespace cs {
namespace {

// The pool keeps freed blocks for reuse on their stream; memory cached for
// one stream must not make an allocation on another fail (nor starve
// cudaMalloc users such as cuDNN): on out-of-memory the allocator gives the
// cache back and retries.
TEST(SimEngine, AllocatorReleasesCachedMemoryAndRetriesOnOutOfMemory) {
  const size_t saved = sim::memory_limit();
  sim::set_memory_limit(size_t{64} << 20);
  {
    Stream side(Device::cuda());
    {
      StreamGuard guard(side);
      Tensor big = Tensor::empty({10 << 20}, Device::cuda());  // 40 MiB, freed on `side`
    }
    side.synchronize();
    Tensor again = Tensor::empty({10 << 20}, Device::cuda());  // on the default stream
    EXPECT_EQ(again.numel(), 10 << 20);
    EXPECT_THROW(Tensor::empty({20 << 20}, Device::cuda()), Error) << "80 MiB cannot fit in 64";
  }
  sim::set_memory_limit(saved);
}

}  // namespace
}  // namespace cs
