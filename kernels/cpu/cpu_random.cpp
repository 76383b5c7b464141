// CPU Philox draws: chunks of 1024 elements, the words of a chunk made eight blocks at a time
// (philox4x32_blocks) and turned into values in one loop per distribution. Counter-based, so
// chunks can run on any thread and the numbers never depend on the thread count.
#include <tinynn/core/detail/dispatch.h>
#include <tinynn/core/random.h>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

constexpr std::int64_t kChunk = 1024;  // elements; a multiple of 4, so chunks start on block boundaries

// Elements [start, start + count) of the draw from their words (block 0 of `words` is the chunk's first).
template <class T>
void draw_chunk(const RandomPlan& plan, const std::uint32_t* words, std::int64_t count, T* out) {
  namespace rd = random_draw;
  switch (plan.distribution) {
    case RandomDistribution::Uniform:
      for (std::int64_t k = 0; k < count; ++k) out[k] = static_cast<T>(rd::unit_uniform(words[k]));
      break;
    case RandomDistribution::Integers:
      for (std::int64_t k = 0; k < count; ++k) out[k] = static_cast<T>(rd::integer(words[k], plan.low, plan.span));
      break;
    case RandomDistribution::Bernoulli: {
      // Branchless: a branch taken at random 1 - p of the time mispredicts often.
      const T hit = static_cast<T>(plan.value);
      for (std::int64_t k = 0; k < count; ++k) out[k] = rd::bernoulli_hit(words[k], plan.threshold) ? hit : T(0);
      break;
    }
    case RandomDistribution::Normal:
      for (std::int64_t k = 0; k < count; ++k) out[k] = static_cast<T>(rd::normal(words[k / 2 * 4], words[k / 2 * 4 + 1], k % 2));
      break;
  }
}

template <class T>
void fill_random(const RandomPlan& plan, T* out) {
  const std::int64_t per_block = plan.distribution == RandomDistribution::Normal ? 2 : 4;
  const std::int64_t chunks = (plan.n + kChunk - 1) / kChunk;
  auto run = [&](std::int64_t first_chunk, std::int64_t end_chunk) {
    std::uint32_t words[4 * kChunk];  // enough for the normal draw's kChunk / 2 blocks too
    for (std::int64_t c = first_chunk; c < end_chunk; ++c) {
      const std::int64_t start = c * kChunk, count = std::min(kChunk, plan.n - start);
      philox4x32_blocks(plan.seed, plan.counter + static_cast<std::uint64_t>(start / per_block),
                        (count + per_block - 1) / per_block, words);
      draw_chunk(plan, words, count, out + start);
    }
  };
  // Philox costs about thirty operations per element: worth a second thread from 16k elements.
  parallel_chunks_if(chunks, plan.n * 16, run);
}

}  // namespace

void CpuBackend::random(const RandomPlan& plan, DType t, void* out) {
  TINYNN_DISPATCH_ALL(t, fill_random(plan, static_cast<T*>(out)))
}

}  // namespace tinynn::cpu
