#!/usr/bin/env bash
# Builds, on a machine without a GPU, everything scripts/gpu-check.sh runs on
# one: the CUDA configuration with tests and benchmarks in build-gpu/ (for
# CMAKE_CUDA_ARCHITECTURES, default 90: H100/H200), stripped so that it travels
# with .deps/ (scripts/fetch-gpu-deps.sh) to the GPU machine, where
#
#   scripts/gpu-check.sh OUT --prebuilt build-gpu [--no-bench] ...
#
# runs the suite with no compiling. Needs the CUDA toolkit (and cuDNN headers
# for the cuDNN reference benchmarks: CONVSCOPE_CUDNN_ROOT=DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
args=(-DCMAKE_CUDA_ARCHITECTURES="${CONVSCOPE_CUDA_ARCH:-90}")
[ -n "${CONVSCOPE_CUDNN_ROOT:-}" ] && args+=(-DCONVSCOPE_CUDNN_ROOT="$CONVSCOPE_CUDNN_ROOT")
CONVSCOPE_BUILD_DIR=build-gpu scripts/build.sh "${args[@]}"
build-gpu/cli/convscope info | grep -q "CUDA backend: on" \
  || { echo "prebuild-gpu: no CUDA toolkit: build-gpu/ is CPU-only" >&2; exit 1; }
# Only what runs travels: no object files, no symbol tables.
find build-gpu \( -name '*.o' -o -name '*.a' \) -delete
find build-gpu -type f \( -name '*.so' -o -perm -u+x \) -exec strip --strip-unneeded {} + 2>/dev/null || true
echo "prebuild-gpu: build-gpu/ holds $(du -sh build-gpu | cut -f1) (the device tool carries 64 MiB with .deps/)"
