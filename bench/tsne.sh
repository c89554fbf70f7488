#!/usr/bin/env bash
# t-SNE side by side: ours (`latentlab tsne`, Barnes-Hut) and openTSNE 1.0.4 (Barnes-Hut and
# FFT) on the same 10 000 32-D codes (a dense model with a 32-D code, trained 5 epochs on the
# built-in MNIST, all 10 000 of its images encoded), with the same thread count, one after the
# other; each map's 5-NN label accuracy by one measure (bench/tsne_peer.py).
#   bench/tsne.sh [--threads N] [--dims 2|3] [--out DIR]
# The peer needs a Python with openTSNE: set TSNE_PY (default ../.venv-tsne/bin/python), made
# with `python3 -m venv ../.venv-tsne && ../.venv-tsne/bin/pip install openTSNE==1.0.4`;
# without it, only our figures are printed. LATENTLAB_BIN names a prebuilt binary.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2; dims=2; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2;;
    --dims) dims=$2; shift 2;;
    --out) out=$2; shift 2;;
    *) echo "unknown flag $1" >&2; exit 2;;
  esac
done
py="${TSNE_PY:-../.venv-tsne/bin/python}"
out="${out:-$(mktemp -d)}"
if [ -n "${LATENTLAB_BIN:-}" ]; then
  bin="$LATENTLAB_BIN"
else
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/latentlab"
fi
export RAYON_NUM_THREADS="$threads"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $threads threads each"
"$bin" train --epochs 5 --latent 32 --device cpu --threads "$threads" --out "$out/run" > /dev/null 2>&1
"$bin" export --run "$out/run" --split all --out "$out/codes" > /dev/null
"$bin" tsne --input "$out/codes" --dims "$dims" --out "$out/ours.csv"
if "$py" -c "import openTSNE" 2> /dev/null; then
  OMP_NUM_THREADS="$threads" NUMBA_NUM_THREADS="$threads" \
    "$py" bench/tsne_peer.py "$out/codes" "$out/ours.csv" --threads "$threads"
else
  echo "openTSNE not found at $py: the peer is skipped (see the header of this script)"
fi
echo "files in $out"
