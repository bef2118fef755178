#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages convscope needs, skipping those already
# present. The CUDA toolkit is optional: without it convscope builds CPU-only
# (or, with -DCONVSCOPE_CUDA_SIM=ON, runs its CUDA code on the simulated device).
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libstb-dev zlib1g-dev libcli11-dev nlohmann-json3-dev
  libopenblas-dev liblapacke-dev
  libgtest-dev libbenchmark-dev
  libboost-context-dev libfftw3-dev
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
