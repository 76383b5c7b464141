// Fused optimizer updates on the CPU: one pass over a parameter and its state.
#include <tinynn/core/detail/dispatch.h>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

void CpuBackend::adam_step(const AdamStep& step, DType t, std::int64_t n, void* param, void* exp_avg, void* exp_avg_sq,
                           void* max_exp_avg_sq, const void* grad) {
  TINYNN_DISPATCH_FLOATING(t, {
    // Distinct buffers (restrict) and the amsgrad choice hoisted out of the loop let the
    // compiler vectorize it.
    T* __restrict p = static_cast<T*>(param);
    T* __restrict m = static_cast<T*>(exp_avg);
    T* __restrict v = static_cast<T*>(exp_avg_sq);
    T* __restrict vmax = static_cast<T*>(max_exp_avg_sq);
    const T* __restrict g = static_cast<const T*>(grad);
    auto run = [&](std::int64_t begin, std::int64_t end) {
      if (vmax != nullptr) {
        for (std::int64_t i = begin; i < end; ++i) adam_element(step, p[i], m[i], v[i], vmax + i, g[i]);
      } else {
        for (std::int64_t i = begin; i < end; ++i) adam_element<T>(step, p[i], m[i], v[i], nullptr, g[i]);
      }
    };
    // About ten operations per element: parallel above a tenth of the elementwise grain.
    if (n * 10 < kParallelGrain) run(0, n);
    else parallel_chunks(n, run);
  })
}

}  // namespace tinynn::cpu
