#!/usr/bin/env bash
# Batch inference on the Fashion-MNIST test set (10000 images, batch 256, every core): tinynn's
# Predictor (bench_predict) against ONNX Runtime running the model `tinynn export` wrote, for the
# shipped MLP and CNN configs; medians of 7 repeats each, in one run. The models train for one
# epoch on 5000 images first (accuracy does not matter here; the shapes do).
# Usage: bench/bench_inference.sh [BUILD_DIR]
#   ORT_PYTHON: a Python with onnxruntime (default: a venv made in BUILD_DIR/onnx-venv, as the tests do)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
threads=$(nproc)
python=${ORT_PYTHON:-$build/onnx-venv/bin/python}
if ! "$python" -c "import onnxruntime" 2>/dev/null; then
  { /usr/bin/python3 -m venv --system-site-packages "$build/onnx-venv" && "$build/onnx-venv/bin/pip" install -q onnxruntime; } \
      || { echo "(ONNX Runtime could not be installed from PyPI: inference table skipped)" >&2; exit 0; }
  python=$build/onnx-venv/bin/python
fi
printf "model\tsamples\ttinynn s\tONNX Runtime s\tONNX Runtime / tinynn\n"
for config in fashion_mnist_mlp fashion_mnist_cnn; do
  "$build/bin/tinynn" train "$here/../configs/$config.json" --run-dir "$out/$config" --set training.epochs=1 \
      --set data.max_train=5000 --set output.progress=none --set output.plot=false >/dev/null 2>&1
  "$build/bin/tinynn" export "$out/$config/last.safetensors" -o "$out/$config.onnx" >/dev/null
  ours=$("$build/bin/bench_predict" "$out/$config/last.safetensors" 256 | cut -f3)
  theirs=$(OMP_NUM_THREADS=$threads "$python" - "$out/$config.onnx" "$threads" <<'PY'
import gzip, statistics, sys, time
import numpy as np, onnxruntime as ort
raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:]
x = np.frombuffer(raw, np.uint8).astype(np.float32).reshape(-1, 1, 28, 28)
options = ort.SessionOptions()
options.intra_op_num_threads = int(sys.argv[2])
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
def run():
    for i in range(0, len(x), 256):
        session.run(["probabilities"], {"input": x[i:i + 256]})
run(), run()
times = []
for _ in range(7):
    start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
print(f"{statistics.median(times):.6f}")
PY
)
  awk -v m="$config" -v a="$ours" -v b="$theirs" 'BEGIN { printf "%s\t10000\t%.4f\t%.4f\t%.2f\n", m, a, b, b / a }'
done
