// The CUDA libraries convscope calls, on the simulated device: cuFFT by FFTW,
// cuSOLVER's syevd by LAPACKE, CUB's radix sort by std::stable_sort. Each
// checks its device pointers and runs in stream order like a kernel.
#include <cufft.h>
#include <cusolverDn.h>
#include <fftw3.h>
#include <lapacke.h>

#include <algorithm>
#include <cstring>
#include <cub/device/device_radix_sort.cuh>
#include <map>
#include <mutex>
#include <numeric>
#include <sstream>
#include <vector>

#include "runtime/cuda/sim/device_api.h"
#include "runtime/cuda/sim/sim_internal.h"

namespace cs::sim {
namespace {

// ---- cuFFT ----------------------------------------------------------------------------------

struct FftPlan {
  bool made = false;
  bool auto_allocate = true;
  std::vector<int> n;
  cufftType type = CUFFT_R2C;
  int batch = 1;
  size_t work_bytes = 0;
  void* work_area = nullptr;
  cudaStream_t stream = nullptr;
};

std::mutex& fft_mutex() {  // FFTW's planner is not thread-safe
  static std::mutex m;
  return m;
}
std::map<cufftHandle, FftPlan>& plans() {
  static std::map<cufftHandle, FftPlan> p;
  return p;
}

size_t real_count(const FftPlan& p) {
  return std::accumulate(p.n.begin(), p.n.end(), size_t{1}, [](size_t a, int b) { return a * b; });
}
size_t complex_count(const FftPlan& p) { return real_count(p) / p.n.back() * (p.n.back() / 2 + 1); }

bool is_double(cufftType t) { return t == CUFFT_D2Z || t == CUFFT_Z2D; }
bool is_forward(cufftType t) { return t == CUFFT_R2C || t == CUFFT_D2Z; }

// Runs one transform with FFTW in the plan's precision.
void run_fftw(const FftPlan& plan, void* input, void* output) {
  std::lock_guard<std::mutex> lock(fft_mutex());
  const int rank = static_cast<int>(plan.n.size());
  const int reals = static_cast<int>(real_count(plan)), complexes = static_cast<int>(complex_count(plan));
  constexpr unsigned kFlags = FFTW_ESTIMATE | FFTW_UNALIGNED;
  // cuFFT's complex-to-real transforms may overwrite their input, as FFTW's do.
  if (is_double(plan.type)) {
    fftw_plan p = is_forward(plan.type)
                      ? fftw_plan_many_dft_r2c(rank, plan.n.data(), plan.batch, static_cast<double*>(input), nullptr,
                                               1, reals, static_cast<fftw_complex*>(output), nullptr, 1, complexes,
                                               kFlags)
                      : fftw_plan_many_dft_c2r(rank, plan.n.data(), plan.batch, static_cast<fftw_complex*>(input),
                                               nullptr, 1, complexes, static_cast<double*>(output), nullptr, 1, reals,
                                               kFlags);
    if (!p) throw KernelFault{cudaErrorLaunchFailure, "simulated cuFFT: FFTW could not plan the transform"};
    fftw_execute(p);
    fftw_destroy_plan(p);
  } else {
    fftwf_plan p = is_forward(plan.type)
                       ? fftwf_plan_many_dft_r2c(rank, plan.n.data(), plan.batch, static_cast<float*>(input),
                                                 nullptr, 1, reals, static_cast<fftwf_complex*>(output), nullptr, 1,
                                                 complexes, kFlags)
                       : fftwf_plan_many_dft_c2r(rank, plan.n.data(), plan.batch, static_cast<fftwf_complex*>(input),
                                                 nullptr, 1, complexes, static_cast<float*>(output), nullptr, 1,
                                                 reals, kFlags);
    if (!p) throw KernelFault{cudaErrorLaunchFailure, "simulated cuFFT: FFTW could not plan the transform"};
    fftwf_execute(p);
    fftwf_destroy_plan(p);
  }
}

cufftResult exec(cufftHandle handle, void* input, void* output, cufftType expected) {
  FftPlan plan;
  {
    std::lock_guard<std::mutex> lock(fft_mutex());
    auto it = plans().find(handle);
    if (it == plans().end() || !it->second.made) return CUFFT_INVALID_PLAN;
    plan = it->second;
  }
  if (plan.type != expected) return CUFFT_INVALID_TYPE;
  const size_t real_bytes = is_double(expected) ? 8 : 4;
  const size_t reals = real_count(plan) * plan.batch, complexes = complex_count(plan) * plan.batch;
  const size_t in_bytes = is_forward(expected) ? reals * real_bytes : complexes * 2 * real_bytes;
  const size_t out_bytes = is_forward(expected) ? complexes * 2 * real_bytes : reals * real_bytes;
  if (!is_device_range(input, in_bytes) || !is_device_range(output, out_bytes)) {
    report(cudaErrorIllegalAddress, "simulated cuFFT: input or output is not device memory of the plan's size");
    return CUFFT_INVALID_VALUE;
  }
  if (!plan.auto_allocate && plan.work_bytes > 0 && !is_device_range(plan.work_area, plan.work_bytes)) {
    report(cudaErrorIllegalAddress, "simulated cuFFT: no work area of the plan's size set (cufftSetWorkArea)");
    return CUFFT_INVALID_VALUE;
  }
  void* work = plan.auto_allocate ? nullptr : plan.work_area;
  const size_t work_bytes = plan.work_bytes;
  enqueue_host_work(plan.stream, [plan, input, output, work, work_bytes] {
    if (work) std::memset(work, 0xff, work_bytes);  // the work area is scratch: leave garbage in it
    run_fftw(plan, input, output);
  });
  return CUFFT_SUCCESS;
}

// ---- cuSOLVER -------------------------------------------------------------------------------

struct SolverContext {
  cudaStream_t stream = nullptr;
};

}  // namespace

cudaError_t radix_sort_pairs_u32(void* temp, size_t& temp_bytes, const uint32_t* keys_in, uint32_t* keys_out,
                                 const int32_t* values_in, int32_t* values_out, int count, int begin_bit,
                                 int end_bit, cudaStream_t stream) {
  // CUB's protocol: a first call with no storage asks its size.
  const size_t needed = 256 + static_cast<size_t>(std::max(count, 0)) * 8;
  if (!temp) {
    temp_bytes = needed;
    return cudaSuccess;
  }
  const size_t n = static_cast<size_t>(std::max(count, 0));
  if (temp_bytes < needed || !is_device_range(temp, needed))
    return report(cudaErrorInvalidValue, "simulated CUB: temporary storage smaller than the first call asked");
  if (begin_bit < 0 || end_bit > 32 || begin_bit >= end_bit)
    return report(cudaErrorInvalidValue, "simulated CUB: bad key bit range");
  if (!is_device_range(keys_in, n * 4) || !is_device_range(keys_out, n * 4) || !is_device_range(values_in, n * 4) ||
      !is_device_range(values_out, n * 4))
    return report(cudaErrorInvalidValue, "simulated CUB: keys or values are not device memory of the given count");
  enqueue_host_work(stream, [=] {
    const uint32_t mask = end_bit == 32 ? ~0u << begin_bit : ((1u << end_bit) - 1) & (~0u << begin_bit);
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return (keys_in[a] & mask) < (keys_in[b] & mask); });
    std::vector<uint32_t> keys(n);
    std::vector<int32_t> values(n);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = keys_in[order[i]];
      values[i] = values_in[order[i]];
    }
    std::memset(temp, 0xff, needed);
    std::copy(keys.begin(), keys.end(), keys_out);
    std::copy(values.begin(), values.end(), values_out);
  });
  return cudaSuccess;
}

}  // namespace cs::sim

using namespace cs::sim;

cufftResult cufftCreate(cufftHandle* plan) {
  std::lock_guard<std::mutex> lock(fft_mutex());
  static cufftHandle next = 1;
  *plan = next++;
  plans()[*plan] = FftPlan{};
  return CUFFT_SUCCESS;
}

cufftResult cufftDestroy(cufftHandle plan) {
  std::lock_guard<std::mutex> lock(fft_mutex());
  return plans().erase(plan) ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN;
}

cufftResult cufftSetAutoAllocation(cufftHandle plan, int auto_allocate) {
  std::lock_guard<std::mutex> lock(fft_mutex());
  auto it = plans().find(plan);
  if (it == plans().end()) return CUFFT_INVALID_PLAN;
  it->second.auto_allocate = auto_allocate != 0;
  return CUFFT_SUCCESS;
}

cufftResult cufftMakePlanMany(cufftHandle plan, int rank, int* n, int* inembed, int, int, int* onembed, int, int,
                              cufftType type, int batch, size_t* work_size) {
  if (rank < 1 || rank > 3 || batch < 1) return CUFFT_INVALID_VALUE;
  if (inembed || onembed) return CUFFT_NOT_SUPPORTED;  // only the basic layout is modelled
  if (type != CUFFT_R2C && type != CUFFT_C2R && type != CUFFT_D2Z && type != CUFFT_Z2D) return CUFFT_NOT_SUPPORTED;
  for (int i = 0; i < rank; ++i)
    if (n[i] < 1) return CUFFT_INVALID_SIZE;
  std::lock_guard<std::mutex> lock(fft_mutex());
  auto it = plans().find(plan);
  if (it == plans().end()) return CUFFT_INVALID_PLAN;
  FftPlan& p = it->second;
  p.n.assign(n, n + rank);
  p.type = type;
  p.batch = batch;
  // A work area as large as one output, so that a missing or short one is noticed.
  p.work_bytes = complex_count(p) * (is_double(type) ? sizeof(cufftDoubleComplex) : sizeof(cufftComplex));
  p.made = true;
  if (work_size) *work_size = p.work_bytes;
  return CUFFT_SUCCESS;
}

cufftResult cufftSetStream(cufftHandle plan, cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(fft_mutex());
  auto it = plans().find(plan);
  if (it == plans().end()) return CUFFT_INVALID_PLAN;
  it->second.stream = stream;
  return CUFFT_SUCCESS;
}

cufftResult cufftSetWorkArea(cufftHandle plan, void* work_area) {
  std::lock_guard<std::mutex> lock(fft_mutex());
  auto it = plans().find(plan);
  if (it == plans().end()) return CUFFT_INVALID_PLAN;
  it->second.work_area = work_area;
  return CUFFT_SUCCESS;
}

cufftResult cufftExecR2C(cufftHandle plan, cufftReal* input, cufftComplex* output) {
  return exec(plan, input, output, CUFFT_R2C);
}

cufftResult cufftExecC2R(cufftHandle plan, cufftComplex* input, cufftReal* output) {
  return exec(plan, input, output, CUFFT_C2R);
}

cufftResult cufftExecD2Z(cufftHandle plan, cufftDoubleReal* input, cufftDoubleComplex* output) {
  return exec(plan, input, output, CUFFT_D2Z);
}

cufftResult cufftExecZ2D(cufftHandle plan, cufftDoubleComplex* input, cufftDoubleReal* output) {
  return exec(plan, input, output, CUFFT_Z2D);
}

cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t* handle) {
  *handle = reinterpret_cast<cusolverDnHandle_t>(new SolverContext());
  return CUSOLVER_STATUS_SUCCESS;
}

cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t handle) {
  delete reinterpret_cast<SolverContext*>(handle);
  return CUSOLVER_STATUS_SUCCESS;
}

cusolverStatus_t cusolverDnSetStream(cusolverDnHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUSOLVER_STATUS_NOT_INITIALIZED;
  reinterpret_cast<SolverContext*>(handle)->stream = stream;
  return CUSOLVER_STATUS_SUCCESS;
}

cusolverStatus_t cusolverDnSsyevd_bufferSize(cusolverDnHandle_t handle, cusolverEigMode_t, cublasFillMode_t, int n,
                                             const float*, int lda, const float*, int* lwork) {
  if (!handle) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (n < 0 || lda < std::max(1, n)) return CUSOLVER_STATUS_INVALID_VALUE;
  *lwork = 2 * n + 1;  // floats; checked against the workspace at the call
  return CUSOLVER_STATUS_SUCCESS;
}

cusolverStatus_t cusolverDnSsyevd(cusolverDnHandle_t handle, cusolverEigMode_t jobz, cublasFillMode_t uplo, int n,
                                  float* a, int lda, float* w, float* work, int lwork, int* dev_info) {
  if (!handle) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (n < 0 || lda < std::max(1, n) || lwork < 2 * n + 1) return CUSOLVER_STATUS_INVALID_VALUE;
  const size_t nn = static_cast<size_t>(n);
  if (!is_device_range(a, static_cast<size_t>(lda) * nn * 4) || !is_device_range(w, nn * 4) ||
      !is_device_range(work, static_cast<size_t>(lwork) * 4) || !is_device_range(dev_info, 4)) {
    report(cudaErrorIllegalAddress, "simulated cuSOLVER: an argument is not device memory of its size");
    return CUSOLVER_STATUS_INVALID_VALUE;
  }
  const cudaStream_t stream = reinterpret_cast<SolverContext*>(handle)->stream;
  enqueue_host_work(stream, [=] {
    std::memset(work, 0xff, static_cast<size_t>(lwork) * 4);
    *dev_info = n == 0 ? 0
                       : LAPACKE_ssyevd(LAPACK_COL_MAJOR, jobz == CUSOLVER_EIG_MODE_VECTOR ? 'V' : 'N',
                                        uplo == CUBLAS_FILL_MODE_UPPER ? 'U' : 'L', n, a, lda, w);
  });
  return CUSOLVER_STATUS_SUCCESS;
}
