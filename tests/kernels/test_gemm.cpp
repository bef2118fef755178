#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/gemm.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using kernels::Transpose;

// Tensor of `shape` on `device` whose data starts one float past a 16-byte
// boundary (a view into a larger buffer), holding `values`' elements.
Tensor misaligned_copy(const Tensor& values, Device device) {
  const int64_t n = values.numel();
  Tensor buffer = Tensor::zeros({n + 1}, device);
  Tensor view = buffer.narrow(1, n).reshape(values.shape());
  view.copy_from(values);
  return view;
}


TEST(Gemm, CpuMatchesNaiveForAllTransposes) {
  for (DType dtype : {DType::F32, DType::F64})
    for (Transpose ta : {Transpose::No, Transpose::Yes})
      for (Transpose tb : {Transpose::No, Transpose::Yes})
        for (auto [m, n, k] : {std::tuple{1, 1, 1}, std::tuple{7, 13, 31}, std::tuple{33, 1, 129},
                               std::tuple{64, 65, 3}}) {
          SCOPED_TRACE(::testing::Message() << m << "x" << n << "x" << k << " ta=" << int(ta)
                                          << " tb=" << int(tb));
          const Shape sa = ta == Transpose::No ? Shape{m, k} : Shape{k, m};
          const Shape sb = tb == Transpose::No ? Shape{k, n} : Shape{n, k};
          Tensor a = testing::random_integers(sa, testing::seed_for("a"), -4, 4, Device::cpu(), dtype);
          Tensor b = testing::random_integers(sb, testing::seed_for("b"), -4, 4, Device::cpu(), dtype);
          Tensor c0 = testing::random_integers({m, n}, testing::seed_for("c"), -4, 4, Device::cpu(), dtype);
          Tensor c = c0.clone(), ref = c0.clone();
          kernels::gemm(a, ta, b, tb, c, 2.0, -1.0);
          kernels::gemm_naive_cpu(a, ta, b, tb, ref, 2.0, -1.0);
          EXPECT_BITWISE_EQ(c, ref);
        }
}

TEST(Gemm, CpuHandlesMisalignedViews) {
  // The helper the CUDA misalignment test relies on really misaligns, and the
  // CPU path accepts such views.
  const Tensor a = testing::random_integers({9, 12}, testing::seed_for("a"), -4, 4);
  const Tensor b = testing::random_integers({12, 8}, testing::seed_for("b"), -4, 4);
  Tensor ma = misaligned_copy(a, Device::cpu()), mb = misaligned_copy(b, Device::cpu());
  Tensor mc = misaligned_copy(Tensor::zeros({9, 8}), Device::cpu());
  for (const Tensor* t : {&ma, &mb, &mc})
    EXPECT_NE(reinterpret_cast<uintptr_t>(t->data<float>()) % 16, 0u);
  EXPECT_BITWISE_EQ(ma, a);
  Tensor ref = Tensor::zeros({9, 8});
  kernels::gemm_naive_cpu(a, Transpose::No, b, Transpose::No, ref);
  kernels::gemm(ma, Transpose::No, mb, Transpose::No, mc);
  EXPECT_BITWISE_EQ(mc, ref);
}

TEST(Gemm, RejectsMismatchedShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5}), c = Tensor::zeros({2, 5});
  EXPECT_THROW(kernels::gemm(a, Transpose::No, b, Transpose::No, c), Error);
  Tensor b2 = Tensor::zeros({3, 5}), c2 = Tensor::zeros({5, 2});
  EXPECT_THROW(kernels::gemm(a, Transpose::No, b2, Transpose::No, c2), Error);
}

TEST(Gemm, BetaZeroIgnoresNanInC) {
  Tensor a = Tensor::full({2, 2}, 1.0), b = Tensor::full({2, 2}, 1.0);
  Tensor c = Tensor::full({2, 2}, std::nan(""));
  kernels::gemm(a, Transpose::No, b, Transpose::No, c);
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{2, 2, 2, 2}));
}

// ---- named CUDA variants: registry behaviour (both builds) ---------------------------------

TEST(GemmVariants, ListMatchesTheBuild) {
  const std::vector<std::string> names = kernels::gemm_cuda_variants();
  if (!cuda_compiled()) {
    EXPECT_TRUE(names.empty());
    return;
  }
  const std::vector<std::string> expected = {"naive",      "smem_tiled", "register_blocked",
                                             "vectorized", "tf32_wmma",  "double_buffered"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(names.back(), "double_buffered");  // the production variant comes last
}

TEST(GemmVariants, UnknownNameIsAClearError) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 4}), c = Tensor::zeros({2, 4});
  try {
    kernels::gemm_cuda_variant("no_such_variant", a, Transpose::No, b, Transpose::No, c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no_such_variant"), std::string::npos) << what;
    if (cuda_compiled())
      EXPECT_NE(what.find("double_buffered"), std::string::npos) << what;  // lists the names
    else
      EXPECT_NE(what.find("without CUDA"), std::string::npos) << what;
  }
}

TEST(GemmVariants, RefuseCpuTensorsAndBadShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 4}), c = Tensor::zeros({2, 4});
  // A variant runs on CUDA tensors only (and a CPU-only build has none at all).
  for (const std::string& name : {std::string("naive"), std::string("double_buffered")})
    EXPECT_THROW(kernels::gemm_cuda_variant(name, a, Transpose::No, b, Transpose::No, c), Error);
  Tensor b_bad = Tensor::zeros({4, 4});  // inner dimensions differ
  EXPECT_THROW(kernels::gemm_cuda_variant("naive", a, Transpose::No, b_bad, Transpose::No, c), Error);
  if (!cuda_compiled()) {
    try {
      kernels::gemm_cuda_variant("naive", a, Transpose::No, b, Transpose::No, c);
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("built without CUDA"), std::string::npos) << e.what();
    }
  }
}

// ---- CUDA variants against the naive reference ------------------------------------------------

struct GemmCase {
  int64_t m, n, k;
  Transpose ta, tb;
  double alpha, beta;
};

std::string case_str(const GemmCase& g) {
  std::ostringstream s;
  s << "M=" << g.m << " N=" << g.n << " K=" << g.k << " ta=" << (g.ta == Transpose::Yes ? "T" : "N")
    << " tb=" << (g.tb == Transpose::Yes ? "T" : "N") << " alpha=" << g.alpha << " beta=" << g.beta;
  return s.str();
}

Shape a_shape(const GemmCase& g) { return g.ta == Transpose::No ? Shape{g.m, g.k} : Shape{g.k, g.m}; }
Shape b_shape(const GemmCase& g) { return g.tb == Transpose::No ? Shape{g.k, g.n} : Shape{g.n, g.k}; }

// Whole-number operands in [-4, 4] and a C that is NaN when beta == 0 (it
// must not be read) and whole numbers otherwise.
struct IntegerProblem {
  Tensor a, b, c0, ref;
};

IntegerProblem integer_problem(const GemmCase& g, uint64_t seed) {
  IntegerProblem p;
  p.a = testing::random_integers(a_shape(g), seed, -4, 4);
  p.b = testing::random_integers(b_shape(g), seed + 1, -4, 4);
  p.c0 = g.beta == 0 ? Tensor::full({g.m, g.n}, std::numeric_limits<double>::quiet_NaN())
                     : testing::random_integers({g.m, g.n}, seed + 2, -4, 4);
  p.ref = p.c0.clone();
  kernels::gemm_naive_cpu(p.a, g.ta, p.b, g.tb, p.ref, g.alpha, g.beta);
  return p;
}

Tensor run_variant(const std::string& variant, const GemmCase& g, const Tensor& a, const Tensor& b,
                   const Tensor& c0) {
  const Device gpu = Device::cuda();
  Tensor ga = a.to(gpu), gb = b.to(gpu), gc = c0.to(gpu);
  kernels::gemm_cuda_variant(variant, ga, g.ta, gb, g.tb, gc, g.alpha, g.beta);
  return gc.to(Device::cpu());
}

// Products of whole numbers in [-4, 4] summed over K <= a few thousand are
// exact in fp32 (and in TF32, whose 10-bit mantissa holds these inputs
// exactly), so every variant must reproduce the reference bit for bit; the
// only freedom is the sign of an exact zero, which TF32's tensor cores are
// not held to (compared by value there).
void expect_exact(const std::string& variant, const Tensor& out, const Tensor& ref) {
  if (variant == "tf32_wmma")
    EXPECT_TRUE(testing::all_close(out, ref, 0.0, 0.0, /*allow_zero_reference=*/true));
  else
    EXPECT_BITWISE_EQ(out, ref);
}

TEST(GemmCuda, EveryVariantIsExactOnWholeNumbersOverTheShapeGrid) {
  CS_REQUIRE_CUDA();
  // The simulator's grid still has sizes of 1, off-tile (7, 33), whole tiles
  // (64) and one past the production tile (129), in every layout.
  const std::vector<int64_t> sizes = testing::full_gpu_shapes()
                                         ? std::vector<int64_t>{1, 7, 13, 31, 33, 64, 127, 129, 257}
                                         : std::vector<int64_t>{1, 7, 33, 64, 129};
  const std::vector<std::pair<double, double>> alpha_beta = {
      {1.0, 0.0}, {2.0, -1.0}, {-1.0, 0.0}, {0.5, 1.0}, {-2.0, 0.25}, {1.0, 1.0}};
  const std::vector<std::string> variants = kernels::gemm_cuda_variants();
  ASSERT_FALSE(variants.empty());
  const uint64_t seed = testing::seed_for("grid");
  int index = 0;
  for (int64_t m : sizes)
    for (int64_t n : sizes)
      for (int64_t k : sizes)
        for (Transpose ta : {Transpose::No, Transpose::Yes})
          for (Transpose tb : {Transpose::No, Transpose::Yes}) {
            const auto [alpha, beta] = alpha_beta[index % alpha_beta.size()];
            const GemmCase g{m, n, k, ta, tb, alpha, beta};
            const IntegerProblem p = integer_problem(g, seed + 3 * index++);
            for (const std::string& v : variants) {
              SCOPED_TRACE(v + " " + case_str(g));
              expect_exact(v, run_variant(v, g, p.a, p.b, p.c0), p.ref);
              if (::testing::Test::HasFailure()) return;  // one failing case is enough to report
            }
          }
}

TEST(GemmCuda, KZeroScalesC) {
  CS_REQUIRE_CUDA();
  const uint64_t seed = testing::seed_for("k0");
  int index = 0;
  for (auto [m, n] : {std::pair<int64_t, int64_t>{1, 1}, {7, 13}, {129, 33}, {256, 260}})
    for (double beta : {0.0, 0.5, -2.0})
      for (Transpose ta : {Transpose::No, Transpose::Yes}) {
        const GemmCase g{m, n, 0, ta, Transpose::No, 1.5, beta};
        const IntegerProblem p = integer_problem(g, seed + 3 * index++);
        for (const std::string& v : kernels::gemm_cuda_variants()) {
          SCOPED_TRACE(v + " " + case_str(g));
          expect_exact(v, run_variant(v, g, p.a, p.b, p.c0), p.ref);
        }
      }
}

TEST(GemmCuda, BetaZeroIgnoresNanInC) {
  CS_REQUIRE_CUDA();
  const GemmCase g{130, 131, 40, Transpose::No, Transpose::No, 1.0, 0.0};
  const IntegerProblem p = integer_problem(g, testing::seed_for("nan"));
  for (const std::string& v : kernels::gemm_cuda_variants()) {
    SCOPED_TRACE(v);
    const Tensor out = run_variant(v, g, p.a, p.b, p.c0);  // c0 is all NaN
    expect_exact(v, out, p.ref);
  }
}

TEST(GemmCuda, MisalignedOperandsUseTheFallbackPaths) {
  CS_REQUIRE_CUDA();
  // Sizes that are multiples of 4 (so only the pointers are misaligned), and
  // odd ones; operands and C all start one float past an aligned address.
  const Device gpu = Device::cuda();
  int index = 0;
  for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{128, 128, 64}, {132, 260, 36},
                         {33, 129, 13}})
    for (Transpose ta : {Transpose::No, Transpose::Yes})
      for (Transpose tb : {Transpose::No, Transpose::Yes}) {
        const GemmCase g{m, n, k, ta, tb, 1.0, index % 2 ? 0.0 : -1.0};
        const IntegerProblem p = integer_problem(g, testing::seed_for("misaligned") + 3 * index++);
        for (const std::string& v : kernels::gemm_cuda_variants()) {
          SCOPED_TRACE(v + " " + case_str(g));
          Tensor ga = misaligned_copy(p.a, gpu), gb = misaligned_copy(p.b, gpu);
          Tensor gc = misaligned_copy(p.c0, gpu);
          kernels::gemm_cuda_variant(v, ga, g.ta, gb, g.tb, gc, g.alpha, g.beta);
          expect_exact(v, gc.to(Device::cpu()), p.ref);
        }
      }
}

// Random floats in [-1, 1): the double-precision product (OpenBLAS dgemm) is
// the reference. fp32 accumulation over K terms: error ~ K * 2^-24 * |partial
// sums|, so atol = 2e-7 * K (about 5x the largest error expected over a
// million outputs). TF32 rounds each input to 11 significant bits: rtol 1e-3
// and atol 1e-3 * sqrt(K) (the random walk of K rounding errors of ~1/3 * 2^-11).
struct FloatProblem {
  Tensor a, b, c0, ref;
};

FloatProblem float_problem(const GemmCase& g, uint64_t seed) {
  FloatProblem p;
  p.a = testing::random_tensor(a_shape(g), seed);
  p.b = testing::random_tensor(b_shape(g), seed + 1);
  p.c0 = testing::random_tensor({g.m, g.n}, seed + 2);
  Tensor ref64 = p.c0.to(DType::F64);
  kernels::gemm(p.a.to(DType::F64), g.ta, p.b.to(DType::F64), g.tb, ref64, g.alpha, g.beta);
  p.ref = ref64.to(DType::F32);
  return p;
}

void expect_accurate(const std::string& variant, const GemmCase& g, const Tensor& out,
                     const Tensor& ref) {
  if (variant == "tf32_wmma")
    EXPECT_CLOSE(out, ref, 1e-3 * std::sqrt(static_cast<double>(g.k)), 1e-3);
  else
    EXPECT_CLOSE(out, ref, 2e-7 * static_cast<double>(g.k), 1e-5);
}

// On 132 SMs (an H100, and the simulator) every one of these makes the
// production variant split K (2, 2, 2, 16 and 8 ways: at most 132 output
// tiles of 128 x 128 and K >= 1024), over float4-aligned operands (the first,
// second and fourth) or unaligned rows (the third and fifth, whose odd M * N
// also takes the scalar split-K reduction). In the simulator the first four
// shrink in M and N only: the same K, transposes, alpha and beta, partial
// edge tiles, row alignment and parity of M * N, so the same split counts.
const std::vector<GemmCase>& large_cases() {
  static const std::vector<GemmCase> full = {
      {1024, 1024, 1024, Transpose::No, Transpose::No, 1.0, 0.0},
      {1000, 1100, 1200, Transpose::Yes, Transpose::Yes, 0.75, -0.5},
      {1023, 1025, 1027, Transpose::No, Transpose::Yes, 1.0, 1.0},
      // Few output tiles, long K: the production variant splits K.
      {128, 1024, 9216, Transpose::No, Transpose::Yes, 1.0, 0.0},
      {61, 259, 4099, Transpose::Yes, Transpose::No, -1.0, 0.5},
  };
  static const std::vector<GemmCase> reduced = {
      {256, 256, 1024, Transpose::No, Transpose::No, 1.0, 0.0},
      {200, 300, 1200, Transpose::Yes, Transpose::Yes, 0.75, -0.5},
      {255, 257, 1027, Transpose::No, Transpose::Yes, 1.0, 1.0},
      // Few output tiles, long K: the production variant splits K (16 ways).
      {128, 128, 9216, Transpose::No, Transpose::Yes, 1.0, 0.0},
      {61, 259, 4099, Transpose::Yes, Transpose::No, -1.0, 0.5},
  };
  return testing::full_gpu_shapes() ? full : reduced;
}

TEST(GemmCuda, EveryVariantIsAccurateOnLargeRandomProducts) {
  CS_REQUIRE_CUDA();
  int index = 0;
  for (const GemmCase& g : large_cases()) {
    const FloatProblem p = float_problem(g, testing::seed_for("large") + 3 * index++);
    for (const std::string& v : kernels::gemm_cuda_variants()) {
      SCOPED_TRACE(v + " " + case_str(g));
      expect_accurate(v, g, run_variant(v, g, p.a, p.b, p.c0), p.ref);
    }
  }
}

TEST(GemmCuda, EveryVariantIsDeterministic) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  int index = 0;
  for (const GemmCase& g : {large_cases()[2], large_cases()[3]}) {
    const FloatProblem p = float_problem(g, testing::seed_for("determinism") + 3 * index++);
    Tensor ga = p.a.to(gpu), gb = p.b.to(gpu);
    for (const std::string& v : kernels::gemm_cuda_variants()) {
      SCOPED_TRACE(v + " " + case_str(g));
      Tensor c1 = p.c0.to(gpu), c2 = p.c0.to(gpu);
      kernels::gemm_cuda_variant(v, ga, g.ta, gb, g.tb, c1, g.alpha, g.beta);
      kernels::gemm_cuda_variant(v, ga, g.ta, gb, g.tb, c2, g.alpha, g.beta);
      EXPECT_BITWISE_EQ(c1, c2);
    }
  }
}

TEST(GemmCuda, GemmOnCudaTensorsRunsTheProductionVariant) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  const std::string production = kernels::gemm_cuda_variants().back();
  int index = 0;
  for (const GemmCase& g : {GemmCase{257, 129, 33, Transpose::Yes, Transpose::No, 2.0, -1.0},
                            large_cases()[3]}) {
    const FloatProblem p = float_problem(g, testing::seed_for("production") + 3 * index++);
    Tensor ga = p.a.to(gpu), gb = p.b.to(gpu);
    Tensor c1 = p.c0.to(gpu), c2 = p.c0.to(gpu);
    kernels::gemm(ga, g.ta, gb, g.tb, c1, g.alpha, g.beta);
    kernels::gemm_cuda_variant(production, ga, g.ta, gb, g.tb, c2, g.alpha, g.beta);
    EXPECT_BITWISE_EQ(c1, c2);
    EXPECT_CLOSE(c1, p.ref, 2e-7 * static_cast<double>(g.k), 1e-5);
  }
}

TEST(GemmCuda, RejectsMixedDevicesAndF64) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  Tensor a = Tensor::zeros({2, 3}, gpu), b = Tensor::zeros({3, 4}), c = Tensor::zeros({2, 4}, gpu);
  EXPECT_THROW(kernels::gemm(a, Transpose::No, b, Transpose::No, c), Error);
  EXPECT_THROW(kernels::gemm_cuda_variant("naive", a, Transpose::No, b, Transpose::No, c), Error);
  Tensor a64 = Tensor::zeros({2, 3}, gpu, DType::F64), b64 = Tensor::zeros({3, 4}, gpu, DType::F64);
  Tensor c64 = Tensor::zeros({2, 4}, gpu, DType::F64);
  EXPECT_THROW(kernels::gemm(a64, Transpose::No, b64, Transpose::No, c64), Error);
}

TEST(GemmCuda, EmptyOutputsLaunchNothing) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  Tensor a = Tensor::zeros({0, 5}, gpu), b = Tensor::zeros({5, 3}, gpu), c = Tensor::zeros({0, 3}, gpu);
  for (const std::string& v : kernels::gemm_cuda_variants())
    EXPECT_NO_THROW(kernels::gemm_cuda_variant(v, a, Transpose::No, b, Transpose::No, c));
  EXPECT_NO_THROW(kernels::gemm(a, Transpose::No, b, Transpose::No, c));
}

}  // namespace
}  // namespace cs
