// CPU elementwise kernels: fill, dtype-converting copy, and every row of the pointwise table.
// Each loop has a unit-stride fast path the compiler can vectorize, and a strided fallback.
#include <tinynn/core/detail/dispatch.h>

#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

// How an input is read along a contiguous-output run: every element (stride 1) or one value
// for the whole run (stride 0, a broadcast scalar). Both index like arrays, so the loop below
// has no stride arithmetic and the compiler vectorizes it.
template <class T>
struct Dense {
  const T* p;
  T operator[](std::int64_t i) const { return p[i]; }
};
template <class T>
struct Splat {
  T v;
  T operator[](std::int64_t) const { return v; }
};

// Picks Dense or Splat for input K onwards (one instantiation per pattern), then runs the loop.
template <std::size_t K, class Out, class F, class Strides, class Pointers, class... Readers>
void contiguous_run(Out* o, std::int64_t n, const F& f, const Strides& st, const Pointers& p, Readers... readers) {
  if constexpr (K == std::tuple_size_v<Pointers>) {
    for (std::int64_t i = 0; i < n; ++i) o[i] = f(readers[i]...);
  } else {
    using T = std::remove_const_t<std::remove_pointer_t<std::tuple_element_t<K, Pointers>>>;
    const T* in = std::get<K>(p);
    if (st[K + 1] == 0) contiguous_run<K + 1>(o, n, f, st, p, readers..., Splat<T>{*in});
    else contiguous_run<K + 1>(o, n, f, st, p, readers..., Dense<T>{in});
  }
}

template <class Out, class... In, class F, std::size_t... I>
void map_impl(const ElementwisePlan<1 + sizeof...(In)>& plan, Out* out, const F& f, std::index_sequence<I...>,
              const In*... in) {
  for_each_run(plan, [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
    Out* o = out + off[0];
    const std::tuple<const In*...> p{(in + off[I + 1])...};
    if (st[0] == 1 && ((st[I + 1] == 1 || st[I + 1] == 0) && ...)) {
      contiguous_run<0>(o, n, f, st, p);
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
void run_unary_backward(const ElementwisePlan<4>& plan, DType t, void* gx, const void* g, const void* x, const void* y,
                        UnaryParams p) {
  TINYNN_DISPATCH_FLOATING(t, map<T, T, T, T>(plan, static_cast<T*>(gx),
                                               [p](T gv, T xv, T yv) { return gv * Op::template df<T>(xv, yv, p); },
                                               static_cast<const T*>(g), static_cast<const T*>(x), static_cast<const T*>(y)))
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
    if (in_t == DType::Bool) {
      // Bools are stored as bytes 0 or 1: converting the bytes vectorizes, reading bool does not.
      map<O, std::uint8_t>(plan, static_cast<O*>(out), [](std::uint8_t x) { return static_cast<O>(x); },
                           static_cast<const std::uint8_t*>(in));
      return;
    }
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

void CpuBackend::unary_backward(UnaryOp op, const UnaryParams& params, const ElementwisePlan<4>& plan, DType t, void* gx,
                                const void* g, const void* x, const void* y) {
#define TINYNN_CASE(Name, name) \
  case UnaryOp::Name: run_unary_backward<pointwise::Name>(plan, t, gx, g, x, y, params); break;
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
    // The condition read as bytes (0 or 1), which vectorizes as a blend.
    map<T, std::uint8_t, T, T>(plan, static_cast<T*>(out), [](std::uint8_t c, T x, T y) { return c != 0 ? x : y; },
                               reinterpret_cast<const std::uint8_t*>(cond), static_cast<const T*>(a), static_cast<const T*>(b));
  })
}

}  // namespace tinynn::cpu
