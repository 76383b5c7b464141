// The matmul floor of one MLP training step: its forward, weight-gradient and input-gradient
// matmuls called directly through oneDNN (bench/onednn_direct.h), median of repeats.
// Usage: bench_mlp_floor BATCH SIZE0 SIZE1 ... (784 256 128 10) -> prints seconds per step.
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.h"
#include "onednn_direct.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_mlp_floor BATCH SIZE0 SIZE1 [SIZE2 ...]\n");
    return 2;
  }
  const std::int64_t batch = std::stoll(argv[1]);
  std::vector<std::int64_t> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::stoll(argv[i]));
  tinynn::bench::MlpMatmulFloor floor(batch, sizes);
  std::printf("%.9f\n", tinynn::bench::median_seconds(floor, 21, 5, 5));
  return 0;
}
