#!/usr/bin/env bash
# Line coverage of the CUDA code (kernels/cuda/, runtime/cuda/) under the GPU
# tests on the simulated device: builds build-sim-cov/ with gcov
# instrumentation, runs scripts/sim-test.sh there, and prints gcovr's table.
#
#   scripts/sim-coverage.sh [SEED]        (needs gcovr: apt-get install gcovr)
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${1:-1}"
build_dir=build-sim-cov
command -v gcovr >/dev/null || { echo "sim-coverage: needs gcovr (sudo apt-get install gcovr)" >&2; exit 2; }
CONVSCOPE_BUILD_DIR=$build_dir scripts/build.sh -DCONVSCOPE_CUDA_SIM=ON -DCONVSCOPE_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DCMAKE_CXX_FLAGS=--coverage -DCMAKE_EXE_LINKER_FLAGS=--coverage \
  -DCMAKE_SHARED_LINKER_FLAGS=--coverage
find "$build_dir" -name '*.gcda' -delete
scripts/sim-test.sh "$build_dir" "$seed" || echo "sim-coverage: some tests failed (coverage still reported)" >&2
gcovr --root . --object-directory "$build_dir" --filter 'kernels/cuda/' --filter 'runtime/cuda/' \
  --exclude 'runtime/cuda/sim/' --txt --sort-percentage
