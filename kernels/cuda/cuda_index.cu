// CUDA gather and scatter_add: one thread per index element. A bad index is recorded in the
// backend's error flag and raised at the host's next wait for the GPU (with the CPU backend's
// message); its element is left unwritten.
// scatter_add adds with atomics, so colliding float indices may sum in any order (the CPU sums
// them in a fixed order).
#include <tinynn/core/detail/dispatch.h>
#include <tinynn/core/error.h>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"

namespace tinynn::cuda {

namespace {

constexpr unsigned kThreads = 256;

template <class T>
__device__ void atomic_add(T* address, T value) {
  if constexpr (std::is_same_v<T, std::int64_t>)  // two's complement: the unsigned sum is the signed one
    atomicAdd(reinterpret_cast<unsigned long long*>(address), static_cast<unsigned long long>(value));
  else
    atomicAdd(address, value);
}

// Operands of plan.iter: the direct tensor (gather: out, scatter: src), the index, and the
// addressed tensor with 0 on the axis (gather: src, scatter: out).
template <class T, bool kScatter>
__global__ void index_kernel(IndexPlan plan, std::int64_t n, T* out, const std::int64_t* index, const T* src,
                             std::int64_t* flag) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  std::int64_t off[3];
  decode_offsets(plan.iter, i, off);
  const std::int64_t j = index[off[1]];
  if (!index_in_range(j, plan.axis_size, index_check_of(plan.caller), flag)) return;
  if constexpr (kScatter) atomic_add(out + off[2] + j * plan.axis_stride, src[off[0]]);
  else out[off[0]] = src[off[2] + j * plan.axis_stride];
}

template <bool kScatter>
void launch_index(CudaBackend& be, const IndexPlan& plan, DType t, void* out, const std::int64_t* index, const void* src,
                  std::int64_t* flag) {
  const std::int64_t n = plan.iter.numel();
  auto go = [&](auto tag) {
    using T = decltype(tag);
    index_kernel<T, kScatter><<<blocks_for(n, kThreads), kThreads, 0, be.stream()>>>(plan, n, static_cast<T*>(out), index,
                                                                                      static_cast<const T*>(src), flag);
  };
  if constexpr (kScatter) {
    TINYNN_DISPATCH_NUMERIC(t, go(T{}))
  } else {
    TINYNN_DISPATCH_ALL(t, go(T{}))
  }
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void CudaBackend::gather(const IndexPlan& plan, DType t, void* out, const std::int64_t* index, const void* src) {
  if (plan.iter.numel() == 0) return;
  activate();
  launch_index<false>(*this, plan, t, out, index, src, error_flag_);
}

void CudaBackend::scatter_add(const IndexPlan& plan, DType t, void* out, const std::int64_t* index, const void* src) {
  if (plan.iter.numel() == 0) return;
  if (t == DType::Bool) throw NotImplementedError("tinynn::scatter_add: bool tensors are not supported on CUDA");
  if (plan.zero_rows) fill(index_plan_rows(plan), t, out, 0.0);  // on the same stream, before the adds
  activate();
  launch_index<true>(*this, plan, t, out, index, src, error_flag_);
}

}  // namespace tinynn::cuda
