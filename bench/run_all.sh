#!/usr/bin/env bash
# Runs every benchmark REPEATS times (default 3) side by side with PyTorch when one is
# installed, and prints the markdown tables that docs/benchmarks.md records.
# Usage: bench/run_all.sh [BUILD_DIR]   (environment: REPEATS, TORCH_PYTHON for the op benchmarks,
# TORCH_PYTHONS for the epoch table; see bench_epoch.sh)
set -euo pipefail
build=${1:-build}
repeats=${REPEATS:-3}
torch_python=${TORCH_PYTHON:-/usr/bin/python3}  # Debian's python3-torch lives here
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

have_torch=0
if "$torch_python" -c "import torch" 2>/dev/null; then have_torch=1; else echo "(PyTorch not found for $torch_python: tinynn and oneDNN only)" >&2; fi

for ((i = 1; i <= repeats; i++)); do
  echo "run $i/$repeats" >&2
  "$build/bin/bench_train_step" >>"$out/results.tsv"
  for bench in matmul autograd; do
    "$build/bin/bench_$bench" >>"$out/results.tsv"
    if [ "$have_torch" = 1 ]; then
      OMP_NUM_THREADS=$(nproc) "$torch_python" "$here/bench_${bench}_torch.py" >>"$out/results.tsv"
    fi
  done
done
python3 "$here/report.py" "$out/results.tsv"
echo
bash "$here/bench_epoch.sh" "$build"
echo
bash "$here/bench_inference.sh" "$build"
