// CPU bias + activation (see BiasActivationPlan), forward and backward, each one pass over the
// rows. The activation is a row of the pointwise table, the same functions the CPU loops and
// CUDA kernels run for the standalone op.
#include <tinynn/core/detail/dispatch.h>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

template <class Op, class T>
void forward(const BiasActivationPlan& plan, T* __restrict y, const T* __restrict x, const T* __restrict bias) {
  const std::int64_t f = plan.features;
  parallel_chunks_if(plan.rows, plan.rows * f, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r)
      for (std::int64_t c = 0; c < f; ++c) y[r * f + c] = Op::template f<T>(x[r * f + c] + bias[c], plan.params);
  });
}

// Threads take ranges of columns and walk every row, so each column of the bias gradient is
// summed in row order by one thread (the same result for any thread count), in double.
template <class Op, class T>
void backward(const BiasActivationPlan& plan, T* __restrict gx, T* __restrict gbias, const T* __restrict g,
              const T* __restrict x, const T* __restrict bias, const T* __restrict y) {
  const std::int64_t f = plan.features;
  parallel_chunks_if(f, plan.rows * f, [&](std::int64_t c0, std::int64_t c1) {
    Accumulators<double> acc(c1 - c0);
    for (std::int64_t r = 0; r < plan.rows; ++r) {
      const std::int64_t row = r * f;
      for (std::int64_t c = c0; c < c1; ++c) {
        const T d = g[row + c] * Op::template df<T>(x[row + c] + bias[c], y[row + c], plan.params);
        gx[row + c] = d;
        acc[c - c0] += static_cast<double>(d);
      }
    }
    for (std::int64_t c = c0; c < c1; ++c) gbias[c] = static_cast<T>(acc[c - c0]);
  });
}

template <class T>
void forward_any(const BiasActivationPlan& plan, T* y, const T* x, const T* bias) {
  switch (plan.op) {
#define TINYNN_CASE(Name, name) \
  case UnaryOp::Name: return forward<pointwise::Name, T>(plan, y, x, bias);
    TINYNN_UNARY_OPS(TINYNN_CASE)
#undef TINYNN_CASE
  }
}

template <class T>
void backward_any(const BiasActivationPlan& plan, T* gx, T* gbias, const T* g, const T* x, const T* bias, const T* y) {
  switch (plan.op) {
#define TINYNN_CASE(Name, name) \
  case UnaryOp::Name: return backward<pointwise::Name, T>(plan, gx, gbias, g, x, bias, y);
    TINYNN_UNARY_OPS(TINYNN_CASE)
#undef TINYNN_CASE
  }
}

}  // namespace

void CpuBackend::bias_activation(const BiasActivationPlan& plan, DType t, void* y, const void* x, const void* bias) {
  TINYNN_DISPATCH_FLOATING(t, forward_any(plan, static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(bias)))
}

void CpuBackend::bias_activation_backward(const BiasActivationPlan& plan, DType t, void* gx, void* gbias, const void* g,
                                          const void* x, const void* bias, const void* y) {
  TINYNN_DISPATCH_FLOATING(t, backward_any(plan, static_cast<T*>(gx), static_cast<T*>(gbias), static_cast<const T*>(g),
                                           static_cast<const T*>(x), static_cast<const T*>(bias), static_cast<const T*>(y)))
}

}  // namespace tinynn::cpu
