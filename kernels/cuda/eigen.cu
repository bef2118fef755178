// Symmetric eigen-decomposition on the GPU through cuSOLVER (ssyevd).
#include <cusolverDn.h>

#include "kernels/eigen.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

#define CS_CUSOLVER_CHECK(expr)                                                        \
  do {                                                                                 \
    const cusolverStatus_t cs_status_ = (expr);                                        \
    CS_CHECK(cs_status_ == CUSOLVER_STATUS_SUCCESS, "cuSOLVER call failed with status " \
                                                        << static_cast<int>(cs_status_) << ": " #expr); \
  } while (0)

cusolverDnHandle_t handle_for(int device) {
  static thread_local cusolverDnHandle_t handles[16] = {};
  if (!handles[device]) CS_CUSOLVER_CHECK(cusolverDnCreate(&handles[device]));
  return handles[device];
}

void cuda_symmetric(const Tensor& a, Tensor& values, Tensor& vectors) {
  const int device = a.device().index;
  cuda::set_device(device);
  cudaStream_t stream = cuda::current_stream(device);
  cusolverDnHandle_t handle = handle_for(device);
  CS_CUSOLVER_CHECK(cusolverDnSetStream(handle, stream));
  const int d = static_cast<int>(a.dim(0));
  // cuSOLVER is column-major: the symmetric input reads the same either way,
  // and eigenvector j, column j of the output, is row j of our row-major buffer.
  Tensor work_matrix = a.clone();
  int lwork = 0;
  CS_CUSOLVER_CHECK(cusolverDnSsyevd_bufferSize(handle, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_UPPER,
                                                d, work_matrix.data<float>(), d, values.data<float>(), &lwork));
  Tensor workspace = Tensor::empty({std::max(lwork, 1)}, a.device());
  Tensor info = Tensor::empty({1}, a.device(), DType::I32);
  CS_CUSOLVER_CHECK(cusolverDnSsyevd(handle, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_UPPER, d,
                                     work_matrix.data<float>(), d, values.data<float>(),
                                     workspace.data<float>(), lwork, info.data<int32_t>()));
  const int status = info.to_vector<int32_t>()[0];
  CS_CHECK(status == 0, "symmetric_eigen: cuSOLVER syevd failed (info " << status << ")");
  vectors.copy_from(work_matrix);
}

}  // namespace

CS_REGISTER_OP(eigen_registry, DeviceType::CUDA, (EigenImpl{&cuda_symmetric}))

}  // namespace cs::kernels
