#!/usr/bin/env bash
# Data-parallel cost on one machine: the default config's epoch as 1 process x 2 threads against
# 2 MPI ranks x 1 thread (medians over EPOCHS epochs, default 5), and the all-reduce's time and
# bandwidth against Open MPI's own MPI_Allreduce for the same buffer (bench_allreduce).
# Usage: bench/bench_dist.sh [BUILD_DIR]   (needs a build with MPI: tinynn info says so)
set -euo pipefail
build=${1:-build}
epochs=${EPOCHS:-5}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # when run as root
"$build/bin/tinynn" info | grep -q "^MPI: *Open MPI" || { echo "(tinynn was built without MPI: skipped)" >&2; exit 0; }
median_epoch() {  # RUN_DIR: median seconds per epoch, the first (warm-up) epoch left out
  python3 -c "import json, statistics, sys; s = [json.loads(l)['seconds'] for l in open(sys.argv[1])][1:]; print(f'{statistics.median(s):.3f}')" \
    "$1/metrics.jsonl"
}
common=("$here/../configs/fashion_mnist_mlp.json" --set training.epochs="$epochs" --set output.progress=none
        --set output.plot=false)
"$build/bin/tinynn" train "${common[@]}" --run-dir "$out/one" --threads 2 >/dev/null 2>&1
mpirun -q --oversubscribe -np 2 "$build/bin/tinynn" train "${common[@]}" --run-dir "$out/two" --threads 1 >/dev/null 2>&1
one=$(median_epoch "$out/one") two=$(median_epoch "$out/two")
printf "setup\tseconds per epoch\n1 process x 2 threads\t%s\n2 ranks x 1 thread\t%s\nratio (2 ranks / 1 process)\t%s\n\n" \
  "$one" "$two" "$(python3 -c "print(f'{$two / $one:.2f}')")"
printf "what\tfloats\ttinynn s\tMPI_Allreduce s\ttinynn GB/s\n"
mpirun -q --oversubscribe -np 2 "$build/bin/bench_allreduce"
