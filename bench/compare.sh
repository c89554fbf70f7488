#!/usr/bin/env bash
# Runs our bench and the PyTorch reference side by side, on the same machine and thread count,
# and prints the ratios (ours / PyTorch: above 1 means we train faster).
#   bench/compare.sh [--device cpu|gpu] [--threads N] [--models dense,conv] [--steps N] [--rounds N] [--out DIR]
# --device gpu runs ours on the wgpu backend and PyTorch on CUDA (bench/torch_cuda.py) on the same card.
# Throughput is measured in rounds that alternate ours and PyTorch (a shared VM's speed drifts
# by tens of percent over minutes; alternating keeps both sides under the same drift), and the
# ratio printed is the median of the per-round ratios, with their range. Decode latency and
# steps to the target come from the first round (steps do not depend on the machine).
# The baseline needs a Python with torch and numpy: set TORCH_PY (default ../.venv-torch/bin/python);
# without it, PyTorch is skipped with a message and only our figures are printed.
# LATENTLAB_BIN names a prebuilt binary (no cargo build then), TORCH_DATA the IDX folder.
set -euo pipefail
cd "$(dirname "$0")/.."
device=cpu; threads=2; models=dense,conv,vae,denoise,sparse,seq; steps=300; rounds=3; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2;;
    --threads) threads=$2; shift 2;;
    --models) models=$2; shift 2;;
    --steps) steps=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    --out) out=$2; shift 2;;
    *) echo "unknown flag $1" >&2; exit 2;;
  esac
done
py="${TORCH_PY:-../.venv-torch/bin/python}"
baseline="${TORCH_BASELINE:-../shared/bench/torch_baseline.py}"
data_dir="${TORCH_DATA:-../shared/data}"
out="${out:-$(mktemp -d)}"
mkdir -p "$out"
: > "$out/ours.jsonl"; : > "$out/torch.jsonl"
torch_steps=100
case "$device" in
  cpu) script="$baseline";;
  gpu) script=bench/torch_cuda.py; export TORCH_BASELINE="$baseline"; torch_steps=500;;
  *) echo "--device is cpu or gpu" >&2; exit 2;;
esac
if [ -n "${LATENTLAB_BIN:-}" ]; then
  bin="$LATENTLAB_BIN"
else
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/latentlab"
fi

have_torch=0
if [ "$device" = gpu ] && ! "$py" -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  echo "PyTorch baseline skipped: $py has no CUDA device" >&2
elif [ -x "$py" ] && "$py" -c "import torch, numpy" 2>/dev/null; then
  have_torch=1
else
  echo "PyTorch baseline skipped: no Python with torch and numpy at $py (see README: Benchmarks)" >&2
fi
torch() { OMP_WAIT_POLICY=PASSIVE "$py" "$script" "$@" --threads "$threads" --data-dir "$data_dir"; }
# Our seq kind is measured against the reference's lstm model (same data, sizes and loss).
torch_name() { if [ "$1" = seq ]; then echo lstm; else echo "$1"; fi; }
as_ours() { sed 's/"model": "lstm"/"model": "seq"/'; }

for r in $(seq "$rounds"); do
  echo "== round $r/$rounds: latentlab bench ($device, threads $threads)" >&2
  "$bin" --device "$device" bench --threads "$threads" --model "$models" --steps "$steps" \
    | sed "s/^{/{\"round\":$r,/" >> "$out/ours.jsonl"
  if [ "$have_torch" = 1 ]; then
    echo "== round $r/$rounds: PyTorch throughput ($device, threads $threads, OMP_WAIT_POLICY=PASSIVE)" >&2
    for m in ${models//,/ }; do
      torch throughput --model "$(torch_name "$m")" --steps "$torch_steps" --warmup 10 | as_ours \
        | sed "s/^{/{\"round\":$r,/" >> "$out/torch.jsonl"
    done
  fi
done
if [ "$have_torch" = 1 ]; then
  echo "== PyTorch decode latency and convergence" >&2
  for m in ${models//,/ }; do
    torch decode-latency --model "$(torch_name "$m")" --calls 1000 | as_ours >> "$out/torch.jsonl"
    case "$m" in dense|conv) torch converge --model "$m" --max-seconds 60 >> "$out/torch.jsonl";; esac
  done
fi

python3 - "$out/ours.jsonl" "$out/torch.jsonl" <<'PY'
import json, statistics, sys
ours = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
torch = [json.loads(l) for l in open(sys.argv[2]) if l.strip().startswith("{")]
def first(rows, **kv):
    return next((r for r in rows if all(r.get(k) == v for k, v in kv.items())), None)
def fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "n/a"
models = list(dict.fromkeys(r["model"] for r in ours))
print(f"{'model':<8} {'ours s/s':>9} {'torch s/s':>9} {'ratio':>6} {'range':>11} | "
      f"{'dec p99 ours':>12} {'torch':>7} | {'steps→target ours':>17} {'torch':>6}")
for m in models:
    mine = [r for r in ours if r["model"] == m]
    theirs = {r["round"]: r["samples_per_s"] for r in torch
              if r.get("mode") == "throughput" and r.get("model") == m}
    ratios = [r["samples_per_sec"] / theirs[r["round"]] for r in mine if theirs.get(r["round"])]
    ours_sps = statistics.median(r["samples_per_sec"] for r in mine)
    torch_sps = statistics.median(theirs.values()) if theirs else None
    ratio = f"{statistics.median(ratios):.2f}" if ratios else "n/a"
    span = f"{min(ratios):.2f}–{max(ratios):.2f}" if ratios else ""
    dec = first(torch, mode="decode-latency", model=m)
    conv = first(torch, mode="converge", model=m)
    tsteps = conv["steps"] if conv and conv.get("reached") else None
    r1 = mine[0]
    print(f"{m:<8} {ours_sps:>9.0f} {fmt(torch_sps, '>9.0f')} {ratio:>6} {span:>11} | "
          f"{r1['decode_p99_ms']:>10.3f}ms {fmt(dec and dec['p99_ms'], '>7.3f')} | "
          f"{fmt(r1['steps_to_target'], '>17')} {fmt(tsteps, '>6')}")
PY
echo "raw results in $out" >&2
