// CPU softmax cross-entropy, forward and backward, one row at a time (see CrossEntropyPlan).
// Row sums accumulate in double like the reductions, so float32 losses match the composite.
#include <algorithm>
#include <cmath>

#include <tinynn/core/detail/dispatch.h>
#include <tinynn/core/error.h>

#include "../common/index_errors.h"
#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

// Rows [begin, end) of both passes on one thread below the grain, else split. An exp costs
// about as much as 30 simple operations, so a [1024, 10] batch is already worth two threads.
template <class Fn>
void for_rows(const CrossEntropyPlan& plan, const Fn& fn) {
  parallel_chunks_if(plan.rows, plan.rows * plan.classes * 30, fn);
}

}  // namespace

void CpuBackend::cross_entropy(const CrossEntropyPlan& plan, DType t, void* loss, void* lse, const void* logits,
                               const std::int64_t* target) {
  BadIndex bad;
  TINYNN_DISPATCH_FLOATING(t, {
    const T* x = static_cast<const T*>(logits);
    T* out = static_cast<T*>(loss);
    T* out_lse = static_cast<T*>(lse);
    const double keep = 1.0 - plan.label_smoothing, spread = plan.label_smoothing / static_cast<double>(plan.classes);
    for_rows(plan, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t r = begin; r < end; ++r) {
        const T* row = x + r * plan.classes;
        if (!bad.in_range(target[r], plan.classes)) return;
        // Shift by the row maximum so exp cannot overflow; an infinite maximum shifts by 0
        // (all -inf rows give NaN, as log_softmax does).
        T m = row[0];
        for (std::int64_t c = 1; c < plan.classes; ++c) m = std::max(m, row[c]);
        if (std::isinf(m)) m = 0;
        double exp_sum = 0.0, x_sum = 0.0;
        for (std::int64_t c = 0; c < plan.classes; ++c) {
          exp_sum += std::exp(static_cast<double>(row[c] - m));
          x_sum += static_cast<double>(row[c]);
        }
        const double log_sum = static_cast<double>(m) + std::log(exp_sum);
        out_lse[r] = static_cast<T>(log_sum);
        out[r] = static_cast<T>(log_sum - keep * static_cast<double>(row[target[r]]) - spread * x_sum);
      }
    });
  })
  if (bad.found()) throw IndexError(class_target_message(plan.classes, bad.value()));
}

void CpuBackend::cross_entropy_backward(const CrossEntropyPlan& plan, DType t, void* grad_logits, const void* grad_loss,
                                        const void* logits, const void* lse, const std::int64_t* target) {
  BadIndex bad;
  TINYNN_DISPATCH_FLOATING(t, {
    const T* x = static_cast<const T*>(logits);
    const T* g = static_cast<const T*>(grad_loss);
    const T* row_lse = static_cast<const T*>(lse);
    T* dx = static_cast<T*>(grad_logits);
    const T keep = static_cast<T>(1.0 - plan.label_smoothing);
    const T spread = static_cast<T>(plan.label_smoothing / static_cast<double>(plan.classes));
    for_rows(plan, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t r = begin; r < end; ++r) {
        if (!bad.in_range(target[r], plan.classes)) return;
        const T* row = x + r * plan.classes;
        T* out = dx + r * plan.classes;
        const T gr = g[r * plan.grad_stride], l = row_lse[r];
        for (std::int64_t c = 0; c < plan.classes; ++c) out[c] = gr * (std::exp(row[c] - l) - spread);
        out[target[r]] -= gr * keep;
      }
    });
  })
  if (bad.found()) throw IndexError(class_target_message(plan.classes, bad.value()));
}

}  // namespace tinynn::cpu
