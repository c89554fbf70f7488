#!/usr/bin/env bash
# Runs our bench and the PyTorch reference side by side, on the same machine and thread count,
# and prints the ratios (ours / PyTorch: above 1 means we are faster, or decode slower).
#   bench/compare.sh [--threads N] [--models dense,conv] [--steps N]
# The baseline needs a Python with torch and numpy: set TORCH_PY (default ../.venv-torch/bin/python);
# without it, PyTorch is skipped with a message and only our figures are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2; models=dense,conv,vae,denoise,sparse; steps=300
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2;;
    --models) models=$2; shift 2;;
    --steps) steps=$2; shift 2;;
    *) echo "unknown flag $1" >&2; exit 2;;
  esac
done
py="${TORCH_PY:-../.venv-torch/bin/python}"
baseline="${TORCH_BASELINE:-../shared/bench/torch_baseline.py}"
out=$(mktemp -d)
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/latentlab"

echo "== latentlab bench (threads $threads)" >&2
"$bin" bench --threads "$threads" --model "$models" --steps "$steps" > "$out/ours.jsonl"

if [ -x "$py" ] && "$py" -c "import torch, numpy" 2>/dev/null; then
  echo "== PyTorch reference (threads $threads, OMP_WAIT_POLICY=PASSIVE)" >&2
  for m in ${models//,/ }; do
    OMP_WAIT_POLICY=PASSIVE "$py" "$baseline" throughput --model "$m" --threads "$threads" --steps 100 --warmup 10 --data-dir ../shared/data >> "$out/torch.jsonl"
    OMP_WAIT_POLICY=PASSIVE "$py" "$baseline" decode-latency --model "$m" --threads "$threads" --calls 1000 --data-dir ../shared/data >> "$out/torch.jsonl"
    case "$m" in dense|conv)
      OMP_WAIT_POLICY=PASSIVE "$py" "$baseline" converge --model "$m" --threads "$threads" --max-seconds 60 --data-dir ../shared/data >> "$out/torch.jsonl";;
    esac
  done
else
  echo "PyTorch baseline skipped: no Python with torch and numpy at $py (see README: Benchmarks)" >&2
  : > "$out/torch.jsonl"
fi

python3 - "$out/ours.jsonl" "$out/torch.jsonl" <<'PY'
import json, sys
ours = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
torch = [json.loads(l) for l in open(sys.argv[2]) if l.strip().startswith("{")]
def t(mode, model, key):
    for r in torch:
        if r.get("mode") == mode and r.get("model") == model and key in r:
            return r[key]
    return None
def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "n/a"
def fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "n/a"
print(f"{'model':<8} {'ours s/s':>9} {'torch s/s':>9} {'ratio':>6} | {'dec p99 ours':>12} {'torch':>7} | {'steps→target ours':>17} {'torch':>6}")
for r in ours:
    m = r["model"]
    ts = t("throughput", m, "samples_per_s")
    tp99 = t("decode-latency", m, "p99_ms")
    tsteps = t("converge", m, "steps") if t("converge", m, "reached") else None
    print(f"{m:<8} {r['samples_per_sec']:>9.0f} {fmt(ts, '>9.0f')} {ratio(r['samples_per_sec'], ts):>6} | "
          f"{r['decode_p99_ms']:>10.3f}ms {fmt(tp99, '>7.3f')} | {fmt(r['steps_to_target'], '>17')} {fmt(tsteps, '>6')}")
PY
echo "raw results in $out" >&2
