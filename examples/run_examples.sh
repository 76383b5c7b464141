#!/usr/bin/env bash
# Builds and runs the examples: the custom training loop (in-tree), and the embedding example
# against an installed tinynn (installed into build/prefix first). Run from the repository root
# after `make build` (or let it build): bash examples/run_examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/bin/tinynn ] || make build
cmake --build build -j "$(nproc)" --target custom_loop linalg_tour
echo "== linear-algebra tour"
build/bin/linalg_tour
echo "== custom training loop (spirals)"
build/bin/custom_loop
echo "== embedding: install tinynn, build examples/embed against it, train 2 epochs"
cmake --install build --prefix build/prefix >/dev/null
cmake -S examples/embed -B build/embed -DCMAKE_PREFIX_PATH="$PWD/build/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/embed -j "$(nproc)" >/dev/null
build/embed/train_mlp /usr/share/datasets/fashion-mnist 2
echo "== the tinynn command on the XOR config"
build/bin/tinynn train configs/xor.json --set output.progress=none --run-dir build/runs/xor --overwrite
