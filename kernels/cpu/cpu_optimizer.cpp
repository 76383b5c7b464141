// Fused optimizer updates on the CPU: one pass over a parameter and its state.
#include <tinynn/core/detail/dispatch.h>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

void CpuBackend::adam_step(const AdamStep& step, DType t, std::int64_t n, void* param, void* exp_avg, void* exp_avg_sq,
                           void* max_exp_avg_sq, const void* grad) {
  TINYNN_DISPATCH_FLOATING(t, {
    T* p = static_cast<T*>(param);
    T* m = static_cast<T*>(exp_avg);
    T* v = static_cast<T*>(exp_avg_sq);
    T* vmax = static_cast<T*>(max_exp_avg_sq);
    const T* g = static_cast<const T*>(grad);
    auto run = [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) adam_element(step, p[i], m[i], v[i], vmax ? vmax + i : nullptr, g[i]);
    };
    // About ten operations per element: parallel above a tenth of the elementwise grain.
    if (n * 10 < kParallelGrain) run(0, n);
    else parallel_chunks(n, run);
  })
}

}  // namespace tinynn::cpu
