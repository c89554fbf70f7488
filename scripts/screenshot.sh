#!/usr/bin/env bash
# Takes a screenshot of the real studio window under a virtual X display, after a short
# training run, into docs/screenshot.png (or $1). Installs Xvfb and friends from Debian if missing.
#   scripts/screenshot.sh [OUT.png] [SECONDS] [extra latentlab flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshot.png}"
secs="${2:-25}"
shift $(( $# > 2 ? 2 : $# )) || true

packages=(xvfb xauth imagemagick libgl1-mesa-dri libegl1 libgl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo build --release
bin="${CARGO_TARGET_DIR:-target}/release/latentlab"
display=":$((90 + RANDOM % 9))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
sleep 1
# A fresh settings folder, so the screenshot shows the defaults.
export XDG_DATA_HOME="$(mktemp -d)"
DISPLAY="$display" "$bin" --train --frame-stats "$@" &
app=$!
sleep "$secs"
mkdir -p "$(dirname "$out")"
DISPLAY="$display" import -window root "$out"
echo "wrote $out"
