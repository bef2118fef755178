#!/usr/bin/env bash
# Downloads (without installing) the Debian packages that a bare GPU machine
# may lack - headers and libraries for GoogleTest, Google Benchmark, CLI11,
# nlohmann-json, OpenBLAS/LAPACKE, zlib and stb, and the FashionMNIST data -
# into .deps/debs/, so they can travel with the checkout. scripts/gpu-check.sh unpacks them into
# .deps/root/ when the system lacks them. Run on a Debian/Ubuntu machine
# with network access to its package mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deps/debs
grep -qx '/.deps/' .git/info/exclude 2>/dev/null || echo '/.deps/' >> .git/info/exclude
packages=(
  libstb-dev libstb0 zlib1g-dev libcli11-dev nlohmann-json3-dev
  libopenblas-dev libopenblas0 libopenblas-pthread-dev libopenblas0-pthread libgfortran5
  liblapacke-dev liblapacke libblas-dev libblas3 liblapack-dev liblapack3 libtmglib3
  libgtest-dev libbenchmark-dev libbenchmark1debian
  dataset-fashion-mnist
)
cd .deps/debs
apt-get download "${packages[@]}"
ls -1 | wc -l | xargs echo "fetch-gpu-deps: .deb files in .deps/debs:"
