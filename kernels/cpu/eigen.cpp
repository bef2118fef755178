// Symmetric eigen-decomposition on the CPU through LAPACKE.
#include "kernels/eigen.h"

#include <lapacke.h>

#include <vector>

namespace cs::kernels {

OpRegistry<EigenImpl>& eigen_registry() {
  static OpRegistry<EigenImpl> registry("symmetric_eigen");
  return registry;
}

void symmetric_eigen(const Tensor& a, Tensor& values, Tensor& vectors) {
  check_compatible({&a, &values, &vectors}, "symmetric_eigen");
  CS_CHECK(a.ndim() == 2 && a.dim(0) == a.dim(1) && a.dim(0) > 0,
           "symmetric_eigen: expected a square (D, D) matrix, got " << shape_str(a.shape()));
  check_shape(values, {a.dim(0)}, "symmetric_eigen: values");
  check_shape(vectors, a.shape(), "symmetric_eigen: vectors");
  eigen_registry().get(a.device()).symmetric(a, values, vectors);
}

namespace {

// LAPACK works in double here whatever the tensor's type: PCA's covariance
// is small (D x D) and its smallest eigenvalues are where float loses.
void cpu_symmetric(const Tensor& a, Tensor& values, Tensor& vectors) {
  const lapack_int d = static_cast<lapack_int>(a.dim(0));
  std::vector<double> m = a.to_double_vector(), w(static_cast<size_t>(d));
  // Row-major, lower triangle: LAPACKE transposes for us.
  const lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', d, m.data(), d, w.data());
  CS_CHECK(info == 0, "symmetric_eigen: LAPACK dsyevd failed (info " << info
                                                                     << "): the matrix may hold NaN or infinity");
  // m's columns are the eigenvectors: return them as rows.
  std::vector<double> rows(static_cast<size_t>(d) * d);
  for (lapack_int i = 0; i < d; ++i)
    for (lapack_int j = 0; j < d; ++j) rows[static_cast<size_t>(i) * d + j] = m[static_cast<size_t>(j) * d + i];
  values.copy_from(Tensor::from_vector(w, {d}).to(values.dtype()));
  vectors.copy_from(Tensor::from_vector(rows, {d, d}).to(vectors.dtype()));
}

}  // namespace

CS_REGISTER_OP(eigen_registry, DeviceType::CPU, (EigenImpl{&cpu_symmetric}))

}  // namespace cs::kernels
