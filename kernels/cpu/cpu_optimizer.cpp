// Fused optimizer updates on the CPU: one pass over a parameter and its state.
#include <tinynn/core/detail/dispatch.h>

#include <type_traits>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

void CpuBackend::adam_step(const AdamStep& step, DType t, std::int64_t n, void* param, void* exp_avg, void* exp_avg_sq,
                           void* max_exp_avg_sq, const void* grad) {
  TINYNN_DISPATCH_FLOATING(t, {
    // Distinct buffers (restrict), constants in locals and the weight-decay and amsgrad choices
    // made outside the loop let the compiler vectorize it.
    T* __restrict p = static_cast<T*>(param);
    T* __restrict m = static_cast<T*>(exp_avg);
    T* __restrict v = static_cast<T*>(exp_avg_sq);
    T* __restrict vmax = static_cast<T*>(max_exp_avg_sq);
    const T* __restrict g = static_cast<const T*>(grad);
    const AdamConstants<T> c(step);
    auto loop = [&](auto decoupled, auto coupled, auto amsgrad, std::int64_t begin, std::int64_t end) {
      AdamConstants<T> k = c;
      k.decoupled = decoupled;
      k.coupled = coupled;
      for (std::int64_t i = begin; i < end; ++i) adam_element<T>(k, p[i], m[i], v[i], amsgrad ? vmax + i : nullptr, g[i]);
    };
    auto run = [&](std::int64_t begin, std::int64_t end) {
      using Yes = std::true_type;
      using No = std::false_type;
      if (vmax != nullptr) return loop(c.decoupled, c.coupled, Yes{}, begin, end);  // rare: one generic loop
      if (c.decoupled) return loop(Yes{}, No{}, No{}, begin, end);
      if (c.coupled) return loop(No{}, Yes{}, No{}, begin, end);
      loop(No{}, No{}, No{}, begin, end);
    };
    // About ten operations per element: parallel above a tenth of the elementwise grain.
    if (n * 10 < kParallelGrain) run(0, n);
    else parallel_chunks(n, run);
  })
}

}  // namespace tinynn::cpu
