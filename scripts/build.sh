#!/usr/bin/env bash
# Configures (once) and builds convscope in build/ (or $CONVSCOPE_BUILD_DIR).
# Extra arguments go to cmake's configure step, e.g. -DCONVSCOPE_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${CONVSCOPE_BUILD_DIR:-build}"
if [ ! -f "$build_dir/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$build_dir" -j "$(nproc)"
