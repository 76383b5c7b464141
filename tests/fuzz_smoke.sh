#!/usr/bin/env bash
# The fuzz targets inside the test suite. Usage:
#   fuzz_smoke.sh build SOURCE_DIR FUZZ_BUILD_DIR         configure + build the targets with clang
#   fuzz_smoke.sh run SOURCE_DIR FUZZ_BUILD_DIR TARGET SECONDS
# A run replays the committed regression inputs, then fuzzes from the seed corpus for SECONDS.
set -euo pipefail
mode=$1 src=$2 dir=$3
if [ "$mode" = build ]; then
  command -v clang++ >/dev/null || { echo "clang++ not found: run scripts/install-deps.sh" >&2; exit 1; }
  cmake -S "$src" -B "$dir" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINYNN_FUZZ=ON \
    -DTINYNN_ONEDNN=OFF -DTINYNN_CUDA=OFF -DTINYNN_BUILD_TESTS=OFF -DTINYNN_BUILD_BENCH=OFF -DTINYNN_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$dir" -j "$(nproc)"
  exit 0
fi
target=$4 seconds=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
short=${target#fuzz_}
regressions=()
for f in "$src"/fuzz/regressions/"$short"_*; do [ -e "$f" ] && regressions+=("$f"); done
if [ ${#regressions[@]} -gt 0 ]; then "$dir/bin/$target" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 "${regressions[@]}"; fi
"$dir/bin/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work" "$src/fuzz/corpus/$short" 2>&1 | grep -E "stat::number_of_executed_units|ERROR|SUMMARY" || true
if ls "$work"/crash-* "$work"/oom-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
  echo "FAILED: $target found a crashing input" >&2
  exit 1
fi
echo "PASSED: $target ran ${seconds}s clean"
