// Optimizer steps against numbers worked out from PyTorch's documented
// formulas (torch.optim.SGD, Adam, AdamW), three steps each, and the GPU
// against the CPU.
//
// Every case starts from param = (1, -2) with the gradients
//   step 1: (0.5, -1),  step 2: (0.25, 0.5),  step 3: (-1, 2).
#include <string>

#include "kernels/optimizer.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using testing::random_tensor;
using testing::seed_for;

const Device kCpu = Device::cpu();
const double kGrads[3][2] = {{0.5, -1.0}, {0.25, 0.5}, {-1.0, 2.0}};

struct Expected {
  double param[2];
  double buffer[2];  // momentum buffer (SGD) or first moment (Adam)
  double second[2];  // second moment (Adam)
};

void expect_near2(const Tensor& t, const double (&want)[2], const char* what, int step) {
  const std::vector<double> v = t.to_double_vector();
  EXPECT_NEAR(v[0], want[0], 1e-12) << what << " after step " << step;
  EXPECT_NEAR(v[1], want[1], 1e-12) << what << " after step " << step;
}

void run_sgd(kernels::SgdArgs args, const Expected (&expected)[3]) {
  Tensor param = Tensor::from_vector(std::vector<double>{1.0, -2.0}, {2});
  Tensor buf = Tensor::full({2}, 123.0, kCpu, DType::F64);  // ignored on the first step
  for (int step = 0; step < 3; ++step) {
    Tensor grad = Tensor::from_vector(std::vector<double>{kGrads[step][0], kGrads[step][1]}, {2});
    args.first_step = step == 0;
    kernels::sgd_step(param, grad, buf, args);
    expect_near2(param, expected[step].param, "param", step + 1);
    if (args.momentum > 0) expect_near2(buf, expected[step].buffer, "momentum buffer", step + 1);
  }
}

TEST(Sgd, Plain) {
  // p -= 0.1 g: (0.95, -1.9), (0.925, -1.95), (1.025, -2.15)
  kernels::SgdArgs a;
  a.lr = 0.1;
  const Expected e[3] = {{{0.95, -1.9}, {}, {}}, {{0.925, -1.95}, {}, {}}, {{1.025, -2.15}, {}, {}}};
  run_sgd(a, e);
}

TEST(Sgd, Momentum) {
  // buf1 = g1 = (0.5, -1); buf2 = 0.9 buf1 + g2 = (0.7, -0.4); buf3 = 0.9 buf2 + g3 = (-0.37, 1.64)
  // p1 = (1, -2) - 0.1 buf1 = (0.95, -1.9); p2 = (0.88, -1.86); p3 = (0.917, -2.024)
  kernels::SgdArgs a;
  a.lr = 0.1;
  a.momentum = 0.9;
  const Expected e[3] = {{{0.95, -1.9}, {0.5, -1.0}, {}},
                         {{0.88, -1.86}, {0.7, -0.4}, {}},
                         {{0.917, -2.024}, {-0.37, 1.64}, {}}};
  run_sgd(a, e);
}

TEST(Sgd, Dampening) {
  // The first step sets buf = g without dampening (as PyTorch does);
  // afterwards buf = 0.9 buf + 0.5 g:
  // buf2 = (0.45 + 0.125, -0.9 + 0.25) = (0.575, -0.65); p2 = (0.8925, -1.835)
  // buf3 = (0.5175 - 0.5, -0.585 + 1) = (0.0175, 0.415); p3 = (0.89075, -1.8765)
  kernels::SgdArgs a;
  a.lr = 0.1;
  a.momentum = 0.9;
  a.dampening = 0.5;
  const Expected e[3] = {{{0.95, -1.9}, {0.5, -1.0}, {}},
                         {{0.8925, -1.835}, {0.575, -0.65}, {}},
                         {{0.89075, -1.8765}, {0.0175, 0.415}, {}}};
  run_sgd(a, e);
}

TEST(Sgd, Nesterov) {
  // Same buffers as plain momentum; the step is g + 0.9 buf:
  // p1 = (1, -2) - 0.1 (0.5 + 0.45, -1 - 0.9) = (0.905, -1.81)
  // p2 = p1 - 0.1 (0.25 + 0.63, 0.5 - 0.36) = (0.817, -1.824)
  // p3 = p2 - 0.1 (-1 - 0.333, 2 + 1.476) = (0.9503, -2.1716)
  kernels::SgdArgs a;
  a.lr = 0.1;
  a.momentum = 0.9;
  a.nesterov = true;
  const Expected e[3] = {{{0.905, -1.81}, {0.5, -1.0}, {}},
                         {{0.817, -1.824}, {0.7, -0.4}, {}},
                         {{0.9503, -2.1716}, {-0.37, 1.64}, {}}};
  run_sgd(a, e);
}

TEST(Sgd, WeightDecayWithMomentum) {
  // d = g + 0.01 p:  d1 = (0.51, -1.02) = buf1, p1 = (0.949, -1.898)
  // d2 = (0.25949, 0.48102), buf2 = 0.9 buf1 + d2 = (0.71849, -0.43698), p2 = (0.877151, -1.854302)
  // d3 = (-0.99122849, 1.98145698), buf3 = (-0.34458749, 1.58817498), p3 = (0.911609749, -2.013119498)
  kernels::SgdArgs a;
  a.lr = 0.1;
  a.momentum = 0.9;
  a.weight_decay = 0.01;
  const Expected e[3] = {{{0.949, -1.898}, {0.51, -1.02}, {}},
                         {{0.877151, -1.854302}, {0.71849, -0.43698}, {}},
                         {{0.911609749, -2.013119498}, {-0.34458749, 1.58817498}, {}}};
  run_sgd(a, e);
}

void run_adam(kernels::AdamArgs args, const Expected (&expected)[3]) {
  Tensor param = Tensor::from_vector(std::vector<double>{1.0, -2.0}, {2});
  Tensor m = Tensor::zeros({2}, kCpu, DType::F64), v = Tensor::zeros({2}, kCpu, DType::F64);
  for (int step = 0; step < 3; ++step) {
    Tensor grad = Tensor::from_vector(std::vector<double>{kGrads[step][0], kGrads[step][1]}, {2});
    args.step = step + 1;
    kernels::adam_step(param, grad, m, v, args);
    expect_near2(param, expected[step].param, "param", step + 1);
    expect_near2(m, expected[step].buffer, "first moment", step + 1);
    expect_near2(v, expected[step].second, "second moment", step + 1);
  }
}

TEST(Adam, L2WeightDecay) {
  // lr 0.1, betas (0.9, 0.999), eps 1e-8, weight_decay 0.1 added to the gradient:
  // step 1: d = (0.6, -1.2), m = (0.06, -0.12), v = (3.6e-4, 1.44e-3);
  //         m^ = d, sqrt(v^) = |d|: p -= 0.1 * d / (|d| + 1e-8)
  //         -> (1 - 0.1 * 0.6 / 0.60000001, -2 + 0.1 * 1.2 / 1.20000001)
  // steps 2, 3: the same formulas with bias corrections 1 - 0.9^t, 1 - 0.999^t.
  kernels::AdamArgs a;
  a.lr = 0.1;
  a.weight_decay = 0.1;
  const Expected e[3] = {
      {{0.9000000016666666, -1.9000000008333333},
       {0.059999999999999984, -0.11999999999999997},
       {0.0003600000000000003, 0.0014400000000000012}},
      {{0.8050097658613199, -1.8537472646427609},
       {0.08800000001666664, -0.07700000000833332},
       {0.00047524000011333375, 0.0015346599999483347}},
      {{0.8120982607786772, -1.88636311586399},
       {-0.0127499023263868, 0.11216252734607236},
       {0.0013202432141722782, 0.0048259902233029894}}};
  run_adam(a, e);
}

TEST(AdamW, DecoupledWeightDecay) {
  // param *= 1 - 0.1 * 0.1 first, then Adam on the raw gradient:
  // step 1: p = (0.99, -1.98), m = (0.05, -0.1), v = (2.5e-4, 1e-3),
  //         p -= 0.1 * g / (|g| + 1e-8) -> (0.890000002, -1.880000001)
  kernels::AdamArgs a;
  a.lr = 0.1;
  a.weight_decay = 0.1;
  a.decoupled_weight_decay = true;
  const Expected e[3] = {
      {{0.890000002, -1.880000001},
       {0.04999999999999999, -0.09999999999999998},
       {0.0002500000000000002, 0.0010000000000000009}},
      {{0.7878820404574624, -1.8345662973609032},
       {0.06999999999999998, -0.039999999999999994},
       {0.0003122500000000003, 0.0012490000000000012}},
      {{0.8006389224608368, -1.8619538130424145},
       {-0.03699999999999999, 0.16399999999999995},
       {0.0013119377500000011, 0.0052477510000000045}}};
  run_adam(a, e);
}

TEST(Optimizer, Float32FollowsTheSameFormulas) {
  // The float path of the reference: AdamW after three steps within float
  // rounding (m / sqrt(v) amplifies it: ~1e-6 here).
  Tensor param = Tensor::from_vector(std::vector<float>{1.0f, -2.0f}, {2});
  Tensor m = Tensor::zeros({2}), v = Tensor::zeros({2});
  kernels::AdamArgs a;
  a.lr = 0.1;
  a.weight_decay = 0.1;
  a.decoupled_weight_decay = true;
  for (int step = 0; step < 3; ++step) {
    Tensor grad = Tensor::from_vector(
        std::vector<float>{static_cast<float>(kGrads[step][0]), static_cast<float>(kGrads[step][1])}, {2});
    a.step = step + 1;
    kernels::adam_step(param, grad, m, v, a);
  }
  const std::vector<float> p = param.to_vector<float>();
  EXPECT_NEAR(p[0], 0.8006389224608368, 1e-5);
  EXPECT_NEAR(p[1], -1.8619538130424145, 1e-5);
}

TEST(Optimizer, RejectsBadArguments) {
  Tensor p = Tensor::zeros({3}), g = Tensor::zeros({3}), short_g = Tensor::zeros({2});
  Tensor none;
  kernels::SgdArgs s;
  EXPECT_NO_THROW(kernels::sgd_step(p, g, none, s));  // no momentum: no buffer needed
  EXPECT_THROW(kernels::sgd_step(p, short_g, none, s), Error);
  s.momentum = 0.9;
  EXPECT_THROW(kernels::sgd_step(p, g, none, s), Error);
  s.momentum = 0;
  s.lr = -1;
  EXPECT_THROW(kernels::sgd_step(p, g, none, s), Error);
  Tensor m = Tensor::zeros({3}), v = Tensor::zeros({3});
  kernels::AdamArgs a;
  a.step = 0;
  EXPECT_THROW(kernels::adam_step(p, g, m, v, a), Error);
  a.step = 1;
  Tensor short_v = Tensor::zeros({2});
  EXPECT_THROW(kernels::adam_step(p, g, m, short_v, a), Error);
  Tensor d = Tensor::zeros({3}, kCpu, DType::F64);
  EXPECT_THROW(kernels::adam_step(p, g, m, d, a), Error);
}

// ---- GPU against the CPU ----------------------------------------------------------------------

// Empty, tiny, off the float4 width, large; shift 1 makes views that are not
// 16-byte aligned (the scalar path).
const int64_t kSizes[] = {0, 1, 3, 7, 13, 31, 33, 129, 1000, 4097, 1 << 20};

struct SgdCase {
  const char* name;
  double momentum, dampening, weight_decay;
  bool nesterov;
};
const SgdCase kSgdCases[] = {{"plain", 0, 0, 0, false},        {"momentum", 0.9, 0, 0, false},
                             {"dampening", 0.9, 0.3, 0, false}, {"nesterov", 0.9, 0, 0, true},
                             {"weight decay", 0.9, 0, 1e-2, false}};

TEST(OptimizerCuda, SgdMatchesCpu) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (const SgdCase& c : kSgdCases) {
    for (int64_t n : kSizes) {
      for (int64_t shift : {0, 1}) {
        SCOPED_TRACE(std::string(c.name) + ", n = " + std::to_string(n) + ", shift " + std::to_string(shift));
        const std::string tag = c.name + std::to_string(n);
        Tensor p = random_tensor({n + shift}, seed_for("p" + tag), -1, 1).narrow(shift, n);
        Tensor buf = Tensor::zeros({n + shift}).narrow(shift, n);
        Tensor pg = Tensor::zeros({n + shift}, gpu).narrow(shift, n);
        Tensor bufg = Tensor::zeros({n + shift}, gpu).narrow(shift, n);
        pg.copy_from(p);
        kernels::SgdArgs a;
        a.lr = 0.05;
        a.momentum = c.momentum;
        a.dampening = c.dampening;
        a.weight_decay = c.weight_decay;
        a.nesterov = c.nesterov;
        for (int step = 0; step < 3; ++step) {
          Tensor g = random_tensor({n}, seed_for("g" + tag + std::to_string(step)), -1, 1);
          Tensor gg = Tensor::empty({n + shift}, gpu).narrow(shift, n);
          gg.copy_from(g);
          a.first_step = step == 0;
          kernels::sgd_step(p, g, buf, a);
          kernels::sgd_step(pg, gg, bufg, a);
        }
        if (n == 0) continue;
        EXPECT_CLOSE(pg.to(kCpu), p, 1e-7, 1e-6);
        if (c.momentum > 0) {
          EXPECT_CLOSE(bufg.to(kCpu), buf, 1e-7, 1e-6);
        }
      }
    }
  }
}

TEST(OptimizerCuda, AdamMatchesCpu) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  for (bool decoupled : {false, true}) {
    for (int64_t n : kSizes) {
      for (int64_t shift : {0, 1}) {
        SCOPED_TRACE(std::string(decoupled ? "AdamW" : "Adam") + ", n = " + std::to_string(n) +
                     ", shift " + std::to_string(shift));
        const std::string tag = std::to_string(decoupled) + "_" + std::to_string(n);
        Tensor p = random_tensor({n + shift}, seed_for("p" + tag), -1, 1).narrow(shift, n);
        Tensor m = Tensor::zeros({n + shift}).narrow(shift, n), v = Tensor::zeros({n + shift}).narrow(shift, n);
        Tensor pg = Tensor::zeros({n + shift}, gpu).narrow(shift, n);
        Tensor mg = Tensor::zeros({n + shift}, gpu).narrow(shift, n);
        Tensor vg = Tensor::zeros({n + shift}, gpu).narrow(shift, n);
        pg.copy_from(p);
        kernels::AdamArgs a;
        a.lr = 1e-2;
        a.weight_decay = 0.05;
        a.decoupled_weight_decay = decoupled;
        for (int step = 0; step < 3; ++step) {
          Tensor g = random_tensor({n}, seed_for("g" + tag + std::to_string(step)), -1, 1);
          Tensor gg = Tensor::empty({n + shift}, gpu).narrow(shift, n);
          gg.copy_from(g);
          a.step = step + 1;
          kernels::adam_step(p, g, m, v, a);
          kernels::adam_step(pg, gg, mg, vg, a);
        }
        if (n == 0) continue;
        EXPECT_CLOSE(pg.to(kCpu), p, 1e-7, 1e-6);
        EXPECT_CLOSE(mg.to(kCpu), m, 1e-8, 1e-6);
        EXPECT_CLOSE(vg.to(kCpu), v, 1e-10, 1e-6);
      }
    }
  }
}

TEST(OptimizerCuda, Deterministic) {
  CS_REQUIRE_CUDA();
  const Device gpu = Device::cuda();
  const int64_t n = 100003;
  Tensor p0 = random_tensor({n}, seed_for("p"), -1, 1, gpu);
  Tensor g = random_tensor({n}, seed_for("g"), -1, 1, gpu);
  Tensor results[2];
  for (Tensor& r : results) {
    Tensor p = p0.clone(), m = Tensor::zeros({n}, gpu), v = Tensor::zeros({n}, gpu);
    kernels::AdamArgs a;
    for (int step = 1; step <= 2; ++step) {
      a.step = step;
      kernels::adam_step(p, g, m, v, a);
    }
    r = p.to(kCpu);
  }
  EXPECT_BITWISE_EQ(results[0], results[1]);
}

}  // namespace
}  // namespace cs
