#include "kernels/common.h"

namespace cs::kernels {

void check_compute_dtype(const Tensor& t, const char* op) {
  CS_CHECK(t.defined(), op << ": tensor is undefined");
  CS_CHECK(t.dtype() == DType::F32 || (t.dtype() == DType::F64 && t.device().is_cpu()),
           op << ": cannot compute in " << dtype_name(t.dtype()) << " on " << t.device()
              << " (f32 everywhere, f64 on the CPU only)");
}

void check_compatible(std::initializer_list<const Tensor*> tensors, const char* op) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    check_compute_dtype(*t, op);
    if (!first) {
      first = t;
      continue;
    }
    check_same_device(*first, *t, op);
    CS_CHECK(first->dtype() == t->dtype(), op << ": mixed dtypes " << dtype_name(first->dtype())
                                              << " and " << dtype_name(t->dtype()));
  }
}

}  // namespace cs::kernels
