#!/usr/bin/env bash
# The CUDA issue's figures, in one run on a machine with a GPU: seconds per epoch of
# configs/fashion_mnist_mlp.json and configs/fashion_mnist_cnn.json on cuda:0 (data resident on the GPU, evaluation excluded) against
# PyTorch eager on the same GPU with the same model, batch size and optimizer
# (bench/torch_fashion_mlp.py ... cuda), and matmul throughput against a direct cuBLAS call
# (bench_cuda_matmul). EPOCHS each (default 5), medians (the first, warm-up epoch is one of them).
# Usage: bench/bench_cuda.sh [BUILD_DIR]   (TORCH_PYTHONS: Python interpreters with a CUDA torch)
set -euo pipefail
build=${1:-build}
epochs=${EPOCHS:-5}
torch_pythons=${TORCH_PYTHONS:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
data_dir=${DATA_DIR:-/usr/share/datasets/fashion-mnist}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if command -v nvidia-smi >/dev/null; then
  echo "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
fi
"$build/bin/bench_cuda_matmul" >"$out/matmul.tsv"
# epochs CONFIG NAME TORCH_SCRIPT: tinynn's epochs of CONFIG on cuda:0 as NAME, then PyTorch's same
# model (TORCH_SCRIPT) on the same GPU, one table.
epochs() {
  local config=$1 name=$2 torch_script=$3
  "$build/bin/tinynn" train "$here/../configs/$config" --run-dir "$out/$name" --device cuda \
    --set training.epochs="$epochs" --set data.dir="$data_dir" --set output.progress=none --set output.plot=false \
    --set output.checkpoints=false >/dev/null 2>&1
  sed -n "s/.*\"epoch\":\([0-9]*\).*\"samples_per_second\":\([0-9.e+]*\).*\"seconds\":\([0-9.e+]*\).*/$name\t\1\t\3\t\2/p" \
    "$out/$name/metrics.jsonl" >"$out/$name.tsv"
  for torch_python in $torch_pythons; do
    if "$torch_python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
      "$torch_python" "$here/$torch_script" "$epochs" "$data_dir" cuda >>"$out/$name.tsv"
    else
      echo "(no CUDA torch for $torch_python: skipped)" >&2
    fi
  done
  python3 "$here/epoch_table.py" "$out/$name.tsv" "$name"
  echo
}
epochs fashion_mnist_mlp.json tinynn_cuda_epoch torch_fashion_mlp.py
# The shipped CNN, its convolutions on cuDNN where the build has it.
epochs fashion_mnist_cnn.json tinynn_cuda_cnn_epoch torch_fashion_cnn.py
python3 - "$out/matmul.tsv" <<'PY'
import sys
mm = {}
for line in open(sys.argv[1]):
    name, shape, seconds, gflops = line.rstrip("\n").split("\t")
    mm.setdefault(shape, {})[name] = (float(seconds), float(gflops))
print("| shape (m x k x n) | cuBLAS direct GFLOP/s | tinynn GFLOP/s | tinynn / cuBLAS |")
print("|---|---|---|---|")
for shape, v in mm.items():
    if "cublas_direct" in v:
        d, t = v["cublas_direct"][1], v["tinynn_cuda_matmul"][1]
        print(f"| {shape} | {d:.0f} | {t:.0f} | {t / d:.2f} |")
for shape, v in mm.items():
    for name, (sec, _) in v.items():
        if not name.endswith("matmul") and name != "cublas_direct":
            print(f"\n{name}: {sec * 1e6:.2f} us per call")
PY
