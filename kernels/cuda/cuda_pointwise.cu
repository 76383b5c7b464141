// CUDA elementwise kernels: fill, dtype-converting copy, where, and every row of the pointwise
// table (the same __host__ __device__ functions the CPU loops run). One thread per element;
// offsets are decoded from the linear index over the plan's (coalesced) axes.
#include <tinynn/core/detail/dispatch.h>

#include <utility>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"

namespace tinynn::cuda {

namespace {

constexpr int kThreads = 256;

template <class F, class... In, std::size_t... I>
__device__ auto apply_at(const F& f, const std::int64_t* off, std::index_sequence<I...>, const In*... in) {
  return f(in[off[I + 1]]...);
}

// out[i] = f(in...[i]) with operand 0 the output.
template <class F, class Out, class... In>
__global__ void map_kernel(ElementwisePlan<1 + sizeof...(In)> plan, std::int64_t n, F f, Out* out, const In*... in) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  std::int64_t off[1 + sizeof...(In)];
  decode_offsets(plan, i, off);
  out[off[0]] = apply_at(f, off, std::index_sequence_for<In...>{}, in...);
}

template <class F, class Out, class... In>
void launch(const CudaBackend& be, const ElementwisePlan<1 + sizeof...(In)>& plan, F f, Out* out, const In*... in) {
  const std::int64_t n = plan.numel();
  if (n == 0) return;
  be.activate();
  const auto blocks = static_cast<unsigned>((n + kThreads - 1) / kThreads);
  map_kernel<<<blocks, kThreads, 0, be.stream()>>>(plan, n, f, out, in...);
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

template <class T>
struct FillFn {
  T value;
  __device__ T operator()() const { return value; }
};
template <class O, class T>
struct CastFn {
  __device__ O operator()(T x) const { return static_cast<O>(x); }
};
template <class Op, class T>
struct UnaryFn {
  UnaryParams p;
  __device__ T operator()(T x) const { return Op::template f<T>(x, p); }
};
template <class Op, class T>
struct BinaryFn {
  __device__ auto operator()(T a, T b) const { return Op::template f<T>(a, b); }
};
template <class Op, class T>
struct UnaryBackwardFn {
  UnaryParams p;
  __device__ T operator()(T g, T x, T y) const { return g * Op::template df<T>(x, y, p); }
};
template <class T>
struct WhereFn {
  __device__ T operator()(bool c, T a, T b) const { return c ? a : b; }
};

template <class Op>
void run_unary(const CudaBackend& be, const ElementwisePlan<2>& plan, DType t, void* out, const void* in, UnaryParams p) {
  auto go = [&](auto tag) {
    using T = decltype(tag);
    launch(be, plan, UnaryFn<Op, T>{p}, static_cast<T*>(out), static_cast<const T*>(in));
  };
  if constexpr (Op::floating_only) {
    TINYNN_DISPATCH_FLOATING(t, go(T{}))
  } else {
    TINYNN_DISPATCH_NUMERIC(t, go(T{}))
  }
}

template <class Op>
void run_binary(const CudaBackend& be, const ElementwisePlan<3>& plan, DType t, void* out, const void* a, const void* b) {
  auto go = [&](auto tag) {
    using T = decltype(tag);
    using Out = std::conditional_t<Op::comparison, bool, T>;
    launch(be, plan, BinaryFn<Op, T>{}, static_cast<Out*>(out), static_cast<const T*>(a), static_cast<const T*>(b));
  };
  TINYNN_DISPATCH_NUMERIC(t, go(T{}))
}

}  // namespace

void CudaBackend::fill(const ElementwisePlan<1>& plan, DType t, void* out, double value) {
  TINYNN_DISPATCH_ALL(t, launch(*this, plan, FillFn<T>{static_cast<T>(value)}, static_cast<T*>(out)))
}

void CudaBackend::copy(const ElementwisePlan<2>& plan, DType out_t, void* out, DType in_t, const void* in) {
  TINYNN_DISPATCH_ALL(out_t, {
    using O = T;
    TINYNN_DISPATCH_ALL(in_t, launch(*this, plan, CastFn<O, T>{}, static_cast<O*>(out), static_cast<const T*>(in)))
  })
}

void CudaBackend::unary(UnaryOp op, const UnaryParams& params, const ElementwisePlan<2>& plan, DType t, void* out,
                        const void* in) {
#define TINYNN_CASE(Name, name) \
  case UnaryOp::Name: run_unary<pointwise::Name>(*this, plan, t, out, in, params); break;
  switch (op) { TINYNN_UNARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
}

void CudaBackend::unary_backward(UnaryOp op, const UnaryParams& params, const ElementwisePlan<4>& plan, DType t, void* gx,
                                 const void* g, const void* x, const void* y) {
#define TINYNN_CASE(Name, name)                                                                                        \
  case UnaryOp::Name:                                                                                                  \
    TINYNN_DISPATCH_FLOATING(t, launch(*this, plan, UnaryBackwardFn<pointwise::Name, T>{params}, static_cast<T*>(gx),     \
                                       static_cast<const T*>(g), static_cast<const T*>(x), static_cast<const T*>(y))) \
    break;
  switch (op) { TINYNN_UNARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
}

void CudaBackend::binary(BinaryOp op, const ElementwisePlan<3>& plan, DType t, void* out, const void* a, const void* b) {
#define TINYNN_CASE(Name, name) \
  case BinaryOp::Name: run_binary<pointwise::Name>(*this, plan, t, out, a, b); break;
  switch (op) { TINYNN_BINARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
}

void CudaBackend::where(const ElementwisePlan<4>& plan, DType t, void* out, const bool* cond, const void* a,
                        const void* b) {
  TINYNN_DISPATCH_ALL(t, launch(*this, plan, WhereFn<T>{}, static_cast<T*>(out), cond, static_cast<const T*>(a),
                                static_cast<const T*>(b)))
}

}  // namespace tinynn::cuda
