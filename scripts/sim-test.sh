#!/usr/bin/env bash
# Runs the GPU tests and the simulator's own tests on the simulated CUDA device
# of BUILD_DIR (configured with -DCONVSCOPE_CUDA_SIM=ON) under schedule SEED:
#
#   scripts/sim-test.sh BUILD_DIR SEED [more ctest arguments]
#
# A kernel whose result depends on the schedule has a race, so CI runs this
# under two seeds. On the simulated device every GPU test must run: a skipped
# one fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:?usage: scripts/sim-test.sh BUILD_DIR SEED [ctest args]}"
seed="${2:?usage: scripts/sim-test.sh BUILD_DIR SEED [ctest args]}"
shift 2
grep -q 'CONVSCOPE_CUDA_SIM:BOOL=ON' "$build_dir/CMakeCache.txt" \
  || { echo "sim-test: $build_dir is not a simulated-device build (-DCONVSCOPE_CUDA_SIM=ON)" >&2; exit 2; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "sim-test: GPU and simulator tests in $build_dir, CONVSCOPE_SIM_SEED=$seed"
status=0
CONVSCOPE_REQUIRE_GPU=1 CONVSCOPE_SIM_SEED="$seed" ctest --test-dir "$build_dir" -L '^(gpu|sim)$' --output-on-failure \
  -j "$(nproc)" --timeout 1200 "$@" 2>&1 | tee "$log" || status=$?
if grep -qE '\*\*\*Skipped|Not Run' "$log"; then
  # The simulator's sanitizer-only checks skip in the plain build: allowed.
  if grep -E '\*\*\*Skipped|Not Run' "$log" | grep -vE 'SimDevice\.\w+By(Address|UndefinedBehaviour)Sanitizer' | grep -q .; then
    echo "sim-test: GPU tests were skipped on the simulated device; every one must run" >&2
    status=1
  fi
fi
exit $status
