# Generates runtime's build_info.cpp: what `convscope info` reports about the build.

set(CONVSCOPE_BUILD_CUDA_ARCHS "")
set(CONVSCOPE_BUILD_CUDA_VERSION "")
set(CONVSCOPE_BUILD_CUDNN_VERSION "")
if(CONVSCOPE_HAS_CUDA)
  set(CONVSCOPE_BUILD_CUDA_ARCHS "${CMAKE_CUDA_ARCHITECTURES}")
  set(CONVSCOPE_BUILD_CUDA_VERSION "${CUDAToolkit_VERSION}")
  # cuDNN serves only as a reference in benchmarks; report its header version.
  find_file(_cudnn_version_header cudnn_version.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS} ${CONVSCOPE_CUDNN_ROOT}/include NO_CACHE)
  if(_cudnn_version_header)
    file(STRINGS ${_cudnn_version_header} _cudnn_lines REGEX "#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ")
    foreach(_line ${_cudnn_lines})
      string(REGEX MATCH "CUDNN_(MAJOR|MINOR|PATCHLEVEL) +([0-9]+)" _m "${_line}")
      set(_cudnn_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
    endforeach()
    set(CONVSCOPE_BUILD_CUDNN_VERSION "${_cudnn_MAJOR}.${_cudnn_MINOR}.${_cudnn_PATCHLEVEL}")
  endif()
endif()
if(CONVSCOPE_CUDA_SIM)
  set(CONVSCOPE_BUILD_CUDA_ARCHS "simulated")
  set(CONVSCOPE_BUILD_CUDA_VERSION "none (simulated device)")
endif()
set(CONVSCOPE_BUILD_BLAS_VERSION "${OpenBLAS_VERSION}")
set(CONVSCOPE_BUILD_CXX_COMPILER "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")

set(CONVSCOPE_BUILD_INFO_SOURCE ${CMAKE_BINARY_DIR}/generated/build_info.cpp)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/build_info.cpp.in ${CONVSCOPE_BUILD_INFO_SOURCE} @ONLY)
