#!/usr/bin/env bash
# Installs what is missing, builds convscope and runs its whole test suite.
# With an NVIDIA GPU it builds the CUDA configuration in build/ and the GPU
# tests (CTest label `gpu`) run on the GPU. Without one it builds the
# simulated CUDA device in build-sim/ (-DCONVSCOPE_CUDA_SIM=ON), where the same
# GPU tests run the same kernels on CPU fibers; every test must pass.
# CONVSCOPE_BUILD_DIR and extra cmake arguments choose another configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ -z "${CONVSCOPE_BUILD_DIR:-}" ] && [ $# -eq 0 ] \
   && ! { command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU; }; then
  echo "test: no GPU here: the GPU tests run on the simulated CUDA device (build-sim/)"
  export CONVSCOPE_BUILD_DIR=build-sim
  set -- -DCONVSCOPE_CUDA_SIM=ON -DCONVSCOPE_BUILD_BENCH=OFF
fi
scripts/build.sh "$@"
build_dir="${CONVSCOPE_BUILD_DIR:-build}"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 1800
