#!/usr/bin/env bash
# The studio's frame build time with large latent clouds, in the real window under Xvfb (set up
# by scripts/xvfb.sh, as for scripts/screenshot.sh): for each point count and view (2-D
# scatter, 3-D), the studio trains on a 2 000 000-image data set (bench/big_points.py) for SECONDS and logs its
# frame statistics (--frame-stats) with the training rate; then the headless rate for the same
# data, for comparison. Prints one line per case.
#   bench/scatter-frames.sh [SECONDS] [POINTS...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
counts=("${@:-10000 200000}")
data="${TMPDIR:-/tmp}/latentlab-big-points"
[ -f "$data/images.idx" ] || python3 bench/big_points.py "$data"
spec="idx:$data/images.idx,$data/labels.idx"
# The 3-D case clicks its tab with xdotool.
extra_packages=xdotool
source scripts/xvfb.sh
trap 'kill $xvfb 2>/dev/null || true' EXIT
for points in ${counts[@]}; do
  for view in 2-D 3-D; do
    log="$(mktemp)"
    XDG_DATA_HOME="$(mktemp -d)" DISPLAY="$display" "$bin" --data "$spec" --points "$points" \
      --train --frame-stats 2>"$log" &
    app=$!
    if [ "$view" = 3-D ]; then
      # The 3-D tab, once the window is up (where the default layout puts it).
      sleep 8
      DISPLAY="$display" xdotool mousemove 400 403 click 1
      sleep "$secs"
    else
      sleep $((secs + 8))
    fi
    kill "$app"; wait "$app" 2>/dev/null || true
    echo "$points points, $view: $(grep 'frame build' "$log" | tail -1) | $(grep '^run:' "$log" | tail -1)"
  done
done
# The same images headless, one epoch of a 200 000-image set of them (the rate counts training
# steps only, so the set's size does not change it): the rate the studio's is compared with.
small="${TMPDIR:-/tmp}/latentlab-big-points-200k"
[ -f "$small/images.idx" ] || python3 bench/big_points.py "$small" 200000
"$bin" train --data "idx:$small/images.idx,$small/labels.idx" --epochs 1 --out "$(mktemp -d)" \
  2>&1 | grep -i "samples/s" | tail -1
