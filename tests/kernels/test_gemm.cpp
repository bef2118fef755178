#include <cmath>

#include "kernels/gemm.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using kernels::Transpose;

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

}  // namespace
}  // namespace cs
