#!/usr/bin/env bash
# Renders RUN_DIR/report.html in headless Chromium to a PNG, so a person (or a
# review) can look at the whole report as one picture.
#
#   scripts/render_report.sh RUN_DIR [OUT.png]     (default OUT: RUN_DIR/report.png)
#
# Environment: WIDTH (default 1280) and HEIGHT (default 12000) of the page in
# CSS pixels (headless screenshots are window-sized: make HEIGHT cover the
# report); CHROMIUM (default: chromium, chromium-browser or google-chrome).
# Needs Debian's `chromium` package: apt-get install chromium.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
run_dir=$1
report="$run_dir/report.html"
[[ -f "$report" ]] || { echo "render_report.sh: $report does not exist (run \`convscope report $run_dir\` first)" >&2; exit 1; }
out=${2:-$run_dir/report.png}
width=${WIDTH:-1280}
height=${HEIGHT:-12000}
[[ "$width" =~ ^[0-9]+$ && "$height" =~ ^[0-9]+$ ]] || { echo "render_report.sh: WIDTH and HEIGHT must be whole numbers" >&2; exit 1; }

browser=${CHROMIUM:-}
if [[ -z "$browser" ]]; then
  for b in chromium chromium-browser google-chrome; do
    if command -v "$b" > /dev/null; then browser=$b; break; fi
  done
fi
[[ -n "$browser" ]] || { echo "render_report.sh: no Chromium found (apt-get install chromium, or set CHROMIUM)" >&2; exit 1; }

abs_report=$(cd "$(dirname "$report")" && pwd)/report.html
abs_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --no-sandbox: Chromium refuses to run as root otherwise (containers, CI).
# --virtual-time-budget: wait for every image to load before the shot.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --mute-audio \
  --user-data-dir="$profile" --allow-file-access-from-files \
  --window-size="$width,$height" --virtual-time-budget=10000 \
  --screenshot="$abs_out" "file://$abs_report" > "$profile/log.txt" 2>&1 || {
  echo "render_report.sh: $browser failed:" >&2
  tail -5 "$profile/log.txt" >&2
  exit 1
}
[[ -s "$abs_out" ]] || { echo "render_report.sh: $browser wrote no picture" >&2; tail -5 "$profile/log.txt" >&2; exit 1; }
echo "wrote $out (${width}x${height})"
