// CPU convolution and pooling: a float32 convolution's forward and weight gradient on tinynn's
// patch loops when it has few taps (conv_patches.h: a first layer on images), its data gradient
// and other convolutions on oneDNN when built with it; everything else on the reference kernels
// of kernels/common/window_reference.h, one output element per call, threads taking ranges of
// outputs (so results do not depend on the thread count).
#include <tinynn/core/detail/dispatch.h>
#include <tinynn/core/error.h>

#include <algorithm>
#include <string>

#include "../common/window_reference.h"
#include "conv_patches.h"
#include "cpu_backend.h"
#include "strided_loop.h"
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
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

// Max pooling whose windows all lie inside the input (no padding or dilation, no ceil_mode
// overhang: the usual 2x2 / stride 2): no bounds checks, and KH x KW known at compile time for the
// common sizes (0: from the plan). Same winners as window::max_pool_at: the first largest in
// row-major order, and a NaN wins.
template <class T, int KH, int KW>
void max_pool_interior_sized(const PoolPlan& pl, T* y, std::int64_t* indices, const T* x) {
  // Sizes as locals: the int64 index stores could alias the plan's fields, which would make the
  // compiler reload them on every iteration.
  const std::int64_t kh = KH > 0 ? KH : pl.kh, kw = KW > 0 ? KW : pl.kw, h = pl.h, w = pl.w, p = pl.p, q = pl.q;
  const std::int64_t sh = pl.stride_h, sw = pl.stride_w, planes = pl.n * pl.c, out = p * q;
  for_each_output(planes, planes * out * kh * kw, [=](std::int64_t plane) {
    const T* in = x + plane * h * w;
    T* yp = y + plane * out;
    std::int64_t* ip = indices + plane * out;
    for (std::int64_t i = 0; i < p; ++i)
      for (std::int64_t j = 0; j < q; ++j) {
        const std::int64_t start = i * sh * w + j * sw;
        T best = in[start];
        std::int64_t at = start;
        for (std::int64_t a = 0; a < kh; ++a)
          for (std::int64_t b = 0; b < kw; ++b) {
            const std::int64_t k = start + a * w + b;
            const T v = in[k];
            // Selects, not branches: on real data the comparison is a coin toss for the predictor.
            // !(v <= best) also takes a NaN v; best == best keeps a NaN best.
            const bool take = !(v <= best) & (best == best);
            best = take ? v : best;
            at = take ? k : at;
          }
        yp[i * q + j] = best;
        ip[i * q + j] = at;
      }
  });
}

// 2x2 windows at stride 2 (the usual CNN pool): a tree of three comparisons per output (top pair,
// bottom pair, then the two winners; the first wins ties, so the winner is the row-major scan's),
// as selects rather than branches (on real data each comparison is a coin toss for the branch
// predictor). NaN is left out of the selects; returns whether the plane holds one.
template <class T>
bool max_pool_2x2_stride2_plane(const T* in, std::int64_t w, std::int64_t p, std::int64_t q, T* y, std::int64_t* indices) {
  bool nan = false;
  for (std::int64_t i = 0; i < p; ++i) {
    const T* r0 = in + 2 * i * w;
    const T* r1 = r0 + w;
    const std::int64_t base = 2 * i * w;
    for (std::int64_t j = 0; j < q; ++j) {
      const T a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
      nan |= (a != a) | (b != b) | (c != c) | (d != d);
      const T top = b > a ? b : a, bottom = d > c ? d : c;
      const std::int64_t top_at = base + 2 * j + (b > a ? 1 : 0), bottom_at = base + w + 2 * j + (d > c ? 1 : 0);
      y[i * q + j] = bottom > top ? bottom : top;
      indices[i * q + j] = bottom > top ? bottom_at : top_at;
    }
  }
  return nan;
}

#if defined(__AVX512F__)
// GCC 12's AVX-512 conversion intrinsics start from an "undefined" register that it then reports
// as maybe uninitialized (a false positive inside its own header).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// The same for float, 16 outputs a vector: each input row's 32 values split into even and odd
// columns, the same three comparisons, the winners' indices in int32 lanes widened to int64.
template <>
bool max_pool_2x2_stride2_plane(const float* in, std::int64_t w, std::int64_t p, std::int64_t q, float* y,
                                std::int64_t* indices) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), one = _mm512_set1_epi32(1);
  const __m512i even = _mm512_add_epi32(lane, lane), odd = _mm512_add_epi32(even, one);
  const auto first = [](std::int64_t count) {  // a mask of the first `count` lanes (none below 1, all from 16)
    return static_cast<__mmask16>(count >= 16 ? 0xFFFF : count <= 0 ? 0 : (1u << count) - 1);
  };
  __mmask16 nan = 0;
  for (std::int64_t i = 0; i < p; ++i) {
    const float* r0 = in + 2 * i * w;
    const float* r1 = r0 + w;
    for (std::int64_t j = 0; j < q; j += 16) {
      const std::int64_t outs = std::min<std::int64_t>(16, q - j);
      const __mmask16 lo = first(2 * outs), hi = first(2 * outs - 16), out_mask = first(outs);
      // One input row's winners of each column pair, and which were the odd (second) column.
      auto row = [&](const float* r, __m512& best, __mmask16& took_odd) {
        const __m512 v0 = _mm512_maskz_loadu_ps(lo, r + 2 * j), v1 = _mm512_maskz_loadu_ps(hi, r + 2 * j + 16);
        nan |= _mm512_cmp_ps_mask(v0, v0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q);
        const __m512 a = _mm512_permutex2var_ps(v0, even, v1), b = _mm512_permutex2var_ps(v0, odd, v1);
        took_odd = _mm512_cmp_ps_mask(b, a, _CMP_GT_OQ);
        best = _mm512_mask_blend_ps(took_odd, a, b);
      };
      __m512 top, bottom;
      __mmask16 top_odd, bottom_odd;
      row(r0, top, top_odd);
      row(r1, bottom, bottom_odd);
      const __mmask16 took_bottom = _mm512_cmp_ps_mask(bottom, top, _CMP_GT_OQ);
      _mm512_mask_storeu_ps(y + i * q + j, out_mask, _mm512_mask_blend_ps(took_bottom, top, bottom));
      // Where in the plane: row 2i or 2i + 1, column 2 (j + lane) or one more.
      const __m512i column = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(2 * i * w + 2 * j)), even);
      const __m512i top_at = _mm512_mask_add_epi32(column, top_odd, column, one);
      const __m512i bottom_at =
          _mm512_add_epi32(_mm512_mask_add_epi32(column, bottom_odd, column, one), _mm512_set1_epi32(static_cast<int>(w)));
      const __m512i at = _mm512_mask_blend_epi32(took_bottom, top_at, bottom_at);
      _mm512_mask_storeu_epi64(indices + i * q + j, static_cast<__mmask8>(out_mask),
                               _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(at, 0)));
      _mm512_mask_storeu_epi64(indices + i * q + j + 8, static_cast<__mmask8>(out_mask >> 8),
                               _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(at, 1)));
    }
  }
  return nan != 0;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// One plane a task; a plane holding a NaN is redone by the general kernel, where a NaN wins as in
// PyTorch.
template <class T>
void max_pool_2x2_stride2(const PoolPlan& plan, T* y, std::int64_t* indices, const T* x) {
  const std::int64_t planes = plan.n * plan.c;
  for_each_output(planes, planes * plan.p * plan.q * 4, [&plan, y, indices, x](std::int64_t plane) {
    // Locals, not the closure's members: the stores below could alias those, forcing reloads.
    const std::int64_t w = plan.w, p = plan.p, q = plan.q, out = p * q;
    const T* in = x + plane * plan.h * w;
    T* yp = y + plane * out;
    std::int64_t* ip = indices + plane * out;
    if (max_pool_2x2_stride2_plane(in, w, p, q, yp, ip))
      for (std::int64_t i = 0; i < p; ++i)
        for (std::int64_t j = 0; j < q; ++j) yp[i * q + j] = window::max_pool_at(plan, in, i, j, &ip[i * q + j]);
  });
}

template <class T>
bool max_pool_interior(const PoolPlan& pl, T* y, std::int64_t* indices, const T* x) {
  if (pl.pad_h != 0 || pl.pad_w != 0 || pl.dil_h != 1 || pl.dil_w != 1 || (pl.p - 1) * pl.stride_h + pl.kh > pl.h ||
      (pl.q - 1) * pl.stride_w + pl.kw > pl.w)
    return false;
  if (pl.kh == 2 && pl.kw == 2 && pl.stride_h == 2 && pl.stride_w == 2) max_pool_2x2_stride2(pl, y, indices, x);
  else if (pl.kh == 2 && pl.kw == 2) max_pool_interior_sized<T, 2, 2>(pl, y, indices, x);
  else if (pl.kh == 3 && pl.kw == 3) max_pool_interior_sized<T, 3, 3>(pl, y, indices, x);
  else max_pool_interior_sized<T, 0, 0>(pl, y, indices, x);
  return true;
}

// One (n, c) plane per task: y and indices [N, C, P, Q].
template <class T>
void max_pool(const PoolPlan& pl, T* y, std::int64_t* indices, const T* x) {
  if (max_pool_interior(pl, y, indices, x)) return;
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

// The first layer's own loops (conv_patches.h) read and write plain NCHW; where the caller hands a
// blocked tensor (only those conv2d_layouts named), the oneDNN primitive that takes it runs instead.
ConvLayouts CpuBackend::conv2d_layouts(const ConvPlan& plan, DType t, ConvPass pass, bool bias) {
  if (t != DType::Float32) return {};
#ifdef TINYNN_HAVE_ONEDNN
  if (pass == ConvPass::Forward && patches_fit(plan)) return {};  // the patch loops write y plain
  return onednn_conv2d_layouts(plan, pass, bias);
#else
  (void)plan, (void)pass, (void)bias;
  return {};
#endif
}

bool CpuBackend::channel_blocked_to_plain(const std::int64_t (&nchw)[4], int lanes, void* plain, const void* blocked) {
#ifdef TINYNN_HAVE_ONEDNN
  return onednn_channel_blocked_to_plain(nchw, lanes, static_cast<float*>(plain), static_cast<const float*>(blocked));
#else
  (void)nchw, (void)lanes, (void)plain, (void)blocked;
  return false;
#endif
}

// A blocked argument was promised by conv2d_layouts, so oneDNN runs the pass: not running it is a bug.
[[maybe_unused]] static void require_blocked_pass(bool ran, const char* pass) {
  if (!ran) throw NotImplementedError(std::string("tinynn: (internal) ") + pass + " was given a channel-blocked tensor it cannot take");
}

void CpuBackend::conv2d(const ConvPlan& plan, DType t, void* y, const void* x, const void* w, const void* bias,
                        const ChannelBlockedArgs& blocked) {
  const bool any_blocked = blocked.x != nullptr || blocked.y != nullptr;
  if (t == DType::Float32 && !any_blocked && patches_fit(plan)) {
    patch_conv2d(plan, static_cast<float*>(y), static_cast<const float*>(x), static_cast<const float*>(w),
                 static_cast<const float*>(bias));
    return;
  }
#ifdef TINYNN_HAVE_ONEDNN
  const bool ran = t == DType::Float32 && onednn_conv2d_f32(plan, static_cast<float*>(y), static_cast<const float*>(x),
                                                            static_cast<const float*>(w), static_cast<const float*>(bias), blocked);
  if (any_blocked) require_blocked_pass(ran, "conv2d");
  if (ran) return;
#endif
  TINYNN_DISPATCH_FLOATING(t, conv_reference(plan, static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(w),
                                             static_cast<const T*>(bias)))
}

void CpuBackend::conv2d_backward_data(const ConvPlan& plan, DType t, void* gx, const void* gy, const void* w,
                                      const ChannelBlockedArgs& blocked) {
#ifdef TINYNN_HAVE_ONEDNN
  const bool any_blocked = blocked.gy != nullptr || blocked.gx != nullptr;
  const bool ran = t == DType::Float32 && onednn_conv2d_backward_data_f32(plan, static_cast<float*>(gx), static_cast<const float*>(gy),
                                                                          static_cast<const float*>(w), blocked);
  if (any_blocked) require_blocked_pass(ran, "conv2d_backward_data");
  if (ran) return;
#else
  (void)blocked;
#endif
  TINYNN_DISPATCH_FLOATING(t, conv_backward_data_reference(plan, static_cast<T*>(gx), static_cast<const T*>(gy),
                                                           static_cast<const T*>(w)))
}

void CpuBackend::conv2d_backward_weight(const ConvPlan& plan, DType t, void* gw, const void* x, const void* gy,
                                        const ChannelBlockedArgs& blocked) {
  const bool any_blocked = blocked.x != nullptr || blocked.gy != nullptr;
  if (t == DType::Float32 && !any_blocked && patches_fit(plan)) {
    patch_conv2d_backward_weight(plan, static_cast<float*>(gw), static_cast<const float*>(x), static_cast<const float*>(gy));
    return;
  }
#ifdef TINYNN_HAVE_ONEDNN
  const bool ran = t == DType::Float32 && onednn_conv2d_backward_weight_f32(plan, static_cast<float*>(gw), static_cast<const float*>(x),
                                                                            static_cast<const float*>(gy), blocked);
  if (any_blocked) require_blocked_pass(ran, "conv2d_backward_weight");
  if (ran) return;
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
