#!/usr/bin/env bash
# CPU speed at every scale: plain MLPs (ReLU, SGD momentum 0.9, lr 0.01, cross-entropy, all 60,000
# Fashion-MNIST samples, no dropout, no validation) from width 64 to 2048 and batch 16 to 1024,
# tinynn against PyTorch (bench/torch_mlp_sweep.py, the same model, data, batch and threads) and
# against the row's own matmul floor (bench_mlp_floor: one step's matmuls called directly through
# oneDNN, times the steps of an epoch). Best of EPOCHS epochs (default 2) each, in one run; prints
# a markdown table. The CNN configs have their own: bench/bench_cnn_epoch.sh.
# Usage: [ROWS=...] [EPOCHS=2] bench/bench_sweep.sh [BUILD_DIR]   (TORCH_PYTHON: a Python with torch; default the
#   throwaway venv /tmp/torchvenv: python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy)
set -euo pipefail
build=${1:-build}
epochs=${EPOCHS:-2}
torch_python=${TORCH_PYTHON:-/tmp/torchvenv/bin/python}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
threads=$(nproc)
have_torch=1
"$torch_python" -c "import torch" 2>/dev/null || { have_torch=0; echo "(no torch for $torch_python: PyTorch column empty)" >&2; }
# hidden layers, batch
rows=("64 32" "64 1024" "256,128 16" "256,128 128" "256,128 1024" "1024,1024 16" "1024,1024 256" "2048,2048,2048 512")
# ROWS="1024,1024 16;64 32" runs only those rows (hidden layers and batch, separated by ;).
if [ -n "${ROWS:-}" ]; then IFS=';' read -r -a rows <<<"$ROWS"; fi
echo "| hidden layers | batch | tinynn samples/s | PyTorch samples/s | tinynn / PyTorch | floor samples/s | tinynn epoch / floor |"
echo "|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
  read -r hidden batch <<<"$row"
  layers=$(python3 -c "import json, sys; print(json.dumps([x for h in sys.argv[1].split(',') for x in ({'type': 'linear', 'units': int(h)}, {'type': 'relu'})] + [{'type': 'linear'}]))" "$hidden")
  cat >"$out/config.json" <<JSON
{"model": {"layers": $layers}, "loss": {"type": "cross_entropy"},
 "optimizer": {"type": "sgd", "lr": 0.01, "momentum": 0.9}, "scheduler": {"type": "none"},
 "data": {"type": "idx", "dir": "/usr/share/datasets/fashion-mnist", "validation_split": 0},
 "training": {"epochs": $epochs, "batch_size": $batch}, "output": {"checkpoints": false, "plot": false, "progress": "none"}}
JSON
  rm -rf "$out/run"
  "$build/bin/tinynn" train "$out/config.json" --run-dir "$out/run" --threads "$threads" >/dev/null 2>&1
  ours=$(python3 -c "import json, sys; print(max(json.loads(l)['samples_per_second'] for l in open(sys.argv[1])))" "$out/run/metrics.jsonl")
  theirs=nan
  [ "$have_torch" = 1 ] && theirs=$(OMP_NUM_THREADS=$threads "$torch_python" "$here/torch_mlp_sweep.py" "$hidden" "$batch" "$epochs")
  floor_step=$("$build/bin/bench_mlp_floor" "$batch" 784 ${hidden//,/ } 10)
  python3 - "$hidden" "$batch" "$ours" "$theirs" "$floor_step" <<'PY'
import math, sys
hidden, batch, ours, theirs, step = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
steps = math.ceil(60000 / batch)
floor = 60000 / (steps * step)
ratio = f"{ours / theirs:.2f}" if theirs == theirs else "-"
print(f"| {hidden} | {batch} | {ours:,.0f} | {'-' if theirs != theirs else f'{theirs:,.0f}'} | {ratio} | {floor:,.0f} | {floor / ours:.2f} |")
PY
done
