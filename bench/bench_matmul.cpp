// Matmul throughput of tinynn::matmul against a direct oneDNN matmul call on the same shapes,
// and the per-call overhead of a 1-element add. Prints one TSV line per measurement:
//   name <tab> shape <tab> seconds_per_call <tab> GFLOP/s
#include <cstdio>
#include <string>

#include <tinynn/tinynn.h>

#include "bench_util.h"
#include "onednn_direct.h"

using namespace tinynn;
using tinynn::bench::median_seconds;

namespace {

using Shape3 = tinynn::bench::MatmulShape;
using tinynn::bench::DirectOnednnMatmul;

void report(const char* name, const Shape3& s, double seconds) {
  const double gflops = 2.0 * s.m * s.k * s.n / seconds / 1e9;
  std::printf("%s\t%lldx%lldx%lld%s\t%.9f\t%.2f\n", name, static_cast<long long>(s.m), static_cast<long long>(s.k),
              static_cast<long long>(s.n), s.transpose_a ? "^T" : "", seconds, gflops);
}

}  // namespace

int main(int argc, char** argv) {
  const int scale = argc > 1 ? std::stoi(argv[1]) : 1;  // repeats multiplier
  const Shape3 shapes[] = {{1024, 1024, 1024}, {2048, 2048, 2048}, {128, 784, 256}, {128, 256, 128},
                           {784, 128, 256, true}};
  Generator gen(0);
  for (const auto& s : shapes) {
    const bool big = s.m * s.k * s.n > (1ll << 28);
    Tensor a = s.transpose_a ? randn({s.k, s.m}, {}, &gen).t() : randn({s.m, s.k}, {}, &gen);
    Tensor b = randn({s.k, s.n}, {}, &gen);
    Tensor c = empty({s.m, s.n});
    DirectOnednnMatmul direct(s, a.data_ptr<float>(), b.data_ptr<float>(), c.data_ptr<float>());
    Tensor result;
    const auto [t_direct, t_tinynn] = tinynn::bench::interleaved_median_seconds(
        direct, [&] { result = matmul(a, b); }, (big ? 9 : 41) * scale, big ? 1 : 20);
    report("onednn_direct", s, t_direct);
    report("tinynn_matmul", s, t_tinynn);
  }
  // Per-op overhead: a 1-element add (allocation, broadcasting plan, dispatch, kernel).
  Tensor x = ones({1}), y = ones({1});
  Tensor z;
  const double t_add = median_seconds([&] { z = x + y; }, 21 * scale, 20000);
  std::printf("tinynn_add_1elem\t1\t%.9f\t0\n", t_add);
  const double t_add_scalar = median_seconds([&] { z = x + 1.0; }, 21 * scale, 20000);
  std::printf("tinynn_add_scalar_1elem\t1\t%.9f\t0\n", t_add_scalar);
  return 0;
}
