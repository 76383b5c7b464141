// Fused optimizer updates on the CPU: one pass over all of a step's parameters and their state.
#include <tinynn/core/detail/dispatch.h>

#include <algorithm>
#include <type_traits>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

// Elements [begin, end) of one tensor. Distinct buffers (restrict), constants in locals and the
// rule's choices made outside the loop (Adam's by hand; the others' flags are loop-invariant,
// which the compiler unswitches) let the compiler vectorize it.
template <class T>
void adam_range(const OptimizerConstants<T>& c, const OptimizerTensors& a, std::int64_t begin, std::int64_t end) {
  T* __restrict p = static_cast<T*>(a.param);
  T* __restrict m = static_cast<T*>(a.state[0]);
  T* __restrict v = static_cast<T*>(a.state[1]);
  T* __restrict vmax = static_cast<T*>(a.state[2]);
  const T* __restrict g = static_cast<const T*>(a.grad);
  auto loop = [&](auto decoupled, auto coupled, auto amsgrad) {
    OptimizerConstants<T> k = c;
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

template <class T>
void sgd_range(const OptimizerConstants<T>& c, const OptimizerTensors& a, std::int64_t begin, std::int64_t end) {
  T* __restrict p = static_cast<T*>(a.param);
  T* __restrict buf = static_cast<T*>(a.state[0]);
  const T* __restrict g = static_cast<const T*>(a.grad);
  // As for Adam: the flags as compile-time constants of a local copy, for the usual cases.
  auto loop = [&](auto coupled, auto momentum, auto first, auto nesterov) {
    OptimizerConstants<T> k = c;
    k.coupled = coupled, k.has_momentum = momentum, k.first = first, k.nesterov = nesterov;
    for (std::int64_t i = begin; i < end; ++i) sgd_element<T>(k, p[i], momentum ? buf + i : nullptr, g[i]);
  };
  using Yes = std::true_type;
  using No = std::false_type;
  if (!c.has_momentum) return c.coupled ? loop(Yes{}, No{}, No{}, No{}) : loop(No{}, No{}, No{}, No{});
  if (!c.coupled && !c.first) return c.nesterov ? loop(No{}, Yes{}, No{}, Yes{}) : loop(No{}, Yes{}, No{}, No{});
  loop(c.coupled, Yes{}, c.first, c.nesterov);  // weight decay or the first step: one generic loop
}

template <class T>
void rmsprop_range(const OptimizerConstants<T>& c, const OptimizerTensors& a, std::int64_t begin, std::int64_t end) {
  T* __restrict p = static_cast<T*>(a.param);
  T* __restrict sq = static_cast<T*>(a.state[0]);
  T* __restrict ga = static_cast<T*>(a.state[1]);
  T* __restrict buf = static_cast<T*>(a.state[2]);
  const T* __restrict g = static_cast<const T*>(a.grad);
  for (std::int64_t i = begin; i < end; ++i)
    rmsprop_element<T>(c, p[i], sq[i], ga != nullptr ? ga + i : nullptr, buf != nullptr ? buf + i : nullptr, g[i]);
}

template <class T>
void adagrad_range(const OptimizerConstants<T>& c, const OptimizerTensors& a, std::int64_t begin, std::int64_t end) {
  T* __restrict p = static_cast<T*>(a.param);
  T* __restrict sum = static_cast<T*>(a.state[0]);
  const T* __restrict g = static_cast<const T*>(a.grad);
  for (std::int64_t i = begin; i < end; ++i) adagrad_element<T>(c, p[i], sum[i], g[i]);
}

template <class T>
void rule_range(OptimizerRule rule, const OptimizerConstants<T>& c, const OptimizerTensors& a, std::int64_t begin,
                std::int64_t end) {
  switch (rule) {
    case OptimizerRule::Adam: return adam_range(c, a, begin, end);
    case OptimizerRule::SGD: return sgd_range(c, a, begin, end);
    case OptimizerRule::RMSprop: return rmsprop_range(c, a, begin, end);
    case OptimizerRule::Adagrad: return adagrad_range(c, a, begin, end);
  }
}

}  // namespace

// The tensors count as one long run of elements; each thread takes a contiguous share of it,
// crossing tensor boundaries, so the threads stay balanced whatever the parameter sizes.
void CpuBackend::optimizer_step(const OptimizerStep& step, DType t, const OptimizerTensors* tensors, std::size_t count) {
  std::int64_t total = 0;
  for (std::size_t k = 0; k < count; ++k) total += tensors[k].n;
  TINYNN_DISPATCH_FLOATING(t, {
    const OptimizerConstants<T> c(step);
    auto run = [&](std::int64_t begin, std::int64_t end) {
      std::int64_t start = 0;  // of tensor k within the run
      for (std::size_t k = 0; k < count && start < end; start += tensors[k].n, ++k) {
        const std::int64_t lo = std::max(begin, start), hi = std::min(end, start + tensors[k].n);
        if (lo < hi) rule_range(step.rule, c, tensors[k], lo - start, hi - start);
      }
    };
    // About ten operations per element: parallel above a tenth of the elementwise grain.
    parallel_chunks_if(total, total * 10, run);
  })
}

}  // namespace tinynn::cpu
