#include "kernels/common.h"

namespace cs::kernels {

void check_compute_dtype(const Tensor& t, const char* op) {
  CS_CHECK(t.defined(), op << ": tensor is undefined");
  CS_CHECK(t.dtype() == DType::F32 || (t.dtype() == DType::F64 && t.device().is_cpu()),
           op << ": cannot compute in " << dtype_name(t.dtype()) << " on " << t.device()
              << " (f32 everywhere, f64 on the CPU only)");
}

void check_no_alias(const Tensor& output, std::initializer_list<const Tensor*> inputs, const char* op) {
  if (!output.defined() || output.nbytes() == 0) return;
  const auto* out_begin = static_cast<const char*>(output.raw_data());
  const char* out_end = out_begin + output.nbytes();
  for (const Tensor* in : inputs) {
    if (!in->defined() || in->nbytes() == 0) continue;
    const auto* in_begin = static_cast<const char*>(in->raw_data());
    const char* in_end = in_begin + in->nbytes();
    CS_CHECK(out_end <= in_begin || in_end <= out_begin,
             op << ": the output " << shape_str(output.shape()) << " shares memory with an input "
                << shape_str(in->shape()) << "; pass a separate output tensor");
  }
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
