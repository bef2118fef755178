// Helpers shared by the op dispatchers and CPU references.
#pragma once

#include "runtime/dispatch.h"
#include "runtime/tensor.h"

namespace cs::kernels {

// Ops compute in f32 everywhere and in f64 on the CPU (for gradient checks).
void check_compute_dtype(const Tensor& t, const char* op);

// All tensors defined, on one device, in one compute dtype.
void check_compatible(std::initializer_list<const Tensor*> tensors, const char* op);
// Fails when `output`'s bytes overlap those of any input: kernels that read
// their inputs through __restrict__ or non-coherent loads would compute garbage.
void check_no_alias(const Tensor& output, std::initializer_list<const Tensor*> inputs, const char* op);

// Calls f(T{}) with T = float or double according to `dtype`:
//   dispatch_floating(x.dtype(), "relu", [&](auto zero) { using T = decltype(zero); ... });
template <typename F>
void dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::F32: f(float{}); return;
    case DType::F64: f(double{}); return;
    default: CS_FAIL(op << ": expected a floating tensor, got " << dtype_name(dtype));
  }
}

}  // namespace cs::kernels
