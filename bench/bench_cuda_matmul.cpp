// GPU matmul throughput of tinynn::matmul against a direct cuBLAS call (cublasSgemm on buffers
// made once) on the same shapes, and the per-op overhead of a 1-element add on the GPU. Needs a
// GPU; prints one TSV line per measurement like bench_matmul:
//   name <tab> shape <tab> seconds_per_call <tab> GFLOP/s
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <tinynn/core/backend.h>
#include <tinynn/tinynn.h>

#include "bench_util.h"

using namespace tinynn;

namespace {

struct GemmShape {
  std::int64_t m, k, n;
  bool transpose_a = false;  // A read through a transposed view (the weight gradient X^T dY)
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "bench_cuda_matmul: %s failed\n", what);
    std::exit(1);
  }
}

void report(const char* name, const GemmShape& s, double seconds) {
  std::printf("%s\t%lldx%lldx%lld%s\t%.9f\t%.2f\n", name, static_cast<long long>(s.m), static_cast<long long>(s.k),
              static_cast<long long>(s.n), s.transpose_a ? "^T" : "", seconds, 2.0 * s.m * s.k * s.n / seconds / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  if (!cuda_available()) {
    std::fprintf(stderr, "bench_cuda_matmul: no CUDA device (%s)\n", build_summary().c_str());
    return 1;
  }
  const int scale = argc > 1 ? std::stoi(argv[1]) : 1;
  const Device gpu = Device::cuda(0);
  Backend& backend = backend_for(gpu);
  cublasHandle_t handle;
  check(cublasCreate(&handle) == CUBLAS_STATUS_SUCCESS, "cublasCreate");
  const GemmShape shapes[] = {{1024, 1024, 1024}, {4096, 4096, 4096}, {128, 784, 256}, {128, 256, 128}, {784, 128, 256, true}};
  Generator gen(0);
  for (const auto& s : shapes) {
    Tensor a = s.transpose_a ? randn({s.k, s.m}, {}, &gen).to(gpu).t() : randn({s.m, s.k}, {}, &gen).to(gpu);
    Tensor b = randn({s.k, s.n}, {}, &gen).to(gpu);
    Tensor c = empty({s.m, s.n}, DType::Float32, gpu);
    // Row-major C = A B as column-major C^T = B^T A^T (what tinynn's backend does too).
    const float one = 1.0f, zero = 0.0f;
    const auto* pa = static_cast<const float*>(a.raw_data());
    const auto* pb = static_cast<const float*>(b.raw_data());
    auto* pc = static_cast<float*>(c.raw_data());
    const int lda = static_cast<int>(s.transpose_a ? s.m : s.k);
    auto direct = [&] {
      cublasSgemm(handle, CUBLAS_OP_N, s.transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(s.n), static_cast<int>(s.m),
                  static_cast<int>(s.k), &one, pb, static_cast<int>(s.n), pa, lda, &zero, pc, static_cast<int>(s.n));
      cudaDeviceSynchronize();
    };
    Tensor result;
    auto ours = [&] {
      result = matmul(a, b);
      backend.synchronize();
    };
    const bool big = s.m * s.k * s.n > (1ll << 30);
    const auto [t_direct, t_tinynn] = bench::interleaved_median_seconds(direct, ours, 21 * scale, big ? 5 : 50);
    report("cublas_direct", s, t_direct);
    report("tinynn_cuda_matmul", s, t_tinynn);
  }
  Tensor x = ones({1}, {DType::Float32, gpu}), y = ones({1}, {DType::Float32, gpu}), z;
  const double t_add = bench::median_seconds([&] { z = x + y; }, 21 * scale, 20000);
  backend.synchronize();
  std::printf("tinynn_cuda_add_1elem\t1\t%.9f\t0\n", t_add);
  cublasDestroy(handle);
  return 0;
}
