// CUDA Philox draws: one thread per Philox block, writing the block's two or four elements with
// the same random_draw functions as the CPU, so a seed gives the same numbers on both devices.
#include <tinynn/core/detail/dispatch.h>
#include <tinynn/core/random.h>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"

namespace tinynn::cuda {

namespace {

template <class T>
__global__ void random_kernel(RandomPlan plan, std::int64_t blocks, T* out) {
  namespace rd = random_draw;
  const std::int64_t b = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= blocks) return;
  std::uint32_t w[4];
  philox4x32(plan.seed, plan.counter + static_cast<std::uint64_t>(b), w);
  if (plan.distribution == RandomDistribution::Normal) {
    for (int k = 0; k < 2 && 2 * b + k < plan.n; ++k) out[2 * b + k] = static_cast<T>(rd::normal(w[0], w[1], k));
    return;
  }
  for (int k = 0; k < 4 && 4 * b + k < plan.n; ++k) {
    const std::uint32_t bits = w[k];
    double v = 0.0;
    switch (plan.distribution) {
      case RandomDistribution::Uniform: v = rd::unit_uniform(bits); break;
      case RandomDistribution::Integers: v = rd::integer(bits, plan.low, plan.span); break;
      case RandomDistribution::Bernoulli: v = rd::bernoulli_hit(bits, plan.threshold) ? plan.value : 0.0; break;
      case RandomDistribution::Normal: break;
    }
    out[4 * b + k] = static_cast<T>(v);
  }
}

}  // namespace

void CudaBackend::random(const RandomPlan& plan, DType t, void* out) {
  const auto blocks = static_cast<std::int64_t>(plan.blocks());
  if (blocks == 0) return;
  activate();
  constexpr unsigned kThreads = 256;
  TINYNN_DISPATCH_ALL(t, random_kernel<T><<<blocks_for(blocks, kThreads), kThreads, 0, stream_>>>(plan, blocks, static_cast<T*>(out)))
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace tinynn::cuda
