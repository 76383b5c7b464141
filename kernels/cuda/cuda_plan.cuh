// Turning a flat thread index into element offsets, for kernels that walk the backend's plans.
#pragma once
#include <cstdint>

#include <tinynn/core/backend.h>

#include "cuda_backend.h"

namespace tinynn::cuda {

// Element offset of row-major flat position i over `ndim` axes of the given shape and strides.
__device__ inline std::int64_t offset_of(std::int64_t i, int ndim, const std::int64_t* shape, const std::int64_t* strides) {
  std::int64_t off = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    off += (i % shape[d]) * strides[d];
    i /= shape[d];
  }
  return off;
}

// Every operand's offset at flat position `linear` of an elementwise plan.
template <int N>
__device__ void decode_offsets(const ElementwisePlan<N>& plan, std::int64_t linear, std::int64_t (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = plan.ndim - 1; d >= 0; --d) {
    const std::int64_t idx = linear % plan.shape[d];
    linear /= plan.shape[d];
    for (int k = 0; k < N; ++k) off[k] += idx * plan.strides[k][d];
  }
}

// True when 0 <= j < size; otherwise records {check, j, size} in the backend's error flag, unless
// an earlier bad index is already recorded there (the first one is kept whole), for the host to
// throw at its next wait for the GPU (CudaBackend::raise_index_errors).
__device__ inline bool index_in_range(std::int64_t j, std::int64_t size, IndexCheck check, std::int64_t* flag) {
  if (j >= 0 && j < size) return true;
  if (atomicCAS(reinterpret_cast<unsigned long long*>(flag), 0ull, static_cast<unsigned long long>(check)) == 0ull) {
    flag[1] = j;
    flag[2] = size;
  }
  return false;
}

inline unsigned blocks_for(std::int64_t n, unsigned threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

}  // namespace tinynn::cuda
