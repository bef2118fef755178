# Finds convscope's dependencies, all Debian packages. A missing one stops the
# configuration with the package to install.

function(convscope_require found package what)
  if(NOT ${found})
    message(FATAL_ERROR "convscope needs ${what}: install it with `sudo apt-get install ${package}` "
                        "(or run scripts/install-deps.sh)")
  endif()
endfunction()

# stb_image / stb_image_write (header-only; the implementation is compiled in runtime/).
find_path(STB_INCLUDE_DIR stb_image.h
          HINTS ${CONVSCOPE_STB_INCLUDE_DIR} PATHS /usr/include/stb /usr/local/include/stb
          NO_CACHE)
convscope_require(STB_INCLUDE_DIR libstb-dev "the stb image headers")

find_package(ZLIB QUIET)
convscope_require(ZLIB_FOUND zlib1g-dev "zlib (to read gzipped IDX files)")

find_package(nlohmann_json 3 QUIET CONFIG)
convscope_require(nlohmann_json_FOUND nlohmann-json3-dev "nlohmann-json (JSON for configs and safetensors)")

find_package(CLI11 QUIET CONFIG)
convscope_require(CLI11_FOUND libcli11-dev "CLI11 (command-line parsing)")

# OpenBLAS for the CPU GEMM (cblas.h).
find_package(OpenBLAS QUIET CONFIG)
if(OpenBLAS_FOUND)
  set(CONVSCOPE_BLAS_LIBRARIES ${OpenBLAS_LIBRARIES})
  set(CONVSCOPE_BLAS_INCLUDE_DIRS ${OpenBLAS_INCLUDE_DIRS})
else()
  find_library(CONVSCOPE_OPENBLAS_LIBRARY NAMES openblas)
  find_path(CONVSCOPE_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas x86_64-linux-gnu aarch64-linux-gnu)
  set(_blas_found FALSE)
  if(CONVSCOPE_OPENBLAS_LIBRARY AND CONVSCOPE_CBLAS_INCLUDE)
    set(_blas_found TRUE)
  endif()
  convscope_require(_blas_found libopenblas-dev "OpenBLAS (the CPU matrix multiply)")
  set(CONVSCOPE_BLAS_LIBRARIES ${CONVSCOPE_OPENBLAS_LIBRARY})
  set(CONVSCOPE_BLAS_INCLUDE_DIRS ${CONVSCOPE_CBLAS_INCLUDE})
endif()

# LAPACKE for the CPU eigen-decomposition (PCA). OpenBLAS often bundles LAPACK.
find_path(CONVSCOPE_LAPACKE_INCLUDE lapacke.h PATH_SUFFIXES openblas x86_64-linux-gnu aarch64-linux-gnu)
find_library(CONVSCOPE_LAPACKE_LIBRARY NAMES lapacke)
set(_lapacke_found FALSE)
if(CONVSCOPE_LAPACKE_INCLUDE AND CONVSCOPE_LAPACKE_LIBRARY)
  set(_lapacke_found TRUE)
endif()
convscope_require(_lapacke_found liblapacke-dev "LAPACKE (the CPU eigen-decomposition for PCA)")
set(CONVSCOPE_LAPACK_LIBRARIES ${CONVSCOPE_LAPACKE_LIBRARY})
list(APPEND CONVSCOPE_BLAS_INCLUDE_DIRS ${CONVSCOPE_LAPACKE_INCLUDE})

find_package(OpenMP QUIET)

if(CONVSCOPE_CUDA_SIM)
  # The simulated device: threads on Boost.Context fibers, cuFFT by FFTW.
  find_package(Boost 1.71 QUIET COMPONENTS context)
  convscope_require(Boost_FOUND libboost-context-dev "Boost.Context (the simulated CUDA device's fibers)")
  find_path(CONVSCOPE_FFTW_INCLUDE_DIR fftw3.h)
  find_library(CONVSCOPE_FFTWF_LIBRARY NAMES fftw3f)
  find_library(CONVSCOPE_FFTWD_LIBRARY NAMES fftw3)
  set(CONVSCOPE_FFTW_LIBRARY ${CONVSCOPE_FFTWF_LIBRARY} ${CONVSCOPE_FFTWD_LIBRARY})
  set(_fftw_found FALSE)
  if(CONVSCOPE_FFTW_INCLUDE_DIR AND CONVSCOPE_FFTWF_LIBRARY AND CONVSCOPE_FFTWD_LIBRARY)
    set(_fftw_found TRUE)
  endif()
  convscope_require(_fftw_found libfftw3-dev "FFTW (the simulated device's cuFFT)")
  set(THREADS_PREFER_PTHREAD_FLAG ON)
  find_package(Threads REQUIRED)
endif()

if(CONVSCOPE_HAS_CUDA)
  # cuSOLVER: the GPU eigen-decomposition for PCA (a well-kept solver, not a kernel we teach).
  set(CONVSCOPE_CUSOLVER_LIBRARY CUDA::cusolver)
  # cuFFT: the convolution step of the FFT-accelerated t-SNE repulsion.
  set(CONVSCOPE_CUFFT_LIBRARY CUDA::cufft)
endif()

if(CONVSCOPE_BUILD_TESTS)
  find_package(GTest QUIET CONFIG)
  if(NOT GTest_FOUND)
    find_package(GTest QUIET)
  endif()
  convscope_require(GTest_FOUND libgtest-dev "GoogleTest (the test suites)")
endif()

if(CONVSCOPE_BUILD_BENCH)
  find_package(benchmark QUIET CONFIG)
  convscope_require(benchmark_FOUND libbenchmark-dev "Google Benchmark (the benchmark suites)")
endif()
