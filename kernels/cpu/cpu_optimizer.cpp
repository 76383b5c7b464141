// Fused optimizer updates on the CPU: one pass over all of a step's parameters and their state.
#include <tinynn/core/detail/dispatch.h>

#include <algorithm>
#include <type_traits>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

// Elements [begin, end) of one tensor. Distinct buffers (restrict), constants in locals and the
// weight-decay and amsgrad choices made outside the loop let the compiler vectorize it.
template <class T>
void adam_range(const AdamConstants<T>& c, const AdamTensors& a, std::int64_t begin, std::int64_t end) {
  T* __restrict p = static_cast<T*>(a.param);
  T* __restrict m = static_cast<T*>(a.exp_avg);
  T* __restrict v = static_cast<T*>(a.exp_avg_sq);
  T* __restrict vmax = static_cast<T*>(a.max_exp_avg_sq);
  const T* __restrict g = static_cast<const T*>(a.grad);
  auto loop = [&](auto decoupled, auto coupled, auto amsgrad) {
    AdamConstants<T> k = c;
    k.decoupled = decoupled;
    k.coupled = coupled;
    for (std::int64_t i = begin; i < end; ++i) adam_element<T>(k, p[i], m[i], v[i], amsgrad ? vmax + i : nullptr, g[i]);
  };
  using Yes = std::true_type;
  using No = std::false_type;
  if (vmax != nullptr) return loop(c.decoupled, c.coupled, Yes{});  // rare: one generic loop
  if (c.decoupled) return loop(Yes{}, No{}, No{});
  if (c.coupled) return loop(No{}, Yes{}, No{});
  loop(No{}, No{}, No{});
}

}  // namespace

// The tensors count as one long run of elements; each thread takes a contiguous share of it,
// crossing tensor boundaries, so the threads stay balanced whatever the parameter sizes.
void CpuBackend::adam_step(const AdamStep& step, DType t, const AdamTensors* tensors, std::size_t count) {
  std::int64_t total = 0;
  for (std::size_t k = 0; k < count; ++k) total += tensors[k].n;
  TINYNN_DISPATCH_FLOATING(t, {
    const AdamConstants<T> c(step);
    auto run = [&](std::int64_t begin, std::int64_t end) {
      std::int64_t start = 0;  // of tensor k within the run
      for (std::size_t k = 0; k < count && start < end; start += tensors[k].n, ++k) {
        const std::int64_t lo = std::max(begin, start), hi = std::min(end, start + tensors[k].n);
        if (lo < hi) adam_range(c, tensors[k], lo - start, hi - start);
      }
    };
    // About ten operations per element: parallel above a tenth of the elementwise grain.
    parallel_chunks_if(total, total * 10, run);
  })
}

}  // namespace tinynn::cpu
