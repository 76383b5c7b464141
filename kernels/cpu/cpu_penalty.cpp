// L1/L2 penalties in one pass over parameters and gradients (see Backend::penalty_gradients).
// Each parameter is cut into fixed blocks summed on any thread, then added in order, so the value
// does not depend on the thread count.
#include <tinynn/core/detail/dispatch.h>

#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

constexpr std::int64_t kPenaltyBlock = 1 << 15;

// p [n], g [n]: g += scale (l1 sign(p) + 2 l2 p); returns the sum of l1 |p| + l2 p^2 (the same
// arithmetic as the autograd formulas of l1 * sum(abs(p)) + l2 * sum_of_squares(p)). Two loops
// that vectorize: the update, then the sums in eight interleaved lanes as the reductions do.
template <class T>
double penalty_block(const T* __restrict p, T* __restrict g, std::int64_t n, double l1, double l2, double scale) {
  const T a = static_cast<T>(l1 * scale), b = static_cast<T>(l2 * 2.0 * scale);
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = p[i];
    const T sign = v > T(0) ? T(1) : (v < T(0) ? T(-1) : T(0));
    g[i] += sign * a + v * b;
  }
  constexpr int kLanes = 8;
  double abs_lanes[kLanes] = {}, square_lanes[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(p[i + l]);
      abs_lanes[l] += std::fabs(d);
      square_lanes[l] += d * d;
    }
  double abs_sum = 0.0, square_sum = 0.0;
  for (; i < n; ++i) {
    const double d = static_cast<double>(p[i]);
    abs_sum += std::fabs(d);
    square_sum += d * d;
  }
  for (int l = 0; l < kLanes; ++l) abs_sum += abs_lanes[l], square_sum += square_lanes[l];
  return l1 * abs_sum + l2 * square_sum;
}

}  // namespace

double CpuBackend::penalty_gradients(DType t, const PenaltyTensors* tensors, std::size_t count, double scale) {
  struct Block {
    std::size_t tensor;
    std::int64_t begin, n;
  };
  // Reused from call to call: a training step allocates nothing here after the first. (The
  // caller's thread's lists, bound to references: OpenMP's workers have thread_locals of their own.)
  thread_local std::vector<Block> calling_thread_blocks;
  thread_local std::vector<double> calling_thread_partial;
  std::vector<Block>& blocks = calling_thread_blocks;
  std::vector<double>& partial = calling_thread_partial;
  blocks.clear();
  std::int64_t total = 0;
  for (std::size_t k = 0; k < count; ++k) {
    for (std::int64_t b = 0; b < tensors[k].n; b += kPenaltyBlock) blocks.push_back({k, b, std::min(kPenaltyBlock, tensors[k].n - b)});
    total += tensors[k].n;
  }
  partial.assign(blocks.size(), 0.0);
  const auto n_blocks = static_cast<std::int64_t>(blocks.size());
  TINYNN_DISPATCH_FLOATING(t, {
    auto run = [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t i = lo; i < hi; ++i) {
        const Block& blk = blocks[static_cast<std::size_t>(i)];
        const PenaltyTensors& a = tensors[blk.tensor];
        partial[static_cast<std::size_t>(i)] = penalty_block(static_cast<const T*>(a.param) + blk.begin,
                                                             static_cast<T*>(a.grad) + blk.begin, blk.n, a.l1, a.l2, scale);
      }
    };
    // About six operations per element.
    parallel_chunks_if(n_blocks, total * 6, run);
  })
  double value = 0.0;
  for (double v : partial) value += v;
  return value;
}

}  // namespace tinynn::cpu
