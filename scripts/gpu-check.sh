#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, given only this checkout,
# configure, build with every core, run the whole test suite with the GPU
# tests executing (a skipped GPU test is a failure here), run the benchmarks,
# and write logs and a summary into OUT_DIR.
#
#   scripts/gpu-check.sh OUT_DIR [--quick-bench] [--bench-filter REGEX] [--stb DIR]
#                                [--no-bench] [--no-peer] [--pack] [--prebuilt DIR]
#
# --prebuilt DIR: use the build in DIR, made beforehand on another machine by
#   scripts/prebuild-gpu.sh (GPU minutes are scarce: nothing is compiled here).
#   Its absolute paths name the folder it was built in; when that folder does
#   not exist here, it is made a link to this checkout.
# --stb DIR: folder holding stb_image.h when the system has no libstb-dev.
# --no-bench / --no-peer: skip the benchmarks / the PyTorch peer check.
# --pack: leave only summary.txt, bench.md, compare.md and logs.tar.gz (all logs).
#
# Finds the CUDA toolkit (PATH or /usr/local/cuda) and cuDNN (system install,
# or the pip wheel nvidia-cudnn-* found through python3). Debian packages the
# machine lacks are taken from .deps/debs/ (scripts/fetch-gpu-deps.sh).
# Exit status: non-zero on any build failure, test failure or skipped GPU test.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

out="${1:?usage: scripts/gpu-check.sh OUT_DIR [--quick-bench] [--bench-filter REGEX] [--stb DIR] [--no-bench] [--no-peer] [--pack]}"
shift
bench_filter="."
bench_min_time="0.2"
stb_dir=""
run_bench=1
run_peer=1
pack=0
prebuilt=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick-bench) bench_min_time="0.05"; shift ;;
    --bench-filter) bench_filter="$2"; shift 2 ;;
    --stb) stb_dir="$(cd "$2" && pwd)"; shift 2 ;;
    --no-bench) run_bench=0; shift ;;
    --no-peer) run_peer=0; shift ;;
    --pack) pack=1; shift ;;
    --prebuilt) prebuilt="$2"; shift 2 ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
summary="$out/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary"; }
status=0

# ---- toolchain ------------------------------------------------------------------------
nvcc_path=$(command -v nvcc || true)
[ -z "$nvcc_path" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc_path=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc_path" ]; then note "FAIL: no nvcc (CUDA toolkit) found"; exit 1; fi
export PATH="$(dirname "$nvcc_path"):$PATH"
note "nvcc: $("$nvcc_path" --version | tail -1)"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader | tee -a "$summary"
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.[:space:]')
fi
arch="${CONVSCOPE_CUDA_ARCH:-${arch:-90}}"

cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch"
            -DCMAKE_CUDA_COMPILER="$nvcc_path")

# cuDNN: the system's, else the pip wheel's (a reference in benchmarks only).
cudnn_root=""
for d in /usr /usr/local/cuda; do [ -f "$d/include/cudnn.h" ] && cudnn_root="$d" && break; done
if [ -z "$cudnn_root" ] && command -v python3 >/dev/null; then
  cudnn_root=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null \
               || python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null || true)
  # Wheels whose layout differs: the folder above the lib/ that holds libcudnn.so.9.
  if [ -z "$cudnn_root" ] || [ ! -f "$cudnn_root/include/cudnn.h" ]; then
    cudnn_root=$(python3 - <<'PY' 2>/dev/null || true
import glob, os, site
for base in site.getsitepackages():
    for lib in glob.glob(os.path.join(base, "nvidia", "**", "libcudnn.so.9"), recursive=True):
        root = os.path.dirname(os.path.dirname(lib))
        if os.path.exists(os.path.join(root, "include", "cudnn.h")):
            print(root)
            raise SystemExit
PY
)
  fi
fi
if [ -n "$cudnn_root" ]; then
  note "cuDNN: $cudnn_root"
  cmake_args+=(-DCONVSCOPE_CUDNN_ROOT="$cudnn_root")
  export LD_LIBRARY_PATH="$cudnn_root/lib:${LD_LIBRARY_PATH:-}"
else
  note "cuDNN: not found (cuDNN reference benchmarks will not be built)"
fi

# Debian packages the machine lacks, unpacked from .deps/debs into .deps/root.
if [ -d .deps/debs ] && ls .deps/debs/*.deb >/dev/null 2>&1; then
  need_deps=0
  for h in /usr/include/gtest/gtest.h /usr/include/benchmark/benchmark.h /usr/include/CLI/CLI.hpp \
           /usr/include/nlohmann/json.hpp /usr/include/stb/stb_image.h /usr/include/zlib.h; do
    [ -f "$h" ] || need_deps=1
  done
  ls /usr/include/*/cblas.h /usr/include/cblas.h >/dev/null 2>&1 || need_deps=1
  if [ "$need_deps" = 1 ]; then
    rm -rf .deps/root && mkdir -p .deps/root
    for f in .deps/debs/*.deb; do dpkg-deb -x "$f" .deps/root; done
    # Debian's alternatives symlinks for BLAS/LAPACK are not created by dpkg-deb -x.
    libdir="$root/.deps/root/usr/lib/x86_64-linux-gnu"
    [ -e "$libdir/libopenblas.so" ] || ln -sf openblas-pthread/libopenblas.so "$libdir/libopenblas.so"
    [ -e "$libdir/libopenblas.so.0" ] || ln -sf openblas-pthread/libopenblas.so.0 "$libdir/libopenblas.so.0"
    for lib in libblas.so.3 liblapack.so.3; do
      [ -e "$libdir/$lib" ] || ln -sf "openblas-pthread/$lib" "$libdir/$lib" 2>/dev/null || true
    done
    note "dependencies: unpacked $(ls .deps/debs/*.deb | wc -l) packages into .deps/root"
    cmake_args+=(-DCMAKE_PREFIX_PATH="$root/.deps/root/usr;$root/.deps/root/usr/share/cmake"
                 -DCONVSCOPE_STB_INCLUDE_DIR="$root/.deps/root/usr/include/stb"
                 -DCMAKE_INCLUDE_PATH="$root/.deps/root/usr/include;$root/.deps/root/usr/include/x86_64-linux-gnu;$root/.deps/root/usr/include/x86_64-linux-gnu/openblas-pthread"
                 -DCMAKE_LIBRARY_PATH="$libdir;$libdir/openblas-pthread")
    export LD_LIBRARY_PATH="$libdir:$libdir/openblas-pthread:${LD_LIBRARY_PATH:-}"
  fi
fi

if [ -n "$stb_dir" ]; then
  [ -f "$stb_dir/stb_image.h" ] || { note "FAIL: --stb $stb_dir holds no stb_image.h"; exit 1; }
  cmake_args+=(-DCONVSCOPE_STB_INCLUDE_DIR="$stb_dir")
fi

# FashionMNIST: the end-to-end training tests need it; a bare machine gets the
# copy that travelled in .deps/ (scripts/fetch-gpu-deps.sh).
data_dir=/usr/share/datasets/fashion-mnist
if [ ! -f "$data_dir/train-images-idx3-ubyte.gz" ]; then
  if ls .deps/debs/dataset-fashion-mnist_*.deb >/dev/null 2>&1; then
    dpkg-deb -x .deps/debs/dataset-fashion-mnist_*.deb / && note "data: unpacked FashionMNIST into $data_dir"
  elif [ -f .deps/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    mkdir -p "$data_dir" && cp .deps/fashion-mnist/*.gz "$data_dir/" && note "data: copied FashionMNIST into $data_dir"
  else
    note "data: no FashionMNIST (training tests will skip and count as failures)"
  fi
fi

# ---- configure and build ------------------------------------------------------------------
if [ -n "$prebuilt" ]; then
  build="$prebuilt"
  [ -f "$build/CMakeCache.txt" ] || { note "FAIL: --prebuilt $build holds no build (no CMakeCache.txt)"; exit 1; }
  home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
  if [ "$home" != "$root" ]; then
    if [ ! -e "$home" ]; then
      mkdir -p "$(dirname "$home")" && ln -s "$root" "$home" \
        || { note "FAIL: cannot link $home to $root for the prebuilt build's paths"; exit 1; }
      note "prebuilt: linked $home -> $root (the build's absolute paths)"
    elif [ "$(cd "$home" && pwd -P)" != "$(pwd -P)" ]; then
      note "FAIL: the prebuilt build expects its sources in $home, which holds something else"; exit 1
    fi
  fi
  note "build: prebuilt ($build, sources $home), nothing compiled here"
else
  build=build-gpu
  note "configure: cmake ${cmake_args[*]}"
  if ! cmake -S . -B "$build" "${cmake_args[@]}" > "$out/configure.log" 2>&1; then
    note "FAIL: configure (see configure.log)"; tail -30 "$out/configure.log"; exit 1
  fi
  start=$(date +%s)
  if ! cmake --build "$build" -j "$(nproc)" > "$out/build.log" 2>&1; then
    note "FAIL: build (see build.log)"; grep -E "error|FAILED" "$out/build.log" | head -30; exit 1
  fi
  note "build: ok in $(( $(date +%s) - start )) s, warnings: $(grep -c 'warning' "$out/build.log")"
fi
"$build/cli/convscope" info > "$out/info.txt" 2>&1
cat "$out/info.txt" | tee -a "$summary"

# ---- tests ---------------------------------------------------------------------------------
export CONVSCOPE_REQUIRE_GPU=1
# The safetensors peer test needs python3 with safetensors and numpy; run it where they exist.
if python3 -c 'import safetensors, numpy' 2>/dev/null; then export CONVSCOPE_PEER_CHECK=1; fi
start=$(date +%s)
ctest --test-dir "$build" -j 8 --timeout 1200 --output-on-failure \
      --output-junit "$out/ctest.xml" > "$out/ctest.log" 2>&1
ctest_status=$?
tail -25 "$out/ctest.log"
count() { grep -c "$@" 2>/dev/null || true; }
total=$(count '<testcase' "$out/ctest.xml")
failed=$(count 'status="fail"' "$out/ctest.xml")
# Skipped tests: every one is listed; those labelled gpu fail the check.
grep -o '<testcase name="[^"]*"[^>]*status="notrun"' "$out/ctest.xml" 2>/dev/null \
  | sed 's/<testcase name="\([^"]*\)".*/\1/' | sort > "$out/skipped.txt" || true
ctest --test-dir "$build" -N -L gpu | sed -n 's/^ *Test *#[0-9]*: *//p' | sort > "$out/gpu-tests.txt"
skipped=$(wc -l < "$out/skipped.txt")
gpu_skipped=$(comm -12 "$out/skipped.txt" "$out/gpu-tests.txt" | tee "$out/gpu-skipped.txt" | wc -l)
gpu_total=$(wc -l < "$out/gpu-tests.txt")
note "tests: $total run in $(( $(date +%s) - start )) s, $failed failed, $skipped skipped ($gpu_skipped of them GPU tests); $gpu_total GPU tests (label gpu)"
[ "$skipped" -gt 0 ] && note "skipped: $(tr '\n' ' ' < "$out/skipped.txt")"
if [ "$ctest_status" -ne 0 ] || [ "$failed" -ne 0 ]; then note "FAIL: tests failed"; grep -A1 'FAILED' "$out/ctest.log" | head -20; status=1; fi
if [ "$gpu_skipped" -ne 0 ]; then note "FAIL: GPU tests skipped on a GPU machine"; status=1; fi

# ---- peer check against PyTorch -----------------------------------------------------------
if [ "$run_peer" = 1 ] && python3 -c 'import torch, torchvision, safetensors' 2>/dev/null; then
  start=$(date +%s)
  if python3 scripts/compare_with_pytorch.py --convscope "$build/cli/convscope" > "$out/peer.log" 2>&1; then
    note "peer check vs PyTorch: ok in $(( $(date +%s) - start )) s (peer.log)"
  else
    note "FAIL: peer check vs PyTorch (see peer.log)"; tail -20 "$out/peer.log"; status=1
  fi
elif [ "$run_peer" = 1 ]; then
  note "peer check vs PyTorch: skipped (python3 lacks torch, torchvision or safetensors)"
fi

# ---- benchmarks ----------------------------------------------------------------------------
# convscope bench writes bench.json (Google Benchmark's JSON), bench.md (the
# table) and bench.log; with PyTorch present, its baselines and the ratio table
# of the end-to-end rows follow (bench/compare.py).
start=$(date +%s)
if [ "$run_bench" = 0 ]; then
  note "benchmarks: skipped (--no-bench)"
elif "$build/cli/convscope" bench --bench-binary "$build/bench/convscope_bench" --filter "$bench_filter" \
       --min-time "$bench_min_time" --out "$out/bench.json" > "$out/bench-table.txt" 2>&1; then
  note "benchmarks: ok in $(( $(date +%s) - start )) s (bench.json, bench.md, bench.log)"
  if python3 -c 'import torch, torchvision' 2>/dev/null; then
    start=$(date +%s)
    if python3 bench/pytorch_baseline.py --out "$out/pytorch.json" --precision fp32 tf32 bf16 > "$out/pytorch.log" 2>&1 \
       && python3 bench/compare.py --convscope "$out/bench.json" --pytorch "$out/pytorch.json" \
            > "$out/compare.md" 2>> "$out/pytorch.log" \
       && python3 bench/pytorch_viz_baseline.py --out "$out/pytorch_viz.json" >> "$out/pytorch.log" 2>&1; then
      note "PyTorch baselines: ok in $(( $(date +%s) - start )) s (pytorch.json, pytorch_viz.json, compare.md)"
    else
      note "FAIL: PyTorch baselines (see pytorch.log)"; tail -20 "$out/pytorch.log"; status=1
    fi
  fi
else
  note "FAIL: benchmarks (see bench-table.txt, bench.log)"; tail -20 "$out/bench-table.txt"; status=1
fi

[ "$status" -eq 0 ] && note "gpu-check: PASS" || note "gpu-check: FAIL"
# --pack: every log in one archive beside the summary and the tables, for
# transports that bring back only a few files.
if [ "$pack" = 1 ]; then
  (cd "$out" && tar czf logs.tar.gz --exclude=logs.tar.gz . && \
     find . -type f ! -name logs.tar.gz ! -name summary.txt ! -name bench.md ! -name compare.md -delete)
fi
exit "$status"
