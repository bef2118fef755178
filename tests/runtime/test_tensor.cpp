#include <chrono>
#include <thread>

#include "runtime/memory.h"
#include "runtime/stream.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

TEST(Tensor, CreatesZerosFullAndFromVector) {
  Tensor z = Tensor::zeros({2, 3});
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.ndim(), 2);
  EXPECT_EQ(z.dim(-1), 3);
  for (double v : z.to_double_vector()) EXPECT_EQ(v, 0.0);
  Tensor f = Tensor::full({4}, 2.5);
  for (float v : f.to_vector<float>()) EXPECT_EQ(v, 2.5f);
  Tensor v = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(v.to_vector<float>()[4], 5.0f);
  EXPECT_THROW(Tensor::from_vector(std::vector<float>{1, 2}, {3}), Error);
}

TEST(Tensor, IsAlignedForSimd) {
  for (int n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::empty({n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % kCpuAlignment, 0u) << n;
  }
}

TEST(Tensor, CopiesShareUntilCloned) {
  Tensor a = Tensor::full({3}, 1.0);
  Tensor b = a;
  Tensor c = a.clone();
  a.data<float>()[0] = 7;
  EXPECT_EQ(b.to_vector<float>()[0], 7.0f);
  EXPECT_EQ(c.to_vector<float>()[0], 1.0f);
  EXPECT_TRUE(a.shares_storage_with(b));
  EXPECT_FALSE(a.shares_storage_with(c));
}

TEST(Tensor, ReshapeAndNarrowAreViews) {
  Tensor t = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}, {4, 2});
  Tensor r = t.reshape({2, -1});
  EXPECT_EQ(r.shape(), (Shape{2, 4}));
  EXPECT_THROW(t.reshape({3, -1}), Error);
  EXPECT_THROW(t.reshape({-1, -1}), Error);
  Tensor rows = t.narrow(1, 2);
  EXPECT_EQ(rows.shape(), (Shape{2, 2}));
  EXPECT_EQ(rows.to_vector<float>(), (std::vector<float>{2, 3, 4, 5}));
  EXPECT_THROW(t.narrow(3, 2), Error);
}

TEST(Tensor, DtypeChecksAndConversions) {
  Tensor t = Tensor::from_vector(std::vector<float>{1.5f, -2.0f}, {2});
  EXPECT_THROW(t.data<double>(), Error);
  Tensor d = t.to(DType::F64);
  EXPECT_EQ(d.dtype(), DType::F64);
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{1.5, -2.0}));
  Tensor i = Tensor::from_vector(std::vector<int32_t>{3, -4}, {2});
  EXPECT_EQ(i.to(DType::F32).to_vector<float>(), (std::vector<float>{3, -4}));
  EXPECT_DOUBLE_EQ(Tensor::full({1}, 4.0).item(), 4.0);
  EXPECT_THROW(t.item(), Error);
}

TEST(Tensor, PrintsReadably) {
  Tensor t = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  const std::string s = t.str();
  EXPECT_NE(s.find("f32 cpu [2, 3]"), std::string::npos) << s;
  EXPECT_NE(s.find("[[1, 2, 3],"), std::string::npos) << s;
  Tensor big = Tensor::zeros({100});
  EXPECT_NE(big.str().find("..."), std::string::npos);
}

TEST(Memory, TracksBytesInUseAndReportsOutOfMemory) {
  const MemoryStats before = memory_stats(Device::cpu());
  {
    Tensor t = Tensor::empty({1 << 20});
    EXPECT_EQ(memory_stats(Device::cpu()).in_use_bytes, before.in_use_bytes + (4u << 20));
  }
  EXPECT_EQ(memory_stats(Device::cpu()).in_use_bytes, before.in_use_bytes);
  try {
    Tensor huge = Tensor::empty({int64_t{1} << 48});  // 1 PiB
    FAIL() << "allocating 1 PiB succeeded";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of memory"), std::string::npos) << msg;
    EXPECT_NE(msg.find("1.00 PiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("already use"), std::string::npos) << msg;
  }
  EXPECT_EQ(format_bytes(17), "17 B");
  EXPECT_EQ(format_bytes(3 << 20), "3.00 MiB");
}

TEST(Errors, CarryExpressionFileLineAndMessage) {
  try {
    const int k = -3;
    CS_CHECK(k > 0, "kernel size must be positive, got " << k);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "kernel size must be positive, got -3");
    EXPECT_EQ(e.expression(), "k > 0");
    EXPECT_STREQ(e.file(), "tests/runtime/test_tensor.cpp");
    EXPECT_GT(e.line(), 0);
    EXPECT_NE(std::string(e.what()).find("tests/runtime/test_tensor.cpp:"), std::string::npos);
  }
}

TEST(Device, ParsesNames) {
  EXPECT_EQ(parse_device("cpu"), Device::cpu());
  EXPECT_EQ(parse_device("cuda:1"), Device::cuda(1));
  EXPECT_EQ(parse_device("cuda"), Device::cuda(0));
  EXPECT_THROW(parse_device("tpu"), Error);
  EXPECT_THROW(parse_device("cuda:x"), Error);
  EXPECT_EQ(Device::cuda(2).str(), "cuda:2");
  const Device a = parse_device("auto");
  EXPECT_EQ(a.is_cuda(), cuda_device_count() > 0);
}

// Without a GPU (or without the CUDA backend) cuda:0 is missing; with GPUs the
// index one past the last is. Either way allocation fails with a clear error
// instead of crashing, so the test runs (not skips) on every machine.
TEST(Device, MissingDeviceFailsClearly) {
  const int missing = cuda_device_count();
  try {
    Tensor t = Tensor::zeros({4}, Device::cuda(missing));
    FAIL() << "allocated on the missing device cuda:" << missing;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("without CUDA") != std::string::npos ||
                msg.find("CUDA error") != std::string::npos ||
                msg.find("out of range") != std::string::npos)
        << msg;
  }
}

TEST(Timer, MeasuresCpuTime) {
  Timer timer(Device::cpu());
  timer.start();
  // A functional check, not a speed one: the timer sees a 20 ms sleep.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double ms = timer.stop_ms();
  EXPECT_GE(ms, 19.0);
  EXPECT_LT(ms, 10000.0);
}

TEST(TensorCuda, RoundTripsAndViewsOnTheDevice) {
  CS_REQUIRE_CUDA();
  Tensor host = testing::random_tensor({3, 5, 7}, testing::seed_for());
  Tensor gpu = host.to(Device::cuda());
  EXPECT_TRUE(gpu.is_cuda());
  EXPECT_BITWISE_EQ(gpu, host);
  EXPECT_BITWISE_EQ(gpu.narrow(1, 2), host.narrow(1, 2));
  Tensor copy = gpu.clone();
  EXPECT_FALSE(copy.shares_storage_with(gpu));
  EXPECT_BITWISE_EQ(copy, host);
  Tensor z = Tensor::zeros({1000}, Device::cuda());
  for (float v : z.to_vector<float>()) ASSERT_EQ(v, 0.0f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(gpu.raw_data()) % 256, 0u);
}

TEST(MemoryCuda, StreamOrderedAllocatorTracksAndReportsOutOfMemory) {
  CS_REQUIRE_CUDA();
  const MemoryStats before = memory_stats(Device::cuda());
  {
    Tensor t = Tensor::empty({1 << 20}, Device::cuda());
    EXPECT_EQ(memory_stats(Device::cuda()).in_use_bytes, before.in_use_bytes + (4u << 20));
  }
  EXPECT_EQ(memory_stats(Device::cuda()).in_use_bytes, before.in_use_bytes);
  try {
    Tensor huge = Tensor::empty({int64_t{1} << 46}, Device::cuda());  // 256 TiB
    FAIL() << "allocating 256 TiB on the GPU succeeded";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of memory on cuda:0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("256.00 TiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("free of"), std::string::npos) << msg;
  }
  // The device is still usable after the failed allocation.
  Tensor ok = Tensor::full({16}, 3.0, Device::cuda());
  EXPECT_EQ(ok.to_vector<float>()[15], 3.0f);
}

TEST(DeviceCuda, ReportsProperties) {
  CS_REQUIRE_CUDA();
  const DeviceProperties p = cuda_device_properties(0);
  EXPECT_FALSE(p.name.empty());
  EXPECT_GT(p.sm_count, 0);
  EXPECT_EQ(p.warp_size, 32);
  EXPECT_GT(p.total_memory_bytes, 0u);
  EXPECT_GT(p.l2_cache_bytes, 0u);
  EXPECT_GE(p.shared_memory_per_block_optin, p.shared_memory_per_block);
  EXPECT_GT(p.peak_memory_bandwidth_gbs(), 100.0);
  EXPECT_THROW(cuda_device_properties(cuda_device_count()), Error);
}

TEST(TimerCuda, MeasuresWithEvents) {
  CS_REQUIRE_CUDA();
  Tensor t = Tensor::zeros({1 << 22}, Device::cuda());
  Timer timer(Device::cuda());
  timer.start();
  Tensor copy = t.clone();
  const double ms = timer.stop_ms();
  EXPECT_GT(ms, 0.0);
  EXPECT_LT(ms, 1000.0);
}

TEST(StreamCuda, GuardSwitchesTheCurrentStream) {
  CS_REQUIRE_CUDA();
  Stream stream(Device::cuda());
  Tensor a = Tensor::full({4096}, 2.0, Device::cuda());
  {
    StreamGuard guard(stream);
    Tensor b = a.clone();
    stream.synchronize();
    EXPECT_EQ(b.to_vector<float>()[4095], 2.0f);
  }
}

// A tensor freed while another stream's queued work still reads it: the free
// must wait for that work (on the simulated device, where the default stream
// runs first here, the copy would otherwise read freed memory).
TEST(StreamCuda, FreeWaitsForWorkQueuedOnOtherStreams) {
  CS_REQUIRE_CUDA();
  Stream side(Device::cuda());
  Tensor copy;
  {
    Tensor source = Tensor::full({4096}, 3.0, Device::cuda());
    synchronize(Device::cuda());
    StreamGuard guard(side);
    copy = source.clone();  // queued on `side`, reading `source`
  }  // `source` is freed on the default stream
  synchronize(Device::cuda());
  side.synchronize();
  for (float v : copy.to_vector<float>()) ASSERT_EQ(v, 3.0f);
}

}  // namespace
}  // namespace cs
