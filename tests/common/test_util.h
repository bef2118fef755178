// The test harness shared by every suite.
//
// Conventions:
//  - Every test whose full name contains "Cuda" needs a GPU: CTest gives it the
//    label `gpu`, and it starts with CS_REQUIRE_CUDA(), which skips when there
//    is no device (and fails instead when CONVSCOPE_REQUIRE_GPU=1, as
//    scripts/gpu-check.sh sets it: a skipped GPU test on a GPU machine is a failure).
//  - Random data comes from seed_for(tag): fresh per test, reproducible, the
//    base seed printed and overridable with CONVSCOPE_TEST_SEED.
//  - Compare with expect_close (tolerances) or expect_equal (bitwise).
//  - A GPU test whose full shapes are slow on the simulated device
//    (CONVSCOPE_CUDA_SIM) picks, when !full_gpu_shapes(), smaller ones that
//    take the same kernel paths.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "runtime/tensor.h"

namespace cs::testing {

// The base seed: CONVSCOPE_TEST_SEED if set, otherwise a fixed default.
uint64_t base_seed();
// A seed for this test and `tag`, derived from the base seed and the test's
// name. Logs the base seed so a failure can be reproduced.
uint64_t seed_for(const std::string& tag = "");

bool cuda_available();
bool gpu_required();  // CONVSCOPE_REQUIRE_GPU=1
// True in the simulated-device build (CONVSCOPE_CUDA_SIM): CUDA kernels run on the CPU.
bool simulated_device();
// False in the simulator unless CONVSCOPE_SIM_FULL=1: there GPU tests use their reduced shape lists.
bool full_gpu_shapes();

// Passes when |actual - ref| <= atol + rtol * |ref| for every element, every
// value in both is finite, shapes match, and the reference is not all zeros
// (unless allow_zero_reference). On failure: the worst element, its index and
// the largest absolute and relative errors.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& reference, double atol,
                                     double rtol, bool allow_zero_reference = false);
// Bitwise equality of shape, dtype and every element.
::testing::AssertionResult all_equal(const Tensor& actual, const Tensor& reference);

// Uniform in [low, high).
Tensor random_tensor(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0,
                     Device device = Device::cpu(), DType dtype = DType::F32);
// Whole numbers in [low, high] stored as floats: sums and products of these
// are exact in float32, so GEMM and convolution can be checked bit for bit.
Tensor random_integers(const Shape& shape, uint64_t seed, int low, int high,
                       Device device = Device::cpu(), DType dtype = DType::F32);

}  // namespace cs::testing

#define EXPECT_CLOSE(actual, reference, atol, rtol) \
  EXPECT_TRUE(::cs::testing::all_close((actual), (reference), (atol), (rtol)))
#define ASSERT_CLOSE(actual, reference, atol, rtol) \
  ASSERT_TRUE(::cs::testing::all_close((actual), (reference), (atol), (rtol)))
#define EXPECT_BITWISE_EQ(actual, reference) \
  EXPECT_TRUE(::cs::testing::all_equal((actual), (reference)))

// First statement of every GPU test.
#define CS_REQUIRE_CUDA()                                                            \
  do {                                                                               \
    if (!::cs::testing::cuda_available()) {                                          \
      if (::cs::testing::gpu_required()) FAIL() << "CONVSCOPE_REQUIRE_GPU=1 but no CUDA device is usable"; \
      GTEST_SKIP() << "no CUDA device";                                              \
    }                                                                                \
  } while (0)
