#!/usr/bin/env bash
# Seconds per training epoch of configs/fashion_mnist_mlp.json (data loading included, evaluation
# excluded) for tinynn and for each PyTorch in TORCH_PYTHONS (bench/torch_fashion_mlp.py), the same
# model, batch size, optimizer and threads; EPOCHS each (default 3), medians. In the same run, the
# epoch's matmul floor: the step's eight matmuls called directly through oneDNN (bench_train_step,
# before and after the epochs) times the steps of an epoch.
# Usage: bench/bench_epoch.sh [BUILD_DIR]
#   TORCH_PYTHONS: Python interpreters with torch, space-separated (default: Debian's /usr/bin/python3;
#   add a venv's python with a PyPI torch to compare the current release too)
set -euo pipefail
build=${1:-build}
epochs=${EPOCHS:-3}
torch_pythons=${TORCH_PYTHONS:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
threads=$(nproc)

"$build/bin/bench_train_step" | grep matmul_floor >"$out/floor.tsv"
"$build/bin/tinynn" train "$here/../configs/fashion_mnist_mlp.json" --run-dir "$out/run" --threads "$threads" \
  --set training.epochs="$epochs" --set output.progress=none --set output.plot=false --set output.checkpoints=false \
  --set data.validation_split=0.1 >/dev/null 2>&1
sed -n 's/.*"epoch":\([0-9]*\).*"samples_per_second":\([0-9.e+]*\).*"seconds":\([0-9.e+]*\).*/tinynn_epoch\t\1\t\3\t\2/p' \
  "$out/run/metrics.jsonl" >"$out/results.tsv"
"$build/bin/bench_train_step" | grep matmul_floor >>"$out/floor.tsv"
for torch_python in $torch_pythons; do
  if "$torch_python" -c "import torch" 2>/dev/null; then
    OMP_NUM_THREADS=$threads "$torch_python" "$here/torch_fashion_mlp.py" "$epochs" >>"$out/results.tsv"
  else
    echo "(no torch for $torch_python: skipped)" >&2
  fi
done
python3 "$here/epoch_table.py" "$out/results.tsv" tinynn_epoch "$out/floor.tsv"
