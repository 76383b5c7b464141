// Iterates an ElementwisePlan on the CPU: calls `run(offsets, n, inner_strides)` once per
// innermost run, where offsets[k] is operand k's element offset at the run's start.
// Large plans are split across OpenMP threads; every element is visited exactly once.
#pragma once
#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <tinynn/core/backend.h>

namespace tinynn::cpu {

// Below this many elements a loop stays on one thread. Waking a sleeping OpenMP thread costs
// tens of microseconds, about what one core needs for 2^18 simple float operations; a profile of
// MLP training showed a third of the time in thread wake-ups with a grain of 2^15.
constexpr std::int64_t kParallelGrain = 1 << 18;
constexpr std::int64_t kNeverParallel = INT64_MAX;  // loops that must run in order on one thread

// Splits [0, n) into one contiguous chunk per thread and calls fn(begin, end) for each.
template <class Fn>
void parallel_chunks(std::int64_t n, const Fn& fn) {
#pragma omp parallel
  {
#ifdef _OPENMP
    const std::int64_t threads = omp_get_num_threads(), me = omp_get_thread_num();
#else
    const std::int64_t threads = 1, me = 0;
#endif
    const std::int64_t chunk = (n + threads - 1) / threads;
    const std::int64_t b = std::min(n, chunk * me), e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  }
}

// fn(0, n) on this thread when `work` (elements times a cost factor) is under the grain,
// otherwise parallel_chunks(n, fn).
template <class Fn>
void parallel_chunks_if(std::int64_t n, std::int64_t work, const Fn& fn) {
  if (work < kParallelGrain) fn(0, n);
  else parallel_chunks(n, fn);
}

// Worker threads cannot throw across OpenMP: a kernel that finds an index outside [0, size)
// records it here (with several, any one of them) and the calling thread throws after the loop.
class BadIndex {
 public:
  bool in_range(std::int64_t j, std::int64_t size) {
    if (j >= 0 && j < size) return true;
    found_ = true;
    value_ = j;
    return false;
  }
  bool found() const { return found_; }
  std::int64_t value() const { return value_; }

 private:
  std::atomic<bool> found_{false};
  std::atomic<std::int64_t> value_{0};
};

// n accumulators, on the stack up to kStack (the usual widths: no allocation per call), else on
// the heap; zeroed.
template <class A, std::int64_t kStack = 1024>
class Accumulators {
 public:
  explicit Accumulators(std::int64_t n) : heap_(n > kStack ? static_cast<std::size_t>(n) : 0) {
    data_ = n > kStack ? heap_.data() : stack_;
    std::fill(data_, data_ + n, A(0));
  }
  A& operator[](std::int64_t i) { return data_[i]; }

 private:
  A stack_[kStack];
  std::vector<A> heap_;
  A* data_;
};

// Runs over outer positions [begin, end) (all axes but the last, row-major).
template <int N, class Run>
void run_outer_range(const ElementwisePlan<N>& plan, std::int64_t begin, std::int64_t end, const Run& run) {
  const int nd = plan.ndim;
  const std::int64_t inner = nd == 0 ? 1 : plan.shape[nd - 1];
  std::int64_t inner_strides[N];
  for (int k = 0; k < N; ++k) inner_strides[k] = nd == 0 ? 0 : plan.strides[k][nd - 1];
  std::int64_t index[kMaxDims] = {};
  std::int64_t offsets[N] = {};
  std::int64_t rest = begin;
  for (int d = nd - 2; d >= 0; --d) {
    index[d] = rest % plan.shape[d];
    rest /= plan.shape[d];
    for (int k = 0; k < N; ++k) offsets[k] += index[d] * plan.strides[k][d];
  }
  for (std::int64_t o = begin; o < end; ++o) {
    run(static_cast<const std::int64_t*>(offsets), inner, static_cast<const std::int64_t*>(inner_strides));
    for (int d = nd - 2; d >= 0; --d) {  // odometer increment
      ++index[d];
      for (int k = 0; k < N; ++k) offsets[k] += plan.strides[k][d];
      if (index[d] < plan.shape[d]) break;
      for (int k = 0; k < N; ++k) offsets[k] -= plan.strides[k][d] * plan.shape[d];
      index[d] = 0;
    }
  }
}

template <int N, class Run>
void for_each_run(const ElementwisePlan<N>& plan, const Run& run, std::int64_t grain = kParallelGrain) {
  const int nd = plan.ndim;
  if (nd > 0 && plan.shape[nd - 1] == 0) return;
  std::int64_t outer = 1;
  for (int d = 0; d + 1 < nd; ++d) outer *= plan.shape[d];
  if (plan.numel() < grain || nd == 0) {  // nd == 0: one element, nothing to split (grain may be 0)
    run_outer_range(plan, 0, outer, run);
  } else if (outer == 1) {  // one long run: split it
    parallel_chunks(plan.shape[nd - 1], [&](std::int64_t b, std::int64_t e) {
      std::int64_t offsets[N], strides[N];
      for (int k = 0; k < N; ++k) {
        strides[k] = plan.strides[k][nd - 1];
        offsets[k] = b * strides[k];
      }
      run(static_cast<const std::int64_t*>(offsets), e - b, static_cast<const std::int64_t*>(strides));
    });
  } else {
    parallel_chunks(outer, [&](std::int64_t b, std::int64_t e) { run_outer_range(plan, b, e, run); });
  }
}

}  // namespace tinynn::cpu
