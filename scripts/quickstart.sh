#!/usr/bin/env bash
# The main job, from a fresh machine: install what is missing, build, train
# the default FashionMNIST model and write its run folder with pictures and
# report. Extra arguments go to `convscope train` (e.g. --epochs 1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build_dir="${CONVSCOPE_BUILD_DIR:-build}"
"$build_dir/cli/convscope" info
exec "$build_dir/cli/convscope" train --out "runs/fashion-cnn-$(date +%Y%m%d-%H%M%S)" "$@"
