// CUDA bias + activation (see BiasActivationPlan). Forward: one thread per element. Backward: a
// block per 32 neighbouring columns (reads coalesce along a row) whose 16 row lanes take every
// 16th row, writing the input's gradient and summing the bias's in double; the lanes' partial
// sums are added in a fixed tree, so results do not vary between runs.
#include <tinynn/core/detail/dispatch.h>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"

namespace tinynn::cuda {

namespace {

constexpr unsigned kThreads = 256;

// x, y [rows, features], bias [features]
template <class Op, class T>
__global__ void bias_activation_kernel(BiasActivationPlan plan, std::int64_t n, T* y, const T* x, const T* bias) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = Op::template f<T>(x[i] + bias[i % plan.features], plan.params);
}

constexpr int kColumns = 32, kRowLanes = 16;  // the backward's block

// g, x, y, gx [rows, features], bias, gbias [features]
template <class Op, class T>
__global__ void bias_activation_backward_kernel(BiasActivationPlan plan, T* gx, T* gbias, const T* g, const T* x,
                                                const T* bias, const T* y) {
  __shared__ double partial[kRowLanes][kColumns];
  const int column = static_cast<int>(threadIdx.x), lane = static_cast<int>(threadIdx.y);
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * kColumns + column;
  double acc = 0.0;
  if (c < plan.features) {
    const T b = bias[c];
    for (std::int64_t r = lane; r < plan.rows; r += kRowLanes) {
      const std::int64_t i = r * plan.features + c;
      const T d = g[i] * Op::template df<T>(x[i] + b, y[i], plan.params);
      gx[i] = d;
      acc += static_cast<double>(d);
    }
  }
  partial[lane][column] = acc;
  __syncthreads();
  for (int s = kRowLanes / 2; s > 0; s /= 2) {
    if (lane < s) partial[lane][column] += partial[lane + s][column];
    __syncthreads();
  }
  if (lane == 0 && c < plan.features) gbias[c] = static_cast<T>(partial[0][column]);
}

template <class T>
void forward_any(cudaStream_t stream, const BiasActivationPlan& plan, T* y, const T* x, const T* bias) {
  const std::int64_t n = plan.rows * plan.features;
  switch (plan.op) {
#define TINYNN_CASE(Name, name)                                                                                     \
  case UnaryOp::Name:                                                                                               \
    bias_activation_kernel<pointwise::Name, T><<<blocks_for(n, kThreads), kThreads, 0, stream>>>(plan, n, y, x, bias); \
    break;
    TINYNN_UNARY_OPS(TINYNN_CASE)
#undef TINYNN_CASE
  }
}

template <class T>
void backward_any(cudaStream_t stream, const BiasActivationPlan& plan, T* gx, T* gbias, const T* g, const T* x, const T* bias,
                  const T* y) {
  const unsigned blocks = blocks_for(plan.features, kColumns);
  const dim3 threads(kColumns, kRowLanes);
  switch (plan.op) {
#define TINYNN_CASE(Name, name)                                                               \
  case UnaryOp::Name:                                                                         \
    bias_activation_backward_kernel<pointwise::Name, T><<<blocks, threads, 0, stream>>>(plan, gx, gbias, g, x, bias, y); \
    break;
    TINYNN_UNARY_OPS(TINYNN_CASE)
#undef TINYNN_CASE
  }
}

}  // namespace

void CudaBackend::bias_activation(const BiasActivationPlan& plan, DType t, void* y, const void* x, const void* bias) {
  if (plan.rows * plan.features == 0) return;
  activate();
  TINYNN_DISPATCH_FLOATING(t, forward_any(stream_, plan, static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(bias)))
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

void CudaBackend::bias_activation_backward(const BiasActivationPlan& plan, DType t, void* gx, void* gbias, const void* g,
                                           const void* x, const void* bias, const void* y) {
  if (plan.rows * plan.features == 0) return;
  activate();
  TINYNN_DISPATCH_FLOATING(t, backward_any(stream_, plan, static_cast<T*>(gx), static_cast<T*>(gbias), static_cast<const T*>(g),
                                           static_cast<const T*>(x), static_cast<const T*>(bias), static_cast<const T*>(y)))
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace tinynn::cuda
