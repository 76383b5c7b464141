// CUDA reductions and scans. A reduction runs one block per output: the block's threads stride
// over the inner block, then combine in shared memory in a fixed tree, so results do not vary
// from run to run. Sums and products over few outputs with long inner blocks (a gradient norm's
// sum of squares, say) are split: blocks cover fixed slices of the inner block and a second
// kernel combines their partial results in a fixed tree, so one output does not leave all but
// one multiprocessor idle. Floating sums accumulate in double, like the CPU's. A scan runs one
// thread per line.
#include <tinynn/core/detail/dispatch.h>

#include <algorithm>
#include <type_traits>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"

namespace tinynn::cuda {

namespace {

constexpr int kMaxReduceThreads = 256;

template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;

template <class T>
__device__ bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return v != v;
  else return false;
}

constexpr std::int64_t kSliceElements = 8192;  // inner elements per block of a split reduction
constexpr std::int64_t kMaxSlices = 256;       // partial results per output (one finishing block's threads)
constexpr std::int64_t kSplitOutputsBelow = 64;

// The block's per-thread accumulators combined in a fixed tree; the result in partial[0].
template <class A>
__device__ void combine_block(A* partial, A acc, bool product) {
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
    if (threadIdx.x < s)
      partial[threadIdx.x] = product ? partial[threadIdx.x] * partial[threadIdx.x + s] : partial[threadIdx.x] + partial[threadIdx.x + s];
    __syncthreads();
  }
}

// Sum, SumSquares, Prod over the inner block of in[o], o = blockIdx.x. With gridDim.y == 1 the
// block covers all of it and writes out[o]; else block (o, s) covers slice s ([s * slice,
// (s + 1) * slice)) and writes its partial result to partials[o * gridDim.y + s].
template <class T, class O>
__global__ void sum_kernel(ReduceOp op, ReducePlan plan, std::int64_t inner_n, std::int64_t slice, O* out, const T* in,
                           Acc<T>* partials) {
  __shared__ Acc<T> partial[kMaxReduceThreads];
  const std::int64_t o = blockIdx.x;
  const T* base = in + offset_of(o, plan.outer_ndim, plan.outer_shape, plan.in_outer_strides);
  const bool product = op == ReduceOp::Prod, squares = op == ReduceOp::SumSquares;
  const std::int64_t begin = static_cast<std::int64_t>(blockIdx.y) * slice;
  const std::int64_t end = begin + slice < inner_n ? begin + slice : inner_n;
  Acc<T> acc = product ? 1 : 0;
  for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const auto v = static_cast<Acc<T>>(base[offset_of(i, plan.inner_ndim, plan.inner_shape, plan.in_inner_strides)]);
    acc = product ? acc * v : acc + (squares ? v * v : v);
  }
  combine_block(partial, acc, product);
  if (threadIdx.x != 0) return;
  if (gridDim.y == 1) out[offset_of(o, plan.outer_ndim, plan.outer_shape, plan.out_strides)] = static_cast<O>(partial[0]);
  else partials[o * gridDim.y + blockIdx.y] = partial[0];
}

// A split reduction's second pass: out[o] = the `slices` partial results of output o combined.
template <class T, class O>
__global__ void finish_sum_kernel(ReduceOp op, ReducePlan plan, std::int64_t slices, O* out, const Acc<T>* partials) {
  __shared__ Acc<T> partial[kMaxReduceThreads];
  const std::int64_t o = blockIdx.x;
  const bool product = op == ReduceOp::Prod;
  Acc<T> acc = product ? 1 : 0;
  for (std::int64_t s = threadIdx.x; s < slices; s += blockDim.x) {
    const Acc<T> v = partials[o * slices + s];
    acc = product ? acc * v : acc + v;
  }
  combine_block(partial, acc, product);
  if (threadIdx.x == 0) out[offset_of(o, plan.outer_ndim, plan.outer_shape, plan.out_strides)] = static_cast<O>(partial[0]);
}

// Whether (v, i) beats the best so far (bv, bi): the first NaN wins, then the first extreme.
template <class T>
__device__ bool better(T v, std::int64_t i, T bv, std::int64_t bi, bool want_max) {
  if (i < 0) return false;
  if (bi < 0) return true;
  if (is_nan(bv)) return is_nan(v) && i < bi;
  if (is_nan(v)) return true;
  if (want_max ? v > bv : v < bv) return true;
  return v == bv && i < bi;
}

// Max, Min, ArgMax, ArgMin (flat index within the inner block).
template <class T, class O>
__global__ void extreme_kernel(ReduceOp op, ReducePlan plan, std::int64_t inner_n, O* out, const T* in) {
  __shared__ T best_value[kMaxReduceThreads];
  __shared__ std::int64_t best_index[kMaxReduceThreads];
  const std::int64_t o = blockIdx.x;
  const T* base = in + offset_of(o, plan.outer_ndim, plan.outer_shape, plan.in_outer_strides);
  const bool want_max = op == ReduceOp::Max || op == ReduceOp::ArgMax;
  T bv{};
  std::int64_t bi = -1;
  for (std::int64_t i = threadIdx.x; i < inner_n; i += blockDim.x) {
    const T v = base[offset_of(i, plan.inner_ndim, plan.inner_shape, plan.in_inner_strides)];
    if (better(v, i, bv, bi, want_max)) {
      bv = v;
      bi = i;
    }
  }
  best_value[threadIdx.x] = bv;
  best_index[threadIdx.x] = bi;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
    if (threadIdx.x < s && better(best_value[threadIdx.x + s], best_index[threadIdx.x + s], best_value[threadIdx.x],
                                  best_index[threadIdx.x], want_max)) {
      best_value[threadIdx.x] = best_value[threadIdx.x + s];
      best_index[threadIdx.x] = best_index[threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x != 0) return;
  const std::int64_t at = offset_of(o, plan.outer_ndim, plan.outer_shape, plan.out_strides);
  if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) out[at] = static_cast<O>(best_index[0]);
  else out[at] = static_cast<O>(best_value[0]);
}

template <class T, class O>
void launch_reduce(CudaBackend& be, ReduceOp op, const ReducePlan& plan, O* out, const T* in) {
  std::int64_t outputs = 1, inner_n = 1;
  for (int d = 0; d < plan.outer_ndim; ++d) outputs *= plan.outer_shape[d];
  for (int d = 0; d < plan.inner_ndim; ++d) inner_n *= plan.inner_shape[d];
  if (outputs == 0) return;
  // Threads per block: a power of two (the combining tree halves it), no more than the block needs.
  unsigned threads = 32;
  while (threads < kMaxReduceThreads && threads < inner_n) threads *= 2;
  const auto blocks = static_cast<unsigned>(outputs);
  if (op != ReduceOp::Sum && op != ReduceOp::SumSquares && op != ReduceOp::Prod) {
    extreme_kernel<T, O><<<blocks, threads, 0, be.stream()>>>(op, plan, inner_n, out, in);
    TINYNN_CUDA_CHECK(cudaGetLastError());
    return;
  }
  const std::int64_t slices = outputs < kSplitOutputsBelow ? std::min(kMaxSlices, (inner_n + kSliceElements - 1) / kSliceElements) : 1;
  if (slices <= 1) {
    sum_kernel<T, O><<<blocks, threads, 0, be.stream()>>>(op, plan, inner_n, inner_n, out, in, nullptr);
    TINYNN_CUDA_CHECK(cudaGetLastError());
    return;
  }
  const std::int64_t slice = (inner_n + slices - 1) / slices;
  const DeviceScratch scratch(be, static_cast<std::size_t>(outputs * slices) * sizeof(Acc<T>));
  auto* partials = static_cast<Acc<T>*>(scratch.get());
  sum_kernel<T, O><<<dim3(blocks, static_cast<unsigned>(slices)), kMaxReduceThreads, 0, be.stream()>>>(op, plan, inner_n, slice, out, in,
                                                                                                     partials);
  TINYNN_CUDA_CHECK(cudaGetLastError());
  unsigned finish_threads = 32;
  while (finish_threads < kMaxReduceThreads && finish_threads < slices) finish_threads *= 2;
  finish_sum_kernel<T, O><<<blocks, finish_threads, 0, be.stream()>>>(op, plan, slices, out, partials);
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

// One thread per line: a running sum or product along the scanned axis.
template <class T>
__global__ void scan_kernel(ScanOp op, ScanPlan plan, std::int64_t lines, T* out, const T* in) {
  const std::int64_t line = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (line >= lines) return;
  const T* x = in + offset_of(line, plan.outer_ndim, plan.outer_shape, plan.in_outer_strides);
  T* y = out + offset_of(line, plan.outer_ndim, plan.outer_shape, plan.out_outer_strides);
  Acc<T> acc = op == ScanOp::CumSum ? 0 : 1;
  for (std::int64_t j = 0; j < plan.length; ++j) {
    const auto v = static_cast<Acc<T>>(x[j * plan.in_stride]);
    acc = op == ScanOp::CumSum ? acc + v : acc * v;
    y[j * plan.out_stride] = static_cast<T>(acc);
  }
}

}  // namespace

void CudaBackend::reduce(ReduceOp op, const ReducePlan& plan, DType t, void* out, const void* in) {
  activate();
  const bool to_int64 = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin ||
                        (t == DType::Bool && (op == ReduceOp::Sum || op == ReduceOp::Prod));
  TINYNN_DISPATCH_ALL(t, {
    if (to_int64) launch_reduce(*this, op, plan, static_cast<std::int64_t*>(out), static_cast<const T*>(in));
    else launch_reduce(*this, op, plan, static_cast<T*>(out), static_cast<const T*>(in));
  })
}

void CudaBackend::scan(ScanOp op, const ScanPlan& plan, DType t, void* out, const void* in) {
  activate();
  std::int64_t lines = 1;
  for (int d = 0; d < plan.outer_ndim; ++d) lines *= plan.outer_shape[d];
  if (lines == 0 || plan.length == 0) return;
  constexpr unsigned kThreads = 256;
  const auto blocks = static_cast<unsigned>((lines + kThreads - 1) / kThreads);
  TINYNN_DISPATCH_NUMERIC(t, {
    scan_kernel<T><<<blocks, kThreads, 0, stream()>>>(op, plan, lines, static_cast<T*>(out), static_cast<const T*>(in));
  })
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace tinynn::cuda
