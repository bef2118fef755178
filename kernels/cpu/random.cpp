#include "kernels/random.h"

#include "runtime/philox.h"

namespace cs::kernels {

OpRegistry<RandomImpl>& random_registry() {
  static OpRegistry<RandomImpl> registry("random");
  return registry;
}

void random_words(Tensor& x, uint64_t seed, uint64_t offset) {
  check_dtype(x, DType::I32, "random_words");
  random_registry().get(x.device()).words(x, seed, offset);
}

void uniform_(Tensor& x, uint64_t seed, uint64_t offset, double low, double high) {
  check_compute_dtype(x, "uniform_");
  CS_CHECK(low <= high, "uniform_: low " << low << " above high " << high);
  random_registry().get(x.device()).uniform(x, seed, offset, low, high);
}

void normal_(Tensor& x, uint64_t seed, uint64_t offset, double mean, double stddev) {
  check_compute_dtype(x, "normal_");
  CS_CHECK(stddev >= 0, "normal_: negative standard deviation " << stddev);
  random_registry().get(x.device()).normal(x, seed, offset, mean, stddev);
}

void bernoulli_(Tensor& x, uint64_t seed, uint64_t offset, double p) {
  check_compute_dtype(x, "bernoulli_");
  CS_CHECK(p >= 0 && p <= 1, "bernoulli_: probability " << p << " outside [0, 1]");
  random_registry().get(x.device()).bernoulli(x, seed, offset, p);
}

namespace {

void cpu_words(Tensor& x, uint64_t seed, uint64_t offset) {
  int32_t* p = x.data<int32_t>();
  for (int64_t i = 0; i < x.numel(); ++i)
    p[i] = static_cast<int32_t>(philox::word(seed, offset, static_cast<uint64_t>(i)));
}

template <typename F>
void fill_floating(Tensor& x, F draw) {
  dispatch_floating(x.dtype(), "random", [&](auto zero) {
    using T = decltype(zero);
    T* p = x.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<T>(draw(static_cast<uint64_t>(i)));
  });
}

// The affine maps are computed in float, as on the GPU, so f32 results match bitwise.
void cpu_uniform(Tensor& x, uint64_t seed, uint64_t offset, double low, double high) {
  const float lo = static_cast<float>(low), width = static_cast<float>(high - low);
  fill_floating(x, [=](uint64_t i) { return lo + width * philox::uniform(seed, offset, i); });
}

void cpu_normal(Tensor& x, uint64_t seed, uint64_t offset, double mean, double stddev) {
  const float m = static_cast<float>(mean), s = static_cast<float>(stddev);
  fill_floating(x, [=](uint64_t i) { return m + s * philox::normal(seed, offset, i); });
}

void cpu_bernoulli(Tensor& x, uint64_t seed, uint64_t offset, double p) {
  const float pf = static_cast<float>(p);
  fill_floating(x, [=](uint64_t i) { return philox::bernoulli(seed, offset, i, pf) ? 1.0f : 0.0f; });
}

}  // namespace

CS_REGISTER_OP(random_registry, DeviceType::CPU,
               (RandomImpl{&cpu_words, &cpu_uniform, &cpu_normal, &cpu_bernoulli}))

}  // namespace cs::kernels
