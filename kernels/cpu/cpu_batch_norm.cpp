// CPU batch normalization (see BatchNormPlan): threads take ranges of channels, and each channel
// is summed in double over its N contiguous rows of `inner` values, in a fixed order (the same
// result for any thread count). Two passes for the statistics, one to apply, two for the backward.
#include <cmath>
#include <utility>

#include <tinynn/core/detail/dispatch.h>

#include "../common/batch_norm_math.h"
#include "cpu_backend.h"
#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

// Sums over channel c's rows of f(x) (and, when Second, of f2(x, g)): each row of `inner` values
// in 16 lanes of T (independent chains that vectorize), the rows' totals in double. A fixed
// order, so the same result on any thread count.
template <bool Second, class T, class F, class F2>
std::pair<double, double> channel_sums(const BatchNormPlan& p, const T* x, const T* g, std::int64_t c, F f, F2 f2) {
  constexpr int kLanes = 16;
  double sa = 0, sb = 0;
  const std::int64_t inner = p.inner, stride = p.c * p.inner;
  for (std::int64_t n = 0; n < p.n; ++n) {
    const T* xr = x + n * stride + c * inner;
    const T* gr = Second ? g + n * stride + c * inner : nullptr;
    T a[kLanes] = {}, b[kLanes] = {};
    std::int64_t i = 0;
    for (; i + kLanes <= inner; i += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        a[l] += f(xr[i + l]);
        if constexpr (Second) b[l] += f2(xr[i + l], gr[i + l]);
      }
    double ra = 0, rb = 0;
    for (; i < inner; ++i) {
      ra += static_cast<double>(f(xr[i]));
      if constexpr (Second) rb += static_cast<double>(f2(xr[i], gr[i]));
    }
    for (int l = 0; l < kLanes; ++l) ra += static_cast<double>(a[l]), rb += static_cast<double>(b[l]);
    sa += ra, sb += rb;
  }
  return {sa, sb};
}

template <class Fn>
void for_each_channel(const BatchNormPlan& p, const Fn& fn) {
  parallel_chunks_if(p.c, p.n * p.c * p.inner * 4, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t c = begin; c < end; ++c) fn(c);
  });
}

template <class T>
void stats(const BatchNormPlan& p, T* mean, T* var, T* invstd, const T* x) {
  const double count = static_cast<double>(p.n * p.inner);
  for_each_channel(p, [&](std::int64_t c) {
    auto none = [](T, T) { return T(0); };
    const T* no_g = nullptr;
    const double m = channel_sums<false>(p, x, no_g, c, [](T v) { return v; }, none).first / count;
    // The variance about the mean (a second pass: no cancellation as in E[x^2] - E[x]^2).
    const T mt = static_cast<T>(m);
    const double v = channel_sums<false>(p, x, no_g, c, [mt](T v) { return (v - mt) * (v - mt); }, none).first / count;
    mean[c] = static_cast<T>(m), var[c] = static_cast<T>(v), invstd[c] = static_cast<T>(1.0 / std::sqrt(v + p.eps));
  });
}

template <class T>
void apply(const BatchNormPlan& p, T* y, const T* x, const T* mean, const T* invstd, const T* weight, const T* bias) {
  for_each_channel(p, [&](std::int64_t c) {
    const auto [scale, shift] = batch_norm_math::fold(mean[c], invstd[c], weight, bias, c);
    const std::int64_t inner = p.inner;
    for (std::int64_t n = 0; n < p.n; ++n) {
      const T* __restrict in = x + (n * p.c + c) * inner;
      T* __restrict out = y + (n * p.c + c) * inner;
      for (std::int64_t i = 0; i < inner; ++i) out[i] = in[i] * scale + shift;
    }
  });
}

template <class T>
void backward(const BatchNormPlan& p, T* gx, T* gweight, T* gbias, const T* g, const T* x, const T* mean, const T* invstd,
              const T* weight) {
  const double count = static_cast<double>(p.n * p.inner);
  for_each_channel(p, [&](std::int64_t c) {
    const double m = static_cast<double>(mean[c]), is = static_cast<double>(invstd[c]);
    // One pass for both sums: of g (over g as the "x" of channel_sums) and of g (x - mean).
    const T mt = mean[c];
    const auto sums = channel_sums<true>(p, g, x, c, [](T gv) { return gv; }, [mt](T gv, T xv) { return gv * (xv - mt); });
    const double sum_g = sums.first, sum_gxhat = sums.second * is;
    if (gbias) gbias[c] = static_cast<T>(sum_g);
    if (gweight) gweight[c] = static_cast<T>(sum_gxhat);
    if (!gx) return;
    const double scale = is * (weight ? static_cast<double>(weight[c]) : 1.0);
    const auto k = batch_norm_math::input_grad(scale, m, is, sum_g, sum_gxhat, count, p.batch_statistics);
    const T dg = static_cast<T>(k.dg), dx = static_cast<T>(k.dx), d0 = static_cast<T>(k.d0);
    const std::int64_t inner = p.inner;
    for (std::int64_t n = 0; n < p.n; ++n) {
      const std::int64_t base = (n * p.c + c) * inner;
      const T* __restrict gr = g + base;
      const T* __restrict xr = x + base;
      T* __restrict out = gx + base;
      for (std::int64_t i = 0; i < inner; ++i) out[i] = dg * gr[i] + dx * xr[i] + d0;
    }
  });
}

}  // namespace

void CpuBackend::batch_norm_stats(const BatchNormPlan& plan, DType t, void* mean, void* var, void* invstd, const void* x) {
  TINYNN_DISPATCH_FLOATING(t, stats(plan, static_cast<T*>(mean), static_cast<T*>(var), static_cast<T*>(invstd),
                                    static_cast<const T*>(x)))
}

void CpuBackend::batch_norm_apply(const BatchNormPlan& plan, DType t, void* y, const void* x, const void* mean,
                                  const void* invstd, const void* weight, const void* bias) {
  TINYNN_DISPATCH_FLOATING(t, apply(plan, static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(mean),
                                    static_cast<const T*>(invstd), static_cast<const T*>(weight), static_cast<const T*>(bias)))
}

void CpuBackend::batch_norm_backward(const BatchNormPlan& plan, DType t, void* gx, void* gweight, void* gbias, const void* g,
                                     const void* x, const void* mean, const void* invstd, const void* weight) {
  TINYNN_DISPATCH_FLOATING(t, backward(plan, static_cast<T*>(gx), static_cast<T*>(gweight), static_cast<T*>(gbias),
                                       static_cast<const T*>(g), static_cast<const T*>(x), static_cast<const T*>(mean),
                                       static_cast<const T*>(invstd), static_cast<const T*>(weight)))
}

}  // namespace tinynn::cpu
