#include "runtime/preinit/cpu_setup.h"

#include <unistd.h>

#include <cstdlib>

namespace cs {

void select_cpu_kernels(int argc, char** argv) {
  (void)argc;
#if defined(__x86_64__) && defined(__GNUC__)
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const char* core = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
    core = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    core = "Haswell";
  else if (__builtin_cpu_supports("avx"))
    core = "SandyBridge";
  if (core == nullptr) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
#else
  (void)argv;
#endif
}

}  // namespace cs
