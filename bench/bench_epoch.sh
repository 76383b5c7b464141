#!/usr/bin/env bash
# Seconds per training epoch of configs/fashion_mnist_mlp.json (data loading included, evaluation
# excluded) for tinynn and for PyTorch (bench/torch_fashion_mlp.py), the same model, batch size,
# optimizer and threads; EPOCHS each (default 3), medians. In the same run, the epoch's matmul
# floor: the step's eight matmuls called directly through oneDNN (bench_train_step, before and
# after the epochs) times the steps of an epoch. Usage: bench/bench_epoch.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
epochs=${EPOCHS:-3}
torch_python=${TORCH_PYTHON:-/usr/bin/python3}
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
if "$torch_python" -c "import torch" 2>/dev/null; then
  OMP_NUM_THREADS=$threads "$torch_python" "$here/torch_fashion_mlp.py" "$epochs" >>"$out/results.tsv"
fi
python3 - "$out/results.tsv" "$out/floor.tsv" <<'PY'
import collections, math, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, epoch, seconds, rate = line.split("\t")
    rows[name].append((float(seconds), float(rate)))
ours = statistics.median(s for s, _ in rows["tinynn_epoch"])
print("| framework | seconds per epoch (median) | samples/s | tinynn speed-up |")
print("|---|---|---|---|")
for name, values in rows.items():
    sec = statistics.median(s for s, _ in values)
    rate = statistics.median(r for _, r in values)
    print(f"| {name.replace('_epoch', '')} | {sec:.2f} | {rate:.0f} | {sec / ours:.1f}x |")
steps = math.ceil(54000 / 128)  # the training split of 60,000 with validation_split 0.1, batch 128
floor = statistics.median(float(line.split("\t")[2]) for line in open(sys.argv[2])) * steps
print(f"| oneDNN floor: the epoch's matmuls ({steps} steps x 8) called directly | {floor:.2f} | | |")
print(f"\ntinynn epoch / matmul floor: {ours / floor:.2f}")
PY
