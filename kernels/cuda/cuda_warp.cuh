// Warp-level building blocks shared by the CUDA reductions and fused row kernels: a warp of 32
// lanes combines its values with shuffles, no shared memory.
#pragma once
#include <cuda_runtime.h>

namespace tinynn::cuda {

constexpr int kWarp = 32;

template <class T>
__device__ T warp_sum(T v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// A NaN in any lane wins, as in the CPU max.
template <class T>
__device__ T warp_max(T v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    const T other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = (other > v || other != other) && v == v ? other : v;
  }
  return v;
}

}  // namespace tinynn::cuda
