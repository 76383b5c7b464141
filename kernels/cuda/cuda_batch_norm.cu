// CUDA batch normalization (see BatchNormPlan): a block per channel sums in double over the
// channel's N * inner values (threads stride through them; the partial sums meet in a fixed tree,
// so results do not vary between runs); applying is one thread per element.
#include <tinynn/core/detail/dispatch.h>

#include "../common/batch_norm_math.h"
#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"

namespace tinynn::cuda {

namespace {

constexpr unsigned kThreads = 256;

// The block's sum of `v` (every thread gets it).
__device__ double block_sum(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = kThreads / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();
  return total;
}

__device__ std::int64_t channel_index(const BatchNormPlan& p, std::int64_t c, std::int64_t j) {
  return (j / p.inner * p.c + c) * p.inner + j % p.inner;
}

template <class T>
__global__ void stats_kernel(BatchNormPlan p, T* mean, T* var, T* invstd, const T* x) {
  __shared__ double shared[kThreads];
  const std::int64_t c = blockIdx.x, count = p.n * p.inner;
  double s = 0;
  for (std::int64_t j = threadIdx.x; j < count; j += kThreads) s += static_cast<double>(x[channel_index(p, c, j)]);
  const double m = block_sum(s, shared) / static_cast<double>(count);
  double q = 0;
  for (std::int64_t j = threadIdx.x; j < count; j += kThreads) {
    const double d = static_cast<double>(x[channel_index(p, c, j)]) - m;
    q += d * d;
  }
  const double v = block_sum(q, shared) / static_cast<double>(count);
  if (threadIdx.x == 0) mean[c] = static_cast<T>(m), var[c] = static_cast<T>(v), invstd[c] = static_cast<T>(rsqrt(v + p.eps));
}

template <class T>
__global__ void apply_kernel(BatchNormPlan p, std::int64_t total, T* y, const T* x, const T* mean, const T* invstd,
                             const T* weight, const T* bias) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const std::int64_t c = i / p.inner % p.c;
  const auto a = batch_norm_math::fold(mean[c], invstd[c], weight, bias, c);
  y[i] = x[i] * a.scale + a.shift;
}

template <class T>
__global__ void backward_kernel(BatchNormPlan p, T* gx, T* gweight, T* gbias, const T* g, const T* x, const T* mean,
                                const T* invstd, const T* weight) {
  __shared__ double shared[kThreads];
  const std::int64_t c = blockIdx.x, count = p.n * p.inner;
  const double m = static_cast<double>(mean[c]), is = static_cast<double>(invstd[c]);
  double sg = 0, sgx = 0;
  for (std::int64_t j = threadIdx.x; j < count; j += kThreads) {
    const std::int64_t i = channel_index(p, c, j);
    sg += static_cast<double>(g[i]);
    sgx += static_cast<double>(g[i]) * (static_cast<double>(x[i]) - m);
  }
  const double sum_g = block_sum(sg, shared), sum_gxhat = block_sum(sgx, shared) * is;
  if (threadIdx.x == 0) {
    if (gbias) gbias[c] = static_cast<T>(sum_g);
    if (gweight) gweight[c] = static_cast<T>(sum_gxhat);
  }
  if (!gx) return;
  const double scale = is * (weight ? static_cast<double>(weight[c]) : 1.0);
  const auto k = batch_norm_math::input_grad(scale, m, is, sum_g, sum_gxhat, static_cast<double>(count), p.batch_statistics);
  const T dg = static_cast<T>(k.dg), dx = static_cast<T>(k.dx), d0 = static_cast<T>(k.d0);
  for (std::int64_t j = threadIdx.x; j < count; j += kThreads) {
    const std::int64_t i = channel_index(p, c, j);
    gx[i] = dg * g[i] + dx * x[i] + d0;
  }
}

}  // namespace

void CudaBackend::batch_norm_stats(const BatchNormPlan& plan, DType t, void* mean, void* var, void* invstd, const void* x) {
  if (plan.c == 0) return;
  activate();
  TINYNN_DISPATCH_FLOATING(t, stats_kernel<T><<<static_cast<unsigned>(plan.c), kThreads, 0, stream_>>>(
                                  plan, static_cast<T*>(mean), static_cast<T*>(var), static_cast<T*>(invstd), static_cast<const T*>(x)))
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

void CudaBackend::batch_norm_apply(const BatchNormPlan& plan, DType t, void* y, const void* x, const void* mean,
                                   const void* invstd, const void* weight, const void* bias) {
  const std::int64_t total = plan.n * plan.c * plan.inner;
  if (total == 0) return;
  activate();
  TINYNN_DISPATCH_FLOATING(t, apply_kernel<T><<<blocks_for(total, kThreads), kThreads, 0, stream_>>>(
                                  plan, total, static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(mean),
                                  static_cast<const T*>(invstd), static_cast<const T*>(weight), static_cast<const T*>(bias)))
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

void CudaBackend::batch_norm_backward(const BatchNormPlan& plan, DType t, void* gx, void* gweight, void* gbias, const void* g,
                                      const void* x, const void* mean, const void* invstd, const void* weight) {
  if (plan.c == 0) return;
  activate();
  TINYNN_DISPATCH_FLOATING(t, backward_kernel<T><<<static_cast<unsigned>(plan.c), kThreads, 0, stream_>>>(
                                  plan, static_cast<T*>(gx), static_cast<T*>(gweight), static_cast<T*>(gbias),
                                  static_cast<const T*>(g), static_cast<const T*>(x), static_cast<const T*>(mean),
                                  static_cast<const T*>(invstd), static_cast<const T*>(weight)))
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace tinynn::cuda

namespace tinynn::cuda {

// The conv block is composed of its four ops on the GPU (cuDNN's fused paths are not used yet).
ConvBlockSizes CudaBackend::conv_block_sizes(const ConvBlockPlan&) { return {}; }

void CudaBackend::conv_block_forward(const ConvBlockPlan&, void*, void*, void*, void* const*, const void*, const void*,
                                     const void*, const void*, const void*, const ChannelBlockedArgs&) {
  throw NotImplementedError("tinynn::conv_block: the CUDA backend composes the block (conv_block_sizes says so)");
}

void CudaBackend::conv_block_backward(const ConvBlockPlan&, void*, void*, void*, void*, void*, const void*, const void* const*,
                                      const void*, const void*, const void*, const void*, const void*, const void*,
                                      const ChannelBlockedArgs&) {
  throw NotImplementedError("tinynn::conv_block: the CUDA backend composes the block (conv_block_sizes says so)");
}

}  // namespace tinynn::cuda
