// CPU reductions and scans. Floating sums accumulate in double (accurate, and the same result
// for any thread count because each output is reduced by one thread in a fixed order).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include <tinynn/core/detail/dispatch.h>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

// Calls visit(flat_inner_index, value) for every element of one inner block.
template <class T, class Visit>
void visit_inner(const ReducePlan& plan, const T* base, Visit&& visit) {
  std::int64_t total = 1;
  for (int d = 0; d < plan.inner_ndim; ++d) total *= plan.inner_shape[d];
  if (plan.inner_ndim == 1) {
    const std::int64_t s = plan.in_inner_strides[0];
    for (std::int64_t i = 0; i < total; ++i) visit(i, base[i * s]);
    return;
  }
  std::int64_t index[kMaxDims] = {};
  std::int64_t offset = 0;
  for (std::int64_t i = 0; i < total; ++i) {
    visit(i, base[offset]);
    for (int d = plan.inner_ndim - 1; d >= 0; --d) {
      ++index[d];
      offset += plan.in_inner_strides[d];
      if (index[d] < plan.inner_shape[d]) break;
      offset -= plan.in_inner_strides[d] * plan.inner_shape[d];
      index[d] = 0;
    }
  }
}

// Sum of f(x[i]) over n contiguous values in eight interleaved accumulators: independent chains
// the compiler vectorizes, instead of one chain bound by the latency of an add. The order is
// fixed, so the result does not depend on the thread count.
template <class T, class F>
Acc<T> contiguous_sum(const T* x, std::int64_t n, F f) {
  constexpr int kLanes = 8;
  Acc<T> lanes[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += f(static_cast<Acc<T>>(x[i + l]));
  Acc<T> acc = 0;
  for (int l = 0; l < kLanes; ++l) acc += lanes[l];
  for (; i < n; ++i) acc += f(static_cast<Acc<T>>(x[i]));
  return acc;
}

// Sum and SumSquares: the sum of f(x) over one inner block. When its last axis is contiguous
// (a channel of an NCHW batch: N rows of H*W values), each row is summed as a contiguous run.
template <class T, class F>
Acc<T> block_sum(const ReducePlan& plan, const T* base, F f) {
  const int nd = plan.inner_ndim;
  if (nd == 1 && plan.in_inner_strides[0] == 1) return contiguous_sum(base, plan.inner_shape[0], f);
  if (nd == 2 && plan.in_inner_strides[1] == 1) {
    Acc<T> acc = 0;
    for (std::int64_t r = 0; r < plan.inner_shape[0]; ++r)
      acc += contiguous_sum(base + r * plan.in_inner_strides[0], plan.inner_shape[1], f);
    return acc;
  }
  Acc<T> acc = 0;
  visit_inner(plan, base, [&](std::int64_t, T v) { acc += f(static_cast<Acc<T>>(v)); });
  return acc;
}

template <class T, class O>
O reduce_block(ReduceOp op, const ReducePlan& plan, const T* base) {
  switch (op) {
    case ReduceOp::Sum: return static_cast<O>(block_sum(plan, base, [](Acc<T> v) { return v; }));
    case ReduceOp::SumSquares: return static_cast<O>(block_sum(plan, base, [](Acc<T> v) { return v * v; }));
    case ReduceOp::Prod: {
      Acc<T> acc = 1;
      visit_inner(plan, base, [&](std::int64_t, T v) { acc *= static_cast<Acc<T>>(v); });
      return static_cast<O>(acc);
    }
    default: break;
  }
  // Max/Min and their arg forms: the first extreme wins; a NaN is the extreme (as in PyTorch).
  const bool want_max = op == ReduceOp::Max || op == ReduceOp::ArgMax;
  T best{};
  std::int64_t best_i = -1;
  visit_inner(plan, base, [&](std::int64_t i, T v) {
    if (best_i >= 0 && is_nan(best)) return;
    if (best_i < 0 || is_nan(v) || (want_max ? v > best : v < best)) {
      best = v;
      best_i = i;
    }
  });
  if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) return static_cast<O>(best_i);
  return static_cast<O>(best);
}

// A (out, in) elementwise plan over the outer axes of a reduction or scan; each position of it
// owns one whole inner block or line.
ElementwisePlan<2> outer_plan(int ndim, const std::int64_t* shape, const std::int64_t* out_strides,
                              const std::int64_t* in_strides) {
  ElementwisePlan<2> outer;
  outer.ndim = ndim;
  for (int d = 0; d < ndim; ++d) {
    outer.shape[d] = shape[d];
    outer.strides[0][d] = out_strides[d];
    outer.strides[1][d] = in_strides[d];
  }
  return outer;
}

// A sum over one long contiguous run (a whole tensor to a scalar: the gradient norm's sum of
// squares) in fixed blocks of kSumBlock values summed in parallel, then the blocks' sums in order.
// The blocks do not depend on the thread count, so neither does the result.
constexpr std::int64_t kSumBlock = 1 << 16;

bool inner_is_contiguous(const ReducePlan& plan) {
  std::int64_t expected = 1;
  for (int d = plan.inner_ndim - 1; d >= 0; --d) {
    if (plan.inner_shape[d] != 1 && plan.in_inner_strides[d] != expected) return false;
    expected *= plan.inner_shape[d];
  }
  return true;
}

template <class T, class F>
Acc<T> blocked_contiguous_sum(const T* x, std::int64_t n, F f) {
  const std::int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  Accumulators<Acc<T>> partial(blocks);
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < blocks; ++b)
    partial[b] = contiguous_sum(x + b * kSumBlock, std::min(kSumBlock, n - b * kSumBlock), f);
  Acc<T> acc = 0;
  for (std::int64_t b = 0; b < blocks; ++b) acc += partial[b];
  return acc;
}

template <class T, class O>
void reduce_typed(ReduceOp op, const ReducePlan& plan, O* out, const T* in) {
  const auto outer = outer_plan(plan.outer_ndim, plan.outer_shape, plan.out_strides, plan.in_outer_strides);
  std::int64_t inner_total = 1;
  for (int d = 0; d < plan.inner_ndim; ++d) inner_total *= plan.inner_shape[d];
  const bool parallel = outer.numel() * inner_total >= kParallelGrain;
  // Two blocks or more: one add per element is about what a parallel loop's grain assumes.
  if (outer.numel() == 1 && inner_total >= 2 * kSumBlock && inner_is_contiguous(plan) &&
      (op == ReduceOp::Sum || op == ReduceOp::SumSquares)) {
    const std::int64_t n = inner_total;
    const Acc<T> total = op == ReduceOp::Sum ? blocked_contiguous_sum(in, n, [](Acc<T> v) { return v; })
                                             : blocked_contiguous_sum(in, n, [](Acc<T> v) { return v * v; });
    out[0] = static_cast<O>(total);
    return;
  }
  if constexpr (std::is_same_v<T, O>) {
    // Summing the rows of a row-major matrix ([batch, features] -> [features], a bias gradient):
    // add whole rows into per-column accumulators, so the loop runs along memory and vectorizes.
    // Each column still adds its rows in order, so the result is the same as the general loop's.
    if (op == ReduceOp::Sum && !parallel && plan.outer_ndim == 1 && plan.inner_ndim == 1 && plan.in_outer_strides[0] == 1) {
      const std::int64_t columns = plan.outer_shape[0], rows = plan.inner_shape[0], row_stride = plan.in_inner_strides[0];
      Accumulators<Acc<T>> acc(columns);
      for (std::int64_t r = 0; r < rows; ++r) {
        const T* row = in + r * row_stride;
        for (std::int64_t c = 0; c < columns; ++c) acc[c] += static_cast<Acc<T>>(row[c]);
      }
      for (std::int64_t c = 0; c < columns; ++c) out[c * plan.out_strides[0]] = static_cast<O>(acc[c]);
      return;
    }
  }
  for_each_run(
      outer,
      [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
        for (std::int64_t i = 0; i < n; ++i) out[off[0] + i * st[0]] = reduce_block<T, O>(op, plan, in + off[1] + i * st[1]);
      },
      parallel ? 0 : kNeverParallel);
}

template <class T>
void scan_typed(ScanOp op, const ScanPlan& plan, T* out, const T* in) {
  const auto outer = outer_plan(plan.outer_ndim, plan.outer_shape, plan.out_outer_strides, plan.in_outer_strides);
  for_each_run(outer, [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
    for (std::int64_t i = 0; i < n; ++i) {
      T* o = out + off[0] + i * st[0];
      const T* x = in + off[1] + i * st[1];
      Acc<T> acc = op == ScanOp::CumSum ? 0 : 1;
      for (std::int64_t j = 0; j < plan.length; ++j) {
        if (op == ScanOp::CumSum) acc += x[j * plan.in_stride];
        else acc *= x[j * plan.in_stride];
        o[j * plan.out_stride] = static_cast<T>(acc);
      }
    }
  });
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const ReducePlan& plan, DType t, void* out, const void* in) {
  const bool to_int64 = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin ||
                        (t == DType::Bool && (op == ReduceOp::Sum || op == ReduceOp::Prod));
  TINYNN_DISPATCH_ALL(t, {
    if (to_int64) reduce_typed<T, std::int64_t>(op, plan, static_cast<std::int64_t*>(out), static_cast<const T*>(in));
    else reduce_typed<T, T>(op, plan, static_cast<T*>(out), static_cast<const T*>(in));
  })
}

void CpuBackend::scan(ScanOp op, const ScanPlan& plan, DType t, void* out, const void* in) {
  TINYNN_DISPATCH_NUMERIC(t, scan_typed<T>(op, plan, static_cast<T*>(out), static_cast<const T*>(in)))
}

}  // namespace tinynn::cpu
