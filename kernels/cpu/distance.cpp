// Pairwise distances: the dispatcher (GEMM + norms for L2 and cosine) and
// the CPU reference.
#include "kernels/distance.h"

#include <algorithm>
#include <cmath>

#include "kernels/gemm.h"

namespace cs::kernels {

OpRegistry<DistanceImpl>& distance_registry() {
  static OpRegistry<DistanceImpl> registry("distance");
  return registry;
}

Metric parse_metric(const std::string& name) {
  if (name == "l2") return Metric::L2;
  if (name == "l1") return Metric::L1;
  if (name == "cosine") return Metric::Cosine;
  CS_FAIL("unknown metric '" << name << "' (expected l2, l1 or cosine)");
}

const char* metric_name(Metric metric) {
  switch (metric) {
    case Metric::L2: return "l2";
    case Metric::L1: return "l1";
    case Metric::Cosine: return "cosine";
  }
  return "?";
}

void pairwise_distances(const Tensor& queries, const Tensor& points, Metric metric, Tensor& out) {
  check_compatible({&queries, &points, &out}, "pairwise_distances");
  CS_CHECK(queries.ndim() == 2 && points.ndim() == 2 && queries.dim(1) == points.dim(1),
           "pairwise_distances: queries " << shape_str(queries.shape()) << " and points "
                                          << shape_str(points.shape())
                                          << " must be (M, D) and (N, D)");
  check_shape(out, {queries.dim(0), points.dim(0)}, "pairwise_distances: output");
  if (out.numel() == 0) return;
  const DistanceImpl& impl = distance_registry().get(queries.device());
  if (metric == Metric::L1) {
    impl.l1(queries, points, out);
    return;
  }
  Tensor qn = Tensor::empty({queries.dim(0)}, queries.device(), queries.dtype());
  Tensor pn = Tensor::empty({points.dim(0)}, points.device(), points.dtype());
  impl.row_squared_norms(queries, qn);
  impl.row_squared_norms(points, pn);
  gemm(queries, Transpose::No, points, Transpose::Yes, out);  // out = q . p
  impl.finish(qn, pn, out, metric);
}

namespace {

void cpu_row_squared_norms(const Tensor& x, Tensor& out) {
  dispatch_floating(x.dtype(), "distance", [&](auto zero) {
    using T = decltype(zero);
    const int64_t r = x.dim(0), d = x.dim(1);
    for (int64_t i = 0; i < r; ++i) {
      double total = 0;
      for (int64_t j = 0; j < d; ++j) total += static_cast<double>(x.data<T>()[i * d + j]) * x.data<T>()[i * d + j];
      out.data<T>()[i] = static_cast<T>(total);
    }
  });
}

void cpu_finish(const Tensor& qn, const Tensor& pn, Tensor& dot, Metric metric) {
  dispatch_floating(dot.dtype(), "distance", [&](auto zero) {
    using T = decltype(zero);
    const int64_t m = dot.dim(0), n = dot.dim(1);
    T* out = dot.data<T>();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const double q = qn.data<T>()[i], p = pn.data<T>()[j], d = out[i * n + j];
        if (metric == Metric::L2) {
          out[i * n + j] = static_cast<T>(std::sqrt(std::max(q + p - 2 * d, 0.0)));
        } else {
          const double norms = std::sqrt(q * p);
          out[i * n + j] = static_cast<T>(norms > 0 ? std::clamp(1 - d / norms, 0.0, 2.0) : 1.0);
        }
      }
  });
}

void cpu_l1(const Tensor& queries, const Tensor& points, Tensor& out) {
  dispatch_floating(out.dtype(), "distance", [&](auto zero) {
    using T = decltype(zero);
    const int64_t m = queries.dim(0), n = points.dim(0), d = queries.dim(1);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double total = 0;
        for (int64_t k = 0; k < d; ++k)
          total += std::abs(static_cast<double>(queries.data<T>()[i * d + k]) - points.data<T>()[j * d + k]);
        out.data<T>()[i * n + j] = static_cast<T>(total);
      }
  });
}

}  // namespace

CS_REGISTER_OP(distance_registry, DeviceType::CPU,
               (DistanceImpl{&cpu_row_squared_norms, &cpu_finish, &cpu_l1}))

}  // namespace cs::kernels
