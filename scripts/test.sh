#!/usr/bin/env bash
# Installs what is missing, builds convscope and runs its test suite. Without a GPU the GPU tests
# (CTest label `gpu`) report as skipped; every CPU test must pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh "$@"
build_dir="${CONVSCOPE_BUILD_DIR:-build}"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 1800
