#include "tests/common/test_util.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "runtime/philox.h"

namespace cs::testing {

uint64_t base_seed() {
  static const uint64_t seed = [] {
    const char* text = std::getenv("CONVSCOPE_TEST_SEED");
    return text ? std::strtoull(text, nullptr, 0) : 20261124ull;
  }();
  return seed;
}

uint64_t seed_for(const std::string& tag) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = tag;
  if (info) name = std::string(info->test_suite_name()) + "." + info->name() + "/" + tag;
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  const uint64_t seed = base_seed() ^ h;
  ::testing::Test::RecordProperty("seed_base", std::to_string(base_seed()));
  std::cout << "[ seed ] " << name << ": base seed " << base_seed()
            << " (set CONVSCOPE_TEST_SEED to change), derived " << seed << "\n";
  return seed;
}

bool cuda_available() { return cuda_device_count() > 0; }

bool gpu_required() {
  const char* text = std::getenv("CONVSCOPE_REQUIRE_GPU");
  return text && std::string(text) == "1";
}

bool simulated_device() {
#if defined(CONVSCOPE_CUDA_SIM)
  return true;
#else
  return false;
#endif
}

bool full_gpu_shapes() {
  if (!simulated_device()) return true;
  const char* text = std::getenv("CONVSCOPE_SIM_FULL");
  return text && std::string(text) == "1";
}

namespace {

std::string index_str(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return shape_str(idx);
}

}  // namespace

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& reference, double atol,
                                     double rtol, bool allow_zero_reference) {
  if (!actual.defined() || !reference.defined())
    return ::testing::AssertionFailure() << "undefined tensor in comparison";
  if (actual.shape() != reference.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape())
                                         << " vs reference " << shape_str(reference.shape());
  const std::vector<double> a = actual.to_double_vector();
  const std::vector<double> r = reference.to_double_vector();
  bool any_nonzero = false;
  int64_t worst = -1, failures = 0;
  double worst_excess = -1, max_abs = 0, max_rel = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(r[i]))
      return ::testing::AssertionFailure() << "reference has a non-finite value " << r[i]
                                           << " at " << index_str(i, reference.shape());
    if (!std::isfinite(a[i]))
      return ::testing::AssertionFailure() << "non-finite value " << a[i] << " at "
                                           << index_str(i, actual.shape()) << " (reference "
                                           << r[i] << ")";
    if (r[i] != 0) any_nonzero = true;
    const double err = std::abs(a[i] - r[i]);
    const double allowed = atol + rtol * std::abs(r[i]);
    max_abs = std::max(max_abs, err);
    if (r[i] != 0) max_rel = std::max(max_rel, err / std::abs(r[i]));
    if (err > allowed) {
      ++failures;
      if (err - allowed > worst_excess) {
        worst_excess = err - allowed;
        worst = static_cast<int64_t>(i);
      }
    }
  }
  if (!a.empty() && !any_nonzero && !allow_zero_reference)
    return ::testing::AssertionFailure()
           << "reference is all zeros: the comparison would prove nothing";
  if (failures > 0)
    return ::testing::AssertionFailure()
           << failures << " of " << a.size() << " elements differ; worst at "
           << index_str(worst, reference.shape()) << ": " << a[worst] << " vs reference "
           << r[worst] << " (atol " << atol << ", rtol " << rtol << "); max abs error " << max_abs
           << ", max rel error " << max_rel;
  return ::testing::AssertionSuccess() << "max abs error " << max_abs << ", max rel error "
                                       << max_rel;
}

::testing::AssertionResult all_equal(const Tensor& actual, const Tensor& reference) {
  if (actual.shape() != reference.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape())
                                         << " vs reference " << shape_str(reference.shape());
  if (actual.dtype() != reference.dtype())
    return ::testing::AssertionFailure() << "dtype " << dtype_name(actual.dtype())
                                         << " vs reference " << dtype_name(reference.dtype());
  const Tensor a = actual.to(Device::cpu()), r = reference.to(Device::cpu());
  const auto* pa = static_cast<const unsigned char*>(a.raw_data());
  const auto* pr = static_cast<const unsigned char*>(r.raw_data());
  const size_t width = dtype_size(a.dtype());
  int64_t mismatches = 0, first = -1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (std::memcmp(pa + i * width, pr + i * width, width) != 0) {
      if (first < 0) first = i;
      ++mismatches;
    }
  }
  if (mismatches) {
    const std::vector<double> av = a.to_double_vector(), rv = r.to_double_vector();
    return ::testing::AssertionFailure()
           << mismatches << " of " << a.numel() << " elements differ bitwise; first at "
           << index_str(first, a.shape()) << ": " << av[first] << " vs reference " << rv[first];
  }
  return ::testing::AssertionSuccess();
}

Tensor random_tensor(const Shape& shape, uint64_t seed, double low, double high, Device device,
                     DType dtype) {
  return Tensor::uniform(shape, low, high, seed, device, dtype);
}

Tensor random_integers(const Shape& shape, uint64_t seed, int low, int high, Device device,
                       DType dtype) {
  const int64_t n = shape_numel(shape);
  std::vector<double> values(n);
  const uint32_t span = static_cast<uint32_t>(high - low + 1);
  for (int64_t i = 0; i < n; ++i)
    values[i] = low + static_cast<int>(philox::word(seed, 0, static_cast<uint64_t>(i)) % span);
  return Tensor::from_vector(values, shape, Device::cpu()).to(dtype).to(device);
}

}  // namespace cs::testing
