// CUDA fused optimizer update: one kernel launch covers all of a step's parameters (up to
// kMaxTensors per launch, passed by value), one thread per element, any rule of
// core/optimizer_math.h.
#include <tinynn/core/detail/dispatch.h>

#include <algorithm>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"

namespace tinynn::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kMaxTensors = 40;  // keeps the kernel's by-value argument under 4 KiB

struct OptimizerBatch {
  int count = 0;
  std::int64_t start[kMaxTensors + 1] = {};  // tensor k owns elements [start[k], start[k + 1])
  OptimizerTensors tensors[kMaxTensors];
};

template <class T>
__global__ void optimizer_kernel(OptimizerRule rule, OptimizerConstants<T> c, OptimizerBatch batch) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= batch.start[batch.count]) return;
  int lo = 0, hi = batch.count - 1;  // the last k with start[k] <= i
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (batch.start[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  optimizer_element(rule, c, batch.tensors[lo], i - batch.start[lo]);
}

}  // namespace

void CudaBackend::optimizer_step(const OptimizerStep& step, DType t, const OptimizerTensors* tensors, std::size_t count) {
  activate();
  for (std::size_t first = 0; first < count; first += kMaxTensors) {
    OptimizerBatch batch;
    batch.count = static_cast<int>(std::min<std::size_t>(kMaxTensors, count - first));
    for (int k = 0; k < batch.count; ++k) {
      batch.tensors[k] = tensors[first + static_cast<std::size_t>(k)];
      batch.start[k + 1] = batch.start[k] + batch.tensors[k].n;
    }
    const std::int64_t total = batch.start[batch.count];
    if (total == 0) continue;
    TINYNN_DISPATCH_FLOATING(t, {
      optimizer_kernel<T><<<blocks_for(total, kThreads), kThreads, 0, stream_>>>(step.rule, OptimizerConstants<T>(step), batch);
    })
    TINYNN_CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace tinynn::cuda

namespace tinynn::cuda {

double CudaBackend::penalty_gradients(DType, const PenaltyTensors*, std::size_t, double) {
  throw NotImplementedError("tinynn::penalty_gradients: not on CUDA yet (the penalty stays a loss term there)");
}

}  // namespace tinynn::cuda
