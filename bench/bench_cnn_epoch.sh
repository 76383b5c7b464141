#!/usr/bin/env bash
# Seconds per training epoch of configs/fashion_mnist_cnn.json (data loading included, evaluation
# excluded) for tinynn and for each PyTorch in TORCH_PYTHONS (bench/torch_fashion_cnn.py: the same
# model, batch, optimizer, schedule and threads), EPOCHS each (default 2), medians; and in the same
# run the epoch's floor: one step's oneDNN primitives called directly (bench_conv's cnn_step_floor,
# before and after the epochs) times the steps of an epoch.
# Usage: bench/bench_cnn_epoch.sh [BUILD_DIR]
#   TORCH_PYTHONS: Python interpreters with torch, space-separated (default: /tmp/torchvenv/bin/python,
#   a throwaway venv with PyPI's torch: python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy)
set -euo pipefail
build=${1:-build}
epochs=${EPOCHS:-2}
torch_pythons=${TORCH_PYTHONS:-/tmp/torchvenv/bin/python}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
threads=$(nproc)
floor() { "$build/bin/bench_conv" 9 | awk -F'\t' '$1 == "cnn_step_floor" { printf "cnn_step_floor\t-\t%.9f\n", $3 / 1000 }'; }

floor >"$out/floor.tsv"
"$build/bin/tinynn" train "$here/../configs/fashion_mnist_cnn.json" --run-dir "$out/run" --threads "$threads" \
  --set training.epochs="$epochs" --set output.progress=none --set output.plot=false --set output.checkpoints=false >/dev/null 2>&1
sed -n 's/.*"epoch":\([0-9]*\).*"samples_per_second":\([0-9.e+]*\).*"seconds":\([0-9.e+]*\).*/tinynn_cnn_epoch\t\1\t\3\t\2/p' \
  "$out/run/metrics.jsonl" >"$out/results.tsv"
floor >>"$out/floor.tsv"
for torch_python in $torch_pythons; do
  if "$torch_python" -c "import torch" 2>/dev/null; then
    OMP_NUM_THREADS=$threads "$torch_python" "$here/torch_fashion_cnn.py" "$epochs" >>"$out/results.tsv"
  else
    echo "(no torch for $torch_python: skipped; see the usage line above)" >&2
  fi
done
python3 "$here/epoch_table.py" "$out/results.tsv" tinynn_cnn_epoch "$out/floor.tsv" \
  "one step's convolutions and matmuls called directly, times {steps} steps"
