#!/usr/bin/env bash
# Takes a screenshot of the real studio window under a virtual X display, after a short
# training run, into docs/screenshot.png (or $1). Installs Xvfb and friends from Debian if missing.
#   scripts/screenshot.sh [OUT.png] [SECONDS] [extra latentlab flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshot.png}"
secs="${2:-25}"
shift $(( $# > 2 ? 2 : $# )) || true

source scripts/xvfb.sh
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
# A fresh settings folder, so the screenshot shows the defaults.
export XDG_DATA_HOME="$(mktemp -d)"
DISPLAY="$display" "$bin" --train --frame-stats "$@" &
app=$!
sleep "$secs"
mkdir -p "$(dirname "$out")"
DISPLAY="$display" import -window root "$out"
echo "wrote $out"
