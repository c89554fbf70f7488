# Sourced by the scripts that drive the real studio window under a virtual X display
# (scripts/screenshot.sh, bench/scatter-frames.sh): installs what they need from Debian if
# missing, builds the release binary into $bin and starts Xvfb on $display (its pid in $xvfb).
# A caller needing more packages names them in $extra_packages before sourcing.
#   source scripts/xvfb.sh
packages=(xvfb xauth imagemagick libgl1-mesa-dri libegl1 libgl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 ${extra_packages:-})
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
sleep 1
