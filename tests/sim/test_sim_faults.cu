// Proof that the simulated CUDA device catches the bugs it exists to catch:
// tiny faulty kernels, each expected to be reported (or to give visibly wrong
// results), beside correct twins that must pass. Built only with
// -DCONVSCOPE_CUDA_SIM=ON (several of these kernels would hang a real GPU).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "runtime/cuda/cuda_context.cuh"

namespace {

constexpr int kThreads = 64;

// ---- kernels --------------------------------------------------------------------------------

// Reverses 64 values through shared memory; `synchronized` selects the
// correct version with the barrier between the writes and the reads.
__global__ void reverse_kernel(const float* in, float* out, bool synchronized) {
  CS_SHARED(tile, float[kThreads]);
  const int t = threadIdx.x;
  tile[t] = in[t];
  if (synchronized) __syncthreads();
  out[t] = tile[kThreads - 1 - t];
}

// Reads a shared tile nobody wrote.
__global__ void uninitialised_shared_kernel(float* out) {
  CS_SHARED(tile, float[kThreads]);
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x];
}

// Half the block skips the barrier and exits.
__global__ void divergent_exit_kernel(float* out) {
  if (threadIdx.x < kThreads / 2) {
    __syncthreads();
  }
  out[threadIdx.x] = 1.f;
}

// Two halves of the block wait at two different barriers.
__global__ void two_barriers_kernel(float* out) {
  if (threadIdx.x < kThreads / 2) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.f;
}

// A warp sum; with `lane_exits`, lane 31 leaves before the shuffles.
__global__ void warp_sum_kernel(const float* in, float* out, bool lane_exits) {
  const int lane = threadIdx.x % 32;
  if (lane_exits && lane == 31) return;
  float v = in[threadIdx.x];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (lane == 0) out[threadIdx.x / 32] = v;
}

// Lanes of one warp pass different masks.
__global__ void mask_disagreement_kernel(float* out) {
  const unsigned mask = threadIdx.x % 2 ? 0xffffffffu : 0x55555555u;  // even lanes: only the even ones
  out[threadIdx.x] = __shfl_sync(mask, 1.f, 0);
}

// A vote over the warp.
__global__ void ballot_kernel(const float* in, unsigned* out) {
  const unsigned ballot = __ballot_sync(0xffffffffu, in[threadIdx.x] > 0.f);
  if (threadIdx.x % 32 == 0) out[threadIdx.x / 32] = ballot;
}

__global__ void fill_kernel(float* out, float value, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = value;
}

__global__ void copy_kernel(const float* in, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = in[i];
}

#if defined(__SANITIZE_ADDRESS__)
// Reads one element past the end of `in` (n + 1 threads).
__global__ void out_of_bounds_kernel(const float* in, float* out) { out[0] = in[threadIdx.x]; }
#endif

#if defined(CONVSCOPE_SANITIZE_UNDEFINED)
// A float4 load from an address that is not 16-byte aligned (faults on a GPU).
__global__ void misaligned_vector_kernel(const float* in, float* out) {
  out[0] = reinterpret_cast<const float4*>(in + 1)->x;
}
#endif

// Writes one element past the end of a shared tile.
__global__ void shared_overflow_kernel(float* out) {
  CS_SHARED(tile, float[kThreads]);
  tile[threadIdx.x + 1] = 1.f;
  __syncthreads();
  out[threadIdx.x] = tile[0];
}

// Counts with an atomic across every block.
__global__ void count_kernel(unsigned* counter) { atomicAdd(counter, 1u); }

// ---- helpers --------------------------------------------------------------------------------

template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t count = 0;
  explicit DeviceBuffer(size_t n) : count(n) { EXPECT_EQ(cudaMalloc(&ptr, n * sizeof(T)), cudaSuccess); }
  ~DeviceBuffer() { cudaFree(ptr); }
  void upload(const std::vector<T>& v) {
    ASSERT_EQ(cudaMemcpy(ptr, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  std::vector<T> download() {
    std::vector<T> v(count);
    EXPECT_EQ(cudaMemcpy(v.data(), ptr, count * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return v;
  }
};

std::vector<float> iota_values(int n) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(i + 1);
  return v;
}

// Synchronizes and returns the error with its message ("" when none).
std::string sync_error(cudaError_t* status = nullptr) {
  const cudaError_t e = cudaDeviceSynchronize();
  cudaGetLastError();
  if (status) *status = e;
  return e == cudaSuccess ? "" : cudaGetErrorString(e);
}

// ---- tests ----------------------------------------------------------------------------------

TEST(SimDevice, BarrierMakesTheSharedTileVisible) {
  DeviceBuffer<float> in(kThreads), out(kThreads);
  in.upload(iota_values(kThreads));
  for (int run = 0; run < 3; ++run) {
    cs::cuda::launch(reverse_kernel, 1, kThreads, 0, nullptr, in.ptr, out.ptr, true);
    ASSERT_EQ(sync_error(), "");
    const std::vector<float> got = out.download();
    for (int t = 0; t < kThreads; ++t) ASSERT_EQ(got[t], static_cast<float>(kThreads - t)) << "thread " << t;
  }
}

TEST(SimDevice, MissingBarrierGivesWrongResults) {
  DeviceBuffer<float> in(kThreads), out(kThreads);
  in.upload(iota_values(kThreads));
  // Each launch gets another schedule; a thread that runs before the one whose
  // element it reads sees the arena's NaN instead.
  int wrong = 0;
  for (int run = 0; run < 3; ++run) {
    cs::cuda::launch(reverse_kernel, 1, kThreads, 0, nullptr, in.ptr, out.ptr, false);
    ASSERT_EQ(sync_error(), "");
    const std::vector<float> got = out.download();
    for (int t = 0; t < kThreads; ++t) wrong += got[t] != static_cast<float>(kThreads - t);
  }
  EXPECT_GT(wrong, 0) << "the race went unnoticed in three schedules";
}

TEST(SimDevice, UninitialisedSharedMemoryReadsNaN) {
  DeviceBuffer<float> out(kThreads);
  cs::cuda::launch(uninitialised_shared_kernel, 1, kThreads, 0, nullptr, out.ptr);
  ASSERT_EQ(sync_error(), "");
  for (float v : out.download()) EXPECT_TRUE(std::isnan(v));
}

TEST(SimDevice, BarrierInADivergentBranchIsAnError) {
  DeviceBuffer<float> out(kThreads);
  cs::cuda::launch(divergent_exit_kernel, 1, kThreads, 0, nullptr, out.ptr);
  cudaError_t status;
  const std::string message = sync_error(&status);
  EXPECT_EQ(status, cudaErrorLaunchFailure);
  EXPECT_NE(message.find("barrier divergence"), std::string::npos) << message;
  EXPECT_NE(message.find("has exited"), std::string::npos) << message;
  EXPECT_NE(message.find("divergent_exit_kernel"), std::string::npos) << message;
  EXPECT_NE(message.find("test_sim_faults.cu"), std::string::npos) << message;

  cs::cuda::launch(two_barriers_kernel, 1, kThreads, 0, nullptr, out.ptr);
  const std::string two = sync_error(&status);
  EXPECT_EQ(status, cudaErrorLaunchFailure);
  EXPECT_NE(two.find("another __syncthreads()"), std::string::npos) << two;
}

TEST(SimDevice, WarpShuffleSums) {
  DeviceBuffer<float> in(kThreads), out(kThreads / 32);
  in.upload(iota_values(kThreads));
  cs::cuda::launch(warp_sum_kernel, 1, kThreads, 0, nullptr, in.ptr, out.ptr, false);
  ASSERT_EQ(sync_error(), "");
  const std::vector<float> got = out.download();
  EXPECT_EQ(got[0], 32.f * 33.f / 2.f);
  EXPECT_EQ(got[1], (64.f * 65.f - 32.f * 33.f) / 2.f);
}

TEST(SimDevice, ShuffleWithAnExitedLaneIsAnError) {
  DeviceBuffer<float> in(kThreads), out(kThreads / 32);
  in.upload(iota_values(kThreads));
  cs::cuda::launch(warp_sum_kernel, 1, kThreads, 0, nullptr, in.ptr, out.ptr, true);
  cudaError_t status;
  const std::string message = sync_error(&status);
  EXPECT_EQ(status, cudaErrorLaunchFailure);
  EXPECT_NE(message.find("__shfl_down_sync"), std::string::npos) << message;
  EXPECT_NE(message.find("exited"), std::string::npos) << message;
}

TEST(SimDevice, LanesDisagreeingOnTheMaskIsAnError) {
  DeviceBuffer<float> out(kThreads);
  cs::cuda::launch(mask_disagreement_kernel, 1, 32, 0, nullptr, out.ptr);
  cudaError_t status;
  const std::string message = sync_error(&status);
  EXPECT_EQ(status, cudaErrorLaunchFailure);
  EXPECT_NE(message.find("disagree on the mask"), std::string::npos) << message;
}

TEST(SimDevice, BallotCollectsTheWarp) {
  std::vector<float> v(kThreads, -1.f);
  v[3] = v[31] = v[32] = 1.f;
  DeviceBuffer<float> in(kThreads);
  DeviceBuffer<unsigned> out(2);
  in.upload(v);
  cs::cuda::launch(ballot_kernel, 1, kThreads, 0, nullptr, in.ptr, out.ptr);
  ASSERT_EQ(sync_error(), "");
  const std::vector<unsigned> got = out.download();
  EXPECT_EQ(got[0], (1u << 3) | (1u << 31));
  EXPECT_EQ(got[1], 1u);
}

TEST(SimDevice, OversizeLaunchesAreRefusedLikeOnAGpu) {
  DeviceBuffer<float> out(4);
  cs::cuda::launch(fill_kernel, 1, 2048, 0, nullptr, out.ptr, 1.f, 4);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  cs::cuda::launch(fill_kernel, dim3(1, 70000), 32, 0, nullptr, out.ptr, 1.f, 4);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  cs::cuda::launch(fill_kernel, 1, 32, 64 * 1024, nullptr, out.ptr, 1.f, 4);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue) << "over 48 KiB of dynamic shared memory needs the opt-in";
  ASSERT_EQ(cudaFuncSetAttribute(fill_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024), cudaSuccess);
  cs::cuda::launch(fill_kernel, 1, 32, 64 * 1024, nullptr, out.ptr, 1.f, 4);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(sync_error(), "");
}

TEST(SimDevice, HostPointerArgumentIsRefused) {
  std::vector<float> host(4);
  cs::cuda::launch(fill_kernel, 1, 32, 0, nullptr, host.data(), 1.f, 4);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
  const std::string message = cudaGetErrorString(cudaErrorIllegalAddress);
  EXPECT_NE(message.find("fill_kernel"), std::string::npos) << message;
  EXPECT_NE(message.find("argument 0"), std::string::npos) << message;
}

TEST(SimDevice, MissingCrossStreamWaitReadsStaleData) {
  constexpr int n = 256;
  cudaStream_t producer, consumer;
  ASSERT_EQ(cudaStreamCreateWithFlags(&producer, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaStreamCreateWithFlags(&consumer, cudaStreamNonBlocking), cudaSuccess);
  DeviceBuffer<float> data(n), copy(n);
  cudaEvent_t written;
  ASSERT_EQ(cudaEventCreate(&written), cudaSuccess);

  // Without a wait the consumer runs first and copies the fresh allocation's NaNs.
  cs::cuda::launch(fill_kernel, n / 64, 64, 0, producer, data.ptr, 7.f, n);
  cs::cuda::launch(copy_kernel, n / 64, 64, 0, consumer, data.ptr, copy.ptr, n);
  ASSERT_EQ(cudaStreamSynchronize(consumer), cudaSuccess);
  std::vector<float> got(n);
  ASSERT_EQ(cudaMemcpyAsync(got.data(), copy.ptr, n * 4, cudaMemcpyDeviceToHost, consumer), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(consumer), cudaSuccess);
  EXPECT_TRUE(std::isnan(got[0])) << "the consumer saw the producer's work without a wait";
  ASSERT_EQ(cudaStreamSynchronize(producer), cudaSuccess);

  // With the event wait the consumer sees the producer's values.
  cs::cuda::launch(fill_kernel, n / 64, 64, 0, producer, data.ptr, 9.f, n);
  ASSERT_EQ(cudaEventRecord(written, producer), cudaSuccess);
  ASSERT_EQ(cudaStreamWaitEvent(consumer, written), cudaSuccess);
  cs::cuda::launch(copy_kernel, n / 64, 64, 0, consumer, data.ptr, copy.ptr, n);
  ASSERT_EQ(cudaMemcpyAsync(got.data(), copy.ptr, n * 4, cudaMemcpyDeviceToHost, consumer), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(consumer), cudaSuccess);
  for (float v : got) ASSERT_EQ(v, 9.f);
  cudaEventDestroy(written);
  cudaStreamDestroy(producer);
  cudaStreamDestroy(consumer);
}

TEST(SimDevice, AsyncCopyDestinationHoldsGarbageUntilItRuns) {
  DeviceBuffer<float> data(4);
  data.upload({1.f, 2.f, 3.f, 4.f});
  cudaStream_t s;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  std::vector<float> got(4, 0.f);
  ASSERT_EQ(cudaMemcpyAsync(got.data(), data.ptr, 16, cudaMemcpyDeviceToHost, s), cudaSuccess);
  EXPECT_TRUE(std::isnan(got[0])) << "read before the stream was synchronized";
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(got[3], 4.f);
  cudaStreamDestroy(s);
}

TEST(SimDevice, SharedMemoryOverflowIsReported) {
#if defined(__SANITIZE_ADDRESS__)
  // The redzones are poisoned for ASan there: the write ends the process with its report.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto faulty = [] {
    DeviceBuffer<float> out(kThreads);
    cs::cuda::launch(shared_overflow_kernel, 1, kThreads, 0, nullptr, out.ptr);
    cudaDeviceSynchronize();
  };
  EXPECT_DEATH(faulty(), "AddressSanitizer|out of bounds");  // UBSan sees the index first
#else
  DeviceBuffer<float> out(kThreads);
  cs::cuda::launch(shared_overflow_kernel, 1, kThreads, 0, nullptr, out.ptr);
  cudaError_t status;
  const std::string message = sync_error(&status);
  EXPECT_EQ(status, cudaErrorIllegalAddress);
  EXPECT_NE(message.find("past the end of 'tile'"), std::string::npos) << message;
#endif
}

TEST(SimDevice, AtomicsCountAcrossBlocksOnEveryWorker) {
  DeviceBuffer<unsigned> counter(1);
  counter.upload({0u});
  cs::cuda::launch(count_kernel, 500, 128, 0, nullptr, counter.ptr);
  ASSERT_EQ(sync_error(), "");
  EXPECT_EQ(counter.download()[0], 500u * 128u);
}

TEST(SimDevice, OutOfBoundsGlobalReadIsCaughtByAddressSanitizer) {
#if !defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "needs the AddressSanitizer build of the simulated device";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto faulty = [] {
    DeviceBuffer<float> in(kThreads), out(1);
    cs::cuda::launch(out_of_bounds_kernel, 1, kThreads + 1, 0, nullptr, in.ptr, out.ptr);
    cudaDeviceSynchronize();
  };
  EXPECT_DEATH(faulty(), "heap-buffer-overflow");
#endif
}

TEST(SimDevice, MisalignedVectorLoadIsCaughtByUndefinedBehaviourSanitizer) {
#if !defined(CONVSCOPE_SANITIZE_UNDEFINED)
  GTEST_SKIP() << "needs the UBSan build of the simulated device";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto faulty = [] {
    DeviceBuffer<float> in(8), out(1);
    cs::cuda::launch(misaligned_vector_kernel, 1, 1, 0, nullptr, in.ptr, out.ptr);
    cudaDeviceSynchronize();
  };
  EXPECT_DEATH(faulty(), "misaligned address");
#endif
}

}  // namespace
