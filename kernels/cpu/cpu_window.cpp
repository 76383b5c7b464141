// CPU convolution and pooling: float32 convolution on oneDNN when built with it; everything else
// on the reference kernels of kernels/common/window_reference.h, one output element per call,
// threads taking ranges of outputs (so results do not depend on the thread count).
#include <tinynn/core/detail/dispatch.h>

#include "../common/window_reference.h"
#include "cpu_backend.h"
#include "strided_loop.h"
#ifdef TINYNN_HAVE_ONEDNN
#include "onednn_conv.h"
#endif

namespace tinynn::cpu {

namespace {

// Calls fn(i) for i in [0, n), split across threads when `work` is large enough.
template <class Fn>
void for_each_output(std::int64_t n, std::int64_t work, const Fn& fn) {
  parallel_chunks_if(n, work, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) fn(i);
  });
}

// y [N, K, P, Q]
template <class T>
void conv_reference(const ConvPlan& pl, T* y, const T* x, const T* w, const T* bias) {
  const std::int64_t per_out = pl.c / pl.groups * pl.r * pl.s;
  for_each_output(pl.n * pl.k * pl.p, pl.n * pl.k * pl.p * pl.q * per_out, [&](std::int64_t row) {
    const std::int64_t p = row % pl.p, k = row / pl.p % pl.k, n = row / (pl.p * pl.k);
    for (std::int64_t q = 0; q < pl.q; ++q) y[row * pl.q + q] = window::conv_at(pl, x, w, bias, n, k, p, q);
  });
}

// gx [N, C, H, W]
template <class T>
void conv_backward_data_reference(const ConvPlan& pl, T* gx, const T* gy, const T* w) {
  const std::int64_t per_out = pl.k / pl.groups * pl.r * pl.s;
  for_each_output(pl.n * pl.c * pl.h, pl.n * pl.c * pl.h * pl.w * per_out, [&](std::int64_t row) {
    const std::int64_t h = row % pl.h, c = row / pl.h % pl.c, n = row / (pl.h * pl.c);
    for (std::int64_t col = 0; col < pl.w; ++col) gx[row * pl.w + col] = window::conv_backward_data_at(pl, gy, w, n, c, h, col);
  });
}

// gw [K, C/G, R, S]
template <class T>
void conv_backward_weight_reference(const ConvPlan& pl, T* gw, const T* x, const T* gy) {
  const std::int64_t cg = pl.c / pl.groups, count = pl.k * cg * pl.r * pl.s;
  for_each_output(count, count * pl.n * pl.p * pl.q, [&](std::int64_t i) {
    const std::int64_t s = i % pl.s, r = i / pl.s % pl.r, ci = i / (pl.s * pl.r) % cg, k = i / (pl.s * pl.r * cg);
    gw[i] = window::conv_backward_weight_at(pl, x, gy, k, ci, r, s);
  });
}

// One (n, c) plane per task: y and indices [N, C, P, Q].
template <class T>
void max_pool(const PoolPlan& pl, T* y, std::int64_t* indices, const T* x) {
  const std::int64_t planes = pl.n * pl.c, out = pl.p * pl.q;
  for_each_output(planes, planes * out * pl.kh * pl.kw, [&](std::int64_t plane) {
    const T* in = x + plane * pl.h * pl.w;
    for (std::int64_t i = 0; i < pl.p; ++i)
      for (std::int64_t j = 0; j < pl.q; ++j) {
        const std::int64_t o = plane * out + i * pl.q + j;
        y[o] = window::max_pool_at(pl, in, i, j, &indices[o]);
      }
  });
}

template <class T>
void avg_pool(const PoolPlan& pl, T* y, const T* x) {
  const std::int64_t planes = pl.n * pl.c, out = pl.p * pl.q;
  for_each_output(planes, planes * out * pl.kh * pl.kw, [&](std::int64_t plane) {
    const T* in = x + plane * pl.h * pl.w;
    for (std::int64_t i = 0; i < pl.p; ++i)
      for (std::int64_t j = 0; j < pl.q; ++j) y[plane * out + i * pl.q + j] = window::avg_pool_at(pl, in, i, j);
  });
}

template <class T>
void avg_pool_backward(const PoolPlan& pl, T* gx, const T* gy) {
  const std::int64_t planes = pl.n * pl.c, in = pl.h * pl.w;
  for_each_output(planes, planes * in * pl.kh * pl.kw, [&](std::int64_t plane) {
    const T* g = gy + plane * pl.p * pl.q;
    for (std::int64_t h = 0; h < pl.h; ++h)
      for (std::int64_t col = 0; col < pl.w; ++col) gx[plane * in + h * pl.w + col] = window::avg_pool_backward_at(pl, g, h, col);
  });
}

}  // namespace

void CpuBackend::conv2d(const ConvPlan& plan, DType t, void* y, const void* x, const void* w, const void* bias) {
#ifdef TINYNN_HAVE_ONEDNN
  if (t == DType::Float32 && onednn_conv2d_f32(plan, static_cast<float*>(y), static_cast<const float*>(x),
                                               static_cast<const float*>(w), static_cast<const float*>(bias)))
    return;
#endif
  TINYNN_DISPATCH_FLOATING(t, conv_reference(plan, static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(w),
                                             static_cast<const T*>(bias)))
}

void CpuBackend::conv2d_backward_data(const ConvPlan& plan, DType t, void* gx, const void* gy, const void* w) {
#ifdef TINYNN_HAVE_ONEDNN
  if (t == DType::Float32 && onednn_conv2d_backward_data_f32(plan, static_cast<float*>(gx), static_cast<const float*>(gy),
                                                             static_cast<const float*>(w)))
    return;
#endif
  TINYNN_DISPATCH_FLOATING(t, conv_backward_data_reference(plan, static_cast<T*>(gx), static_cast<const T*>(gy),
                                                           static_cast<const T*>(w)))
}

void CpuBackend::conv2d_backward_weight(const ConvPlan& plan, DType t, void* gw, const void* x, const void* gy) {
#ifdef TINYNN_HAVE_ONEDNN
  if (t == DType::Float32 && onednn_conv2d_backward_weight_f32(plan, static_cast<float*>(gw), static_cast<const float*>(x),
                                                               static_cast<const float*>(gy)))
    return;
#endif
  TINYNN_DISPATCH_FLOATING(t, conv_backward_weight_reference(plan, static_cast<T*>(gw), static_cast<const T*>(x),
                                                             static_cast<const T*>(gy)))
}

void CpuBackend::max_pool2d(const PoolPlan& plan, DType t, void* y, std::int64_t* indices, const void* x) {
  TINYNN_DISPATCH_FLOATING(t, max_pool(plan, static_cast<T*>(y), indices, static_cast<const T*>(x)))
}

void CpuBackend::avg_pool2d(const PoolPlan& plan, DType t, void* y, const void* x) {
  TINYNN_DISPATCH_FLOATING(t, avg_pool(plan, static_cast<T*>(y), static_cast<const T*>(x)))
}

void CpuBackend::avg_pool2d_backward(const PoolPlan& plan, DType t, void* gx, const void* gy) {
  TINYNN_DISPATCH_FLOATING(t, avg_pool_backward(plan, static_cast<T*>(gx), static_cast<const T*>(gy)))
}

}  // namespace tinynn::cpu
