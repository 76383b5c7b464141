// CPU elementwise kernels: fill, dtype-converting copy, and every row of the pointwise table.
// Each loop has a unit-stride fast path the compiler can vectorize, and a strided fallback.
#include <tinynn/core/detail/dispatch.h>

#include <tuple>
#include <utility>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

template <class Out, class... In, class F, std::size_t... I>
void map_impl(const ElementwisePlan<1 + sizeof...(In)>& plan, Out* out, const F& f, std::index_sequence<I...>,
              const In*... in) {
  for_each_run(plan, [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
    Out* o = out + off[0];
    const std::tuple<const In*...> p{(in + off[I + 1])...};
    if (st[0] == 1 && ((st[I + 1] == 1) && ...)) {
      for (std::int64_t i = 0; i < n; ++i) o[i] = f(std::get<I>(p)[i]...);
    } else {
      for (std::int64_t i = 0; i < n; ++i) o[i * st[0]] = f(std::get<I>(p)[i * st[I + 1]]...);
    }
  });
}

// out[i] = f(in_0[i], in_1[i], ...) over a plan whose operand 0 is the output.
template <class Out, class... In, class F>
void map(const ElementwisePlan<1 + sizeof...(In)>& plan, Out* out, const F& f, const In*... in) {
  map_impl<Out, In...>(plan, out, f, std::index_sequence_for<In...>{}, in...);
}

template <class Op>
void run_unary(const ElementwisePlan<2>& plan, DType t, void* out, const void* in, UnaryParams p) {
  auto go = [&](auto tag) {
    using T = decltype(tag);
    map<T, T>(plan, static_cast<T*>(out), [p](T x) { return Op::template f<T>(x, p); }, static_cast<const T*>(in));
  };
  if constexpr (Op::floating_only) {
    TINYNN_DISPATCH_FLOATING(t, go(T{}))
  } else {
    TINYNN_DISPATCH_NUMERIC(t, go(T{}))
  }
}

template <class Op>
void run_binary(const ElementwisePlan<3>& plan, DType t, void* out, const void* a, const void* b) {
  auto go = [&](auto tag) {
    using T = decltype(tag);
    using Out = std::conditional_t<Op::comparison, bool, T>;
    map<Out, T, T>(plan, static_cast<Out*>(out), [](T x, T y) { return Op::template f<T>(x, y); },
                   static_cast<const T*>(a), static_cast<const T*>(b));
  };
  TINYNN_DISPATCH_NUMERIC(t, go(T{}))
}

}  // namespace

void CpuBackend::fill(const ElementwisePlan<1>& plan, DType t, void* out, double value) {
  TINYNN_DISPATCH_ALL(t, {
    const T v = static_cast<T>(value);
    map<T>(plan, static_cast<T*>(out), [v]() { return v; });
  })
}

void CpuBackend::copy(const ElementwisePlan<2>& plan, DType out_t, void* out, DType in_t, const void* in) {
  TINYNN_DISPATCH_ALL(out_t, {
    using O = T;
    TINYNN_DISPATCH_ALL(in_t, {
      map<O, T>(plan, static_cast<O*>(out), [](T x) { return static_cast<O>(x); }, static_cast<const T*>(in));
    })
  })
}

void CpuBackend::unary(UnaryOp op, const UnaryParams& params, const ElementwisePlan<2>& plan, DType t, void* out,
                       const void* in) {
#define TINYNN_CASE(Name, name) \
  case UnaryOp::Name: run_unary<pointwise::Name>(plan, t, out, in, params); break;
  switch (op) { TINYNN_UNARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
}

void CpuBackend::binary(BinaryOp op, const ElementwisePlan<3>& plan, DType t, void* out, const void* a, const void* b) {
#define TINYNN_CASE(Name, name) \
  case BinaryOp::Name: run_binary<pointwise::Name>(plan, t, out, a, b); break;
  switch (op) { TINYNN_BINARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
}

void CpuBackend::where(const ElementwisePlan<4>& plan, DType t, void* out, const bool* cond, const void* a,
                       const void* b) {
  TINYNN_DISPATCH_ALL(t, {
    map<T, bool, T, T>(plan, static_cast<T*>(out), [](bool c, T x, T y) { return c ? x : y; }, cond,
                       static_cast<const T*>(a), static_cast<const T*>(b));
  })
}

}  // namespace tinynn::cpu
