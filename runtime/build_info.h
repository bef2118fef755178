// How this copy of convscope was built (filled in by CMake).
#pragma once

#include <string>

namespace cs {

struct BuildInfo {
  std::string version;
  std::string build_type;
  std::string cxx_compiler;
  std::string cuda_toolkit_version;  // "" when built without CUDA
  std::string cuda_architectures;    // e.g. "90"
  std::string cudnn_version;         // of the headers found, a reference for benchmarks only
  std::string openblas_version;
};

const BuildInfo& build_info();

}  // namespace cs
