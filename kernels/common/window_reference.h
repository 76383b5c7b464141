// The reference convolution and pooling kernels, one output element per call: the CPU's
// reference loops and the CUDA kernels both run these (TINYNN_HD), so the two backends compute
// the same sums in the same order. They are the oracle the oneDNN path is tested against.
// Accumulation is in double (Acc), so float32 results are correctly rounded sums.
#pragma once
#include <tinynn/core/backend.h>
#include <tinynn/core/host_device.h>

namespace tinynn::window {

using Acc = double;

// y[n, k, p, q] (see ConvPlan); bias may be null.
template <class T>
TINYNN_HD T conv_at(const ConvPlan& pl, const T* x, const T* w, const T* bias, std::int64_t n, std::int64_t k,
                    std::int64_t p, std::int64_t q) {
  const std::int64_t cg = pl.c / pl.groups, c0 = k / (pl.k / pl.groups) * cg;
  Acc acc = bias ? static_cast<Acc>(bias[k]) : Acc(0);
  for (std::int64_t c = 0; c < cg; ++c)
    for (std::int64_t r = 0; r < pl.r; ++r) {
      const std::int64_t h = p * pl.stride_h - pl.pad_h + r * pl.dil_h;
      if (h < 0 || h >= pl.h) continue;
      const T* xrow = x + ((n * pl.c + c0 + c) * pl.h + h) * pl.w;
      const T* wrow = w + ((k * cg + c) * pl.r + r) * pl.s;
      for (std::int64_t s = 0; s < pl.s; ++s) {
        const std::int64_t col = q * pl.stride_w - pl.pad_w + s * pl.dil_w;
        if (col >= 0 && col < pl.w) acc += static_cast<Acc>(xrow[col]) * static_cast<Acc>(wrow[s]);
      }
    }
  return static_cast<T>(acc);
}

// gx[n, c, h, w]: every (k, r, s) of c's group whose window position lands on (h, w).
template <class T>
TINYNN_HD T conv_backward_data_at(const ConvPlan& pl, const T* gy, const T* w, std::int64_t n, std::int64_t c,
                                  std::int64_t h, std::int64_t col) {
  const std::int64_t cg = pl.c / pl.groups, kg = pl.k / pl.groups, g = c / cg, ci = c - g * cg;
  Acc acc = 0;
  for (std::int64_t r = 0; r < pl.r; ++r) {
    const std::int64_t ph = h + pl.pad_h - r * pl.dil_h;  // = p * stride_h
    if (ph < 0 || ph % pl.stride_h != 0 || ph / pl.stride_h >= pl.p) continue;
    const std::int64_t p = ph / pl.stride_h;
    for (std::int64_t s = 0; s < pl.s; ++s) {
      const std::int64_t qw = col + pl.pad_w - s * pl.dil_w;
      if (qw < 0 || qw % pl.stride_w != 0 || qw / pl.stride_w >= pl.q) continue;
      const std::int64_t q = qw / pl.stride_w;
      for (std::int64_t k = g * kg; k < (g + 1) * kg; ++k)
        acc += static_cast<Acc>(gy[((n * pl.k + k) * pl.p + p) * pl.q + q]) *
               static_cast<Acc>(w[((k * cg + ci) * pl.r + r) * pl.s + s]);
    }
  }
  return static_cast<T>(acc);
}

// gw[k, c', r, s]: sum over the batch and the output positions.
template <class T>
TINYNN_HD T conv_backward_weight_at(const ConvPlan& pl, const T* x, const T* gy, std::int64_t k, std::int64_t ci,
                                    std::int64_t r, std::int64_t s) {
  const std::int64_t cg = pl.c / pl.groups, c = k / (pl.k / pl.groups) * cg + ci;
  Acc acc = 0;
  for (std::int64_t n = 0; n < pl.n; ++n)
    for (std::int64_t p = 0; p < pl.p; ++p) {
      const std::int64_t h = p * pl.stride_h - pl.pad_h + r * pl.dil_h;
      if (h < 0 || h >= pl.h) continue;
      const T* xrow = x + ((n * pl.c + c) * pl.h + h) * pl.w;
      const T* grow = gy + ((n * pl.k + k) * pl.p + p) * pl.q;
      for (std::int64_t q = 0; q < pl.q; ++q) {
        const std::int64_t col = q * pl.stride_w - pl.pad_w + s * pl.dil_w;
        if (col >= 0 && col < pl.w) acc += static_cast<Acc>(xrow[col]) * static_cast<Acc>(grow[q]);
      }
    }
  return static_cast<T>(acc);
}

// y[n, c, i, j] of max pooling over the plane `x` (x + (n C + c) H W); writes the winner's flat index.
template <class T>
TINYNN_HD T max_pool_at(const PoolPlan& pl, const T* plane, std::int64_t i, std::int64_t j, std::int64_t* index) {
  T best = T(0);
  std::int64_t at = -1;
  for (std::int64_t a = 0; a < pl.kh; ++a) {
    const std::int64_t h = i * pl.stride_h - pl.pad_h + a * pl.dil_h;
    if (h < 0 || h >= pl.h) continue;
    for (std::int64_t b = 0; b < pl.kw; ++b) {
      const std::int64_t col = j * pl.stride_w - pl.pad_w + b * pl.dil_w;
      if (col < 0 || col >= pl.w) continue;
      const T v = plane[h * pl.w + col];
      // NaN wins, as in PyTorch: a NaN anywhere in the window makes the output NaN.
      if (at < 0 || v > best || (v != v && best == best)) best = v, at = h * pl.w + col;
    }
  }
  *index = at;
  return best;
}

// The rows [h0, h1) and columns [w0, w1) of avg-pool window (i, j) inside the input, and its divisor.
struct AvgWindow {
  std::int64_t h0, h1, w0, w1, divisor;
};
TINYNN_HD inline AvgWindow avg_window(const PoolPlan& pl, std::int64_t i, std::int64_t j) {
  std::int64_t h0 = i * pl.stride_h - pl.pad_h, w0 = j * pl.stride_w - pl.pad_w;
  std::int64_t h1 = h0 + pl.kh, w1 = w0 + pl.kw;
  // The window clipped to the padded input (ceil_mode can hang it past the padding).
  h1 = h1 < pl.h + pl.pad_h ? h1 : pl.h + pl.pad_h;
  w1 = w1 < pl.w + pl.pad_w ? w1 : pl.w + pl.pad_w;
  const std::int64_t padded = (h1 - h0) * (w1 - w0);
  h0 = h0 > 0 ? h0 : 0, w0 = w0 > 0 ? w0 : 0;
  h1 = h1 < pl.h ? h1 : pl.h, w1 = w1 < pl.w ? w1 : pl.w;
  const std::int64_t real = (h1 > h0 ? h1 - h0 : 0) * (w1 > w0 ? w1 - w0 : 0);
  return {h0, h1, w0, w1, pl.count_include_pad ? padded : real};
}

template <class T>
TINYNN_HD T avg_pool_at(const PoolPlan& pl, const T* plane, std::int64_t i, std::int64_t j) {
  const AvgWindow win = avg_window(pl, i, j);
  Acc acc = 0;
  for (std::int64_t h = win.h0; h < win.h1; ++h)
    for (std::int64_t col = win.w0; col < win.w1; ++col) acc += static_cast<Acc>(plane[h * pl.w + col]);
  return static_cast<T>(win.divisor > 0 ? acc / static_cast<Acc>(win.divisor) : Acc(0));
}

// gx at (h, w) of one plane: every window covering it passes on its gradient over its divisor.
template <class T>
TINYNN_HD T avg_pool_backward_at(const PoolPlan& pl, const T* gy_plane, std::int64_t h, std::int64_t col) {
  // Windows i with i sh - ph <= h < i sh - ph + kh.
  const std::int64_t hi_num = h + pl.pad_h, wi_num = col + pl.pad_w;
  std::int64_t i0 = hi_num - pl.kh + 1, j0 = wi_num - pl.kw + 1;
  i0 = i0 > 0 ? (i0 + pl.stride_h - 1) / pl.stride_h : 0;
  j0 = j0 > 0 ? (j0 + pl.stride_w - 1) / pl.stride_w : 0;
  std::int64_t i1 = hi_num / pl.stride_h + 1, j1 = wi_num / pl.stride_w + 1;
  i1 = i1 < pl.p ? i1 : pl.p, j1 = j1 < pl.q ? j1 : pl.q;
  Acc acc = 0;
  for (std::int64_t i = i0; i < i1; ++i)
    for (std::int64_t j = j0; j < j1; ++j) {
      const AvgWindow win = avg_window(pl, i, j);
      if (h >= win.h0 && h < win.h1 && col >= win.w0 && col < win.w1 && win.divisor > 0)
        acc += static_cast<Acc>(gy_plane[i * pl.q + j]) / static_cast<Acc>(win.divisor);
    }
  return static_cast<T>(acc);
}

}  // namespace tinynn::window
