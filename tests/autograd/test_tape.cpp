// The tape itself: accumulation, seeds, freeing, grad mode, errors.
#include "autograd/ops.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using ag::Variable;

Tensor vec(std::vector<double> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::from_vector(v, {n});
}

TEST(Tape, AccumulatesWhenAVariableIsUsedTwice) {
  // y = sum(x * x + x)  =>  dy/dx = 2x + 1
  Variable x(vec({1.5, -2.0, 0.25}), true, "x");
  Variable y = ag::sum(ag::add(ag::mul(x, x), x));
  EXPECT_EQ(ag::tape_size(), 3u);
  ag::backward(y);
  EXPECT_EQ(ag::tape_size(), 0u) << "the tape is freed after backward";
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4.0, -3.0, 1.5}));
  // A second pass accumulates into the leaf's gradient.
  Variable z = ag::sum(ag::scale(x, 3.0));
  ag::backward(z);
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{7.0, 0.0, 4.5}));
  x.zero_grad();
  EXPECT_FALSE(x.has_grad());
}

TEST(Tape, BackwardFromAnyVariableWithAnySeed) {
  Variable x(vec({1.0, 2.0, 3.0}), true);
  Variable h = ag::scale(x, 2.0);   // h = 2x
  Variable y = ag::mul(h, h);       // y = 4x^2
  ag::backward(h, vec({1.0, 0.0, -1.0}));  // from the middle, a chosen seed
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2.0, 0.0, -2.0}));
  EXPECT_FALSE(h.has_grad()) << "intermediate gradients are dropped";
  (void)y;
}

TEST(Tape, RetainGradKeepsAnIntermediateGradient) {
  Variable x(vec({1.0, -1.0}), true);
  Variable h = ag::scale(x, 3.0);
  h.retain_grad();
  ag::backward(ag::sum_squares(h));  // d/dh = 2h
  EXPECT_EQ(h.grad().to_vector<double>(), (std::vector<double>{6.0, -6.0}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{18.0, -18.0}));
}

TEST(Tape, RetainTapeAllowsASecondBackward) {
  Variable x(vec({2.0}), true);
  Variable y = ag::mul(x, x);
  ag::backward(y, Tensor(), {.retain_tape = true});
  EXPECT_EQ(ag::tape_size(), 1u);
  ag::backward(y);
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{8.0}));
}

TEST(Tape, NoGradRecordsNothing) {
  Variable x(vec({1.0}), true);
  {
    ag::NoGradGuard guard;
    Variable y = ag::mul(x, x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(ag::tape_size(), 0u);
  }
  Variable y = ag::mul(x, x);
  EXPECT_TRUE(y.requires_grad());
  ag::clear_tape();
}

TEST(Tape, InputsWithoutGradRecordNothing) {
  Variable a(vec({1.0})), b(vec({2.0}));
  Variable c = ag::add(a, b);
  EXPECT_FALSE(c.requires_grad());
  EXPECT_EQ(ag::tape_size(), 0u);
  EXPECT_THROW(ag::backward(c), Error);
}

TEST(Tape, SeedMustMatchTheVariable) {
  Variable x(vec({1.0, 2.0}), true);
  Variable y = ag::scale(x, 2.0);
  EXPECT_THROW(ag::backward(y), Error) << "a two-element root needs a seed";
  EXPECT_THROW(ag::backward(y, vec({1.0})), Error);
  EXPECT_THROW(ag::backward(y, Tensor::full({2}, 1.0)), Error) << "f32 seed for an f64 variable";
  ag::clear_tape();
}

TEST(Tape, OnlyLeavesChangeRequiresGrad) {
  Variable x(vec({1.0}), true);
  Variable y = ag::scale(x, 2.0);
  EXPECT_THROW(y.set_requires_grad(false), Error);
  x.set_requires_grad(false);
  EXPECT_FALSE(x.requires_grad());
  ag::clear_tape();
}

}  // namespace
}  // namespace cs
