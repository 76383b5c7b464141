// See blocked_bn_relu_pool.h. Threads take (image, channel block) planes; each plane's sums go to
// its own slot and are added over the images in a fixed order, so results do not depend on the
// thread count. The B lanes of a position are one vector (GCC's and Clang's vector extensions:
// AVX-512 registers where the build targets them, pairs or quads of narrower ones elsewhere).
#include "blocked_bn_relu_pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "strided_loop.h"

// tinynn builds with -ffp-contract=off so that its loops round the same with and without FMA;
// this file's loops (every conv block's batch norm + ReLU + pool, and a first layer's convolution)
// stand in for oneDNN's kernels, which fuse multiply-adds on every machine that has them; fused, a
// first block's forward + backward takes about 0.2 ms less (2.73 -> 2.50 ms at [128, 1, 28, 28] ->
// 32 channels).
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")

namespace tinynn::cpu {

namespace {

constexpr std::int64_t kChunk = 32;  // pooled columns staged at a time (plain NCHW <-> lanes)

// GCC 12's AVX-512 conversion intrinsics start from an "undefined" register that it then reports
// as maybe uninitialized (a false positive inside its own header), wherever they are inlined. And
// in a build for any x86-64 (TINYNN_NATIVE=OFF) GCC notes that passing these vectors by value has
// another ABI with AVX: true, and moot for functions of this file's alone.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

// One position's B channels as vectors of floats, of 32-bit masks/integers and of bytes. (The
// vector types are spelled out per B: GCC drops a vector_size that depends on a template argument.)
template <int B, class FloatV, class IntV, class ByteV>
struct LanesOf {
  using F = FloatV;
  using I = IntV;
  static F load(const float* p) {
    F v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float* p, F v) { std::memcpy(p, &v, sizeof v); }
  // Bytes <-> 32-bit lanes: one widening or narrowing move where the build targets AVX-512 or
  // AVX2 (GCC spells the generic conversion as a lane at a time).
  static I load_where(const std::uint8_t* p) {
#if defined(__AVX512F__)
    if constexpr (B == 16) return (I)_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#endif
#if defined(__AVX2__)
    if constexpr (B == 8) return (I)_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
#endif
    ByteV v;
    std::memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, I);
  }
  static void store_where(std::uint8_t* p, I v) {
#if defined(__AVX512F__)
    if constexpr (B == 16) return _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8((__m512i)v));
#endif
    const ByteV bytes = __builtin_convertvector(v, ByteV);
    std::memcpy(p, &bytes, sizeof bytes);
  }
};

typedef float Float16 __attribute__((vector_size(64)));
typedef std::int32_t Int16 __attribute__((vector_size(64)));
typedef std::uint8_t Byte16 __attribute__((vector_size(16)));
typedef float Float8 __attribute__((vector_size(32)));
typedef std::int32_t Int8 __attribute__((vector_size(32)));
typedef std::uint8_t Byte8 __attribute__((vector_size(8)));

template <int B>
struct Lanes;
template <>
struct Lanes<16> : LanesOf<16, Float16, Int16, Byte16> {};
template <>
struct Lanes<8> : LanesOf<8, Float8, Int8, Byte8> {};

struct Geometry {
  std::int64_t cb, plane, pooled_plane, m;  // channel blocks; floats of a [H][W][B] and a [P][Q][B] plane; N H W
  explicit Geometry(const BlockedBnPool& p)
      : cb(p.channel_blocks()), plane(p.h * p.w * p.block), pooled_plane(p.p * p.q * p.block), m(p.n * p.h * p.w) {}
};

// Columns [j0, j1) of row i of the pooled NCHW planes of image n, channel block cb, and the same
// values in lanes: staged[(j - j0) B + l]. ToLanes: planes -> staged (zero for padded channels),
// else staged -> planes (padded channels not written).
template <int B, bool ToLanes>
void transpose_row(const BlockedBnPool& p, std::conditional_t<ToLanes, const float*, float*> planes, std::int64_t n,
                   std::int64_t cb, std::int64_t i, std::int64_t j0, std::int64_t j1,
                   std::conditional_t<ToLanes, float*, const float*> staged) {
  const auto first = planes + ((n * p.k + cb * B) * p.p + i) * p.q;
  const std::int64_t valid = std::min<std::int64_t>(B, p.k - cb * B), apart = p.p * p.q;
#if defined(__AVX512F__)
  // One gather or scatter a column (the planes P Q floats apart), padded channels masked off.
  if constexpr (B == 16) {
    if (apart * 16 < (std::int64_t{1} << 31)) {
      const __m512i across = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                _mm512_set1_epi32(static_cast<int>(apart)));
      const __mmask16 mask = static_cast<__mmask16>((1u << valid) - 1u);
      for (std::int64_t j = j0; j < j1; ++j) {
        if constexpr (ToLanes)
          _mm512_storeu_ps(staged + (j - j0) * 16, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, across, first + j, 4));
        else
          _mm512_mask_i32scatter_ps(first + j, mask, across, _mm512_loadu_ps(staged + (j - j0) * 16), 4);
      }
      return;
    }
  }
#endif
  for (int l = 0; l < B; ++l)
    for (std::int64_t j = j0; j < j1; ++j) {
      if constexpr (ToLanes) staged[(j - j0) * B + l] = l < valid ? first[l * apart + j] : 0.0f;
      else if (l < valid) first[l * apart + j] = staged[(j - j0) * B + l];
    }
}

// The sums over the images of the planes' partial sums (two B-lane groups per plane) -> per channel.
template <int B, class Fn>
void per_channel(const BlockedBnPool& p, const std::vector<double>& partial, const Fn& fn) {
  const Geometry g(p);
  for (std::int64_t cb = 0; cb < g.cb; ++cb)
    for (int l = 0; l < B; ++l) {
      double a = 0, b = 0;
      for (std::int64_t n = 0; n < p.n; ++n) {
        const double* slot = partial.data() + (n * g.cb + cb) * 2 * B;
        a += slot[l], b += slot[B + l];
      }
      fn(cb * B + l, a, b);
    }
}

// The batch statistics of conv_out: sums of (x - x0), x0 the channel's first value (image 0,
// position 0), so that the variance E[d^2] - E[d]^2 does not cancel; a row in float lanes, rows
// added in double. Calls set(c, mean, biased variance) for each channel c < K.
template <int B, class Set>
void output_stats(const BlockedBnPool& p, BlockedBnPoolScratch& s, const float* conv_out, const Set& set) {
  const Geometry g(p);
  const std::int64_t planes = p.n * g.cb;
  parallel_chunks_if(planes, planes * g.plane, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t t = begin; t < end; ++t) {
      const std::int64_t cb = t % g.cb;
      const float* x = conv_out + t * g.plane;
      const float* x0 = conv_out + cb * g.plane;
      double sum[B] = {}, squares[B] = {};
      const typename Lanes<B>::F first = Lanes<B>::load(x0);
      for (std::int64_t h = 0; h < p.h; ++h) {
        typename Lanes<B>::F a{}, b{};
        for (std::int64_t w = 0; w < p.w; ++w) {
          const auto d = Lanes<B>::load(x + (h * p.w + w) * B) - first;
          a += d, b += d * d;
        }
        for (int l = 0; l < B; ++l) sum[l] += a[l], squares[l] += b[l];
      }
      double* slot = s.partial.data() + t * 2 * B;
      for (int l = 0; l < B; ++l) slot[l] = sum[l], slot[B + l] = squares[l];
    }
  });
  const double count = static_cast<double>(g.m);
  per_channel<B>(p, s.partial, [&](std::int64_t c, double sum, double squares) {
    if (c >= p.k) return;
    const double d = sum / count;
    set(c, static_cast<double>(conv_out[c / B * g.plane + c % B]) + d, std::max(0.0, squares / count - d * d));
  });
}

template <int B>
void forward(const BlockedBnPool& p, BlockedBnPoolScratch& s, const float* conv_out, const float* gamma, const float* beta,
             float* mean, float* var, float* out, float* out_blocked, std::uint8_t* where, float* at_max, const float* x_in,
             const float* w, const float* bias) {
  const Geometry g(p);
  const std::int64_t planes = p.n * g.cb;
  // The per-channel factors of the normalization (zero for padded channels).
  std::fill(s.scale.begin(), s.scale.end(), 0.0f);
  std::fill(s.shift.begin(), s.shift.end(), 0.0f);
  auto set = [&](std::int64_t c, double m, double v) {
    const double invstd = 1.0 / std::sqrt(v + p.eps);
    mean[c] = static_cast<float>(m), var[c] = static_cast<float>(v);
    s.scale[c] = static_cast<float>(gamma[c] * invstd);
    s.shift[c] = static_cast<float>(beta[c] - m * gamma[c] * invstd);
  };
  if (p.linear) {
    s.moments.compute(p.patches, x_in);
    for (std::int64_t c = 0; c < p.k; ++c) {
      double m, v;
      s.moments.output_stats(p.patches, w, bias, c, m, v);
      set(c, m, v);
    }
  } else {
    output_stats<B>(p, s, conv_out, set);
  }
  // Normalize, ReLU and pool: each window's four values in lanes; the maximum (the first of equal
  // ones, or the first NaN, as max_pool2d) and its position; ReLU passes NaN on, as relu.
  // window(n, cb, i, j, raw) gives the convolution's four values of window (i, j).
  using L = Lanes<B>;
  using F = typename L::F;
  using I = typename L::I;
  auto pool_pass = [&](const auto& window) {
    parallel_chunks_if(planes, planes * g.plane, [&](std::int64_t begin, std::int64_t end) {
      float staged_here[kChunk * B];
      const I zero{};
      for (std::int64_t t = begin; t < end; ++t) {
        const std::int64_t n = t / g.cb, cb = t % g.cb;
        const F scale = L::load(s.scale.data() + cb * B), shift = L::load(s.shift.data() + cb * B);
        std::uint8_t* wt = where + t * g.pooled_plane;
        float* mt = at_max + t * g.pooled_plane;
        for (std::int64_t i = 0; i < p.p; ++i)
          for (std::int64_t j0 = 0; j0 < p.q; j0 += kChunk) {
            const std::int64_t j1 = std::min(p.q, j0 + kChunk);
            // The pooled values in lanes: staged in the blocked output where there is one.
            float* staged = out_blocked != nullptr ? out_blocked + t * g.pooled_plane + (i * p.q + j0) * B : staged_here;
            for (std::int64_t j = j0; j < j1; ++j) {
              F raw[4];
              window(n, cb, i, j, raw);
              F best = raw[0] * scale + shift, kept = raw[0];
              I at = zero;
              for (int k = 1; k < 4; ++k) {
                const F v = raw[k] * scale + shift;
                const I more = ~(v <= best) & (best == best);  // a NaN wins, as in max_pool2d
                best = more ? v : best, kept = more ? raw[k] : kept, at = more ? zero + k : at;
              }
              const I passes = ~(best <= 0.0f);
              L::store(staged + (j - j0) * B, passes ? best : F{} + 0.0f);
              L::store(mt + (i * p.q + j) * B, kept);
              L::store_where(wt + (i * p.q + j) * B, at | (passes & 4));
            }
            if (out != nullptr) transpose_row<B, false>(p, out, n, cb, i, j0, j1, staged);
          }
      }
    });
  };
  if (!p.own_conv) {
    pool_pass([&](std::int64_t n, std::int64_t cb, std::int64_t i, std::int64_t j, F* raw) {
      const float* v00 = conv_out + (n * g.cb + cb) * g.plane + (2 * i * p.w + 2 * j) * B;
      const float* v10 = v00 + p.w * B;
      raw[0] = L::load(v00), raw[1] = L::load(v00 + B), raw[2] = L::load(v10), raw[3] = L::load(v10 + B);
    });
    return;
  }
  // The convolution itself, from the input's patches (shifted: the bias takes the shift back):
  // each output channel's weights and bias in lanes, a patch value for all lanes at a time.
  const PatchPlan& pl = p.patches;
  const std::int64_t taps = pl.taps();
  std::int64_t offset[kMaxPatchTaps];
  for (std::int64_t k = 0; k < taps; ++k) offset[k] = pl.tap_offset(k);
  float* lane_w = s.lane_weights.data();  // [cb][tap][B], then [cb][B] the biases
  float* lane_b = lane_w + g.cb * taps * B;
  for (std::int64_t c = 0; c < g.cb * B; ++c) {
    const std::int64_t cb = c / B, l = c % B;
    double b0 = 0;
    for (std::int64_t k = 0; k < taps; ++k) {
      const float wk = c < p.k ? w[c * taps + k] : 0.0f;
      lane_w[(cb * taps + k) * B + l] = wk;
      b0 += static_cast<double>(wk) * s.moments.shift[k / (pl.r * pl.s)];
    }
    lane_b[c] = c < p.k ? static_cast<float>(b0 + (bias != nullptr ? bias[c] : 0.0f)) : 0.0f;
  }
  with_taps(taps, [&](auto taps_c) {
    constexpr int T = decltype(taps_c)::value;
    pool_pass([&](std::int64_t n, std::int64_t cb, std::int64_t i, std::int64_t j, F* raw) {
      const float* image = s.moments.row(pl, n, 0, 0);
      const F b0 = L::load(lane_b + cb * B);
      for (int pos = 0; pos < 4; ++pos) {
        const float* corner = image + (2 * i + (pos >> 1)) * pl.padded_w() + 2 * j + (pos & 1);
        F acc = b0;
        for (int k = 0; k < T; ++k) acc += L::load(lane_w + (cb * T + k) * B) * corner[offset[k]];
        raw[pos] = acc;
      }
    });
  });
}

// gy's columns [j0, j1) of pooled row i of plane t (image n, channel block cb) in lanes: in gy_blocked
// where there is one, else staged from the plain gy into `staged`.
template <int B>
const float* gy_row(const BlockedBnPool& p, const float* gy, const float* gy_blocked, std::int64_t t, std::int64_t i,
                    std::int64_t j0, std::int64_t j1, float* staged) {
  if (gy_blocked != nullptr) return gy_blocked + ((t * p.p + i) * p.q + j0) * B;
  const std::int64_t blocks = p.channel_blocks();
  transpose_row<B, true>(p, gy, t / blocks, t % blocks, i, j0, j1, staged);
  return staged;
}

template <int B>
void backward(const BlockedBnPool& p, BlockedBnPoolScratch& s, const float* conv_out, const float* mean, const float* var,
              const float* gamma, const float* gy, const float* gy_blocked, const std::uint8_t* where, const float* at_max,
              float* g_conv, float* ggamma, float* gbeta) {
  const Geometry g(p);
  const std::int64_t planes = p.n * g.cb;
  // The batch norm's output gradient dy is gy at each window's maximum where ReLU passed, else
  // zero: its sums, of dy and of dy (x - mean) with x the window's maximum, over the pooled grid;
  // dy in lanes kept for the next pass.
  using L = Lanes<B>;
  using F = typename L::F;
  using I = typename L::I;
  parallel_chunks_if(planes, planes * g.pooled_plane * 4, [&](std::int64_t begin, std::int64_t end) {
    float staged[kChunk * B];
    for (std::int64_t t = begin; t < end; ++t) {
      const std::int64_t cb = t % g.cb;
      const std::uint8_t* wt = where + t * g.pooled_plane;
      const float* mt = at_max + t * g.pooled_plane;
      float* dyt = s.dy.data() + t * g.pooled_plane;
      F m{};
      for (int l = 0; l < B; ++l) m[l] = cb * B + l < p.k ? mean[cb * B + l] : 0.0f;
      double sum[B] = {}, centred[B] = {};
      for (std::int64_t i = 0; i < p.p; ++i) {
        F a{}, b{};
        for (std::int64_t j0 = 0; j0 < p.q; j0 += kChunk) {
          const std::int64_t j1 = std::min(p.q, j0 + kChunk);
          const float* row = gy_row<B>(p, gy, gy_blocked, t, i, j0, j1, staged);
          for (std::int64_t j = j0; j < j1; ++j) {
            const std::int64_t o = (i * p.q + j) * B;
            const F dy = (L::load_where(wt + o) & 4) ? L::load(row + (j - j0) * B) : F{} + 0.0f;
            L::store(dyt + o, dy);
            a += dy, b += dy * (L::load(mt + o) - m);
          }
        }
        for (int l = 0; l < B; ++l) sum[l] += a[l], centred[l] += b[l];
      }
      double* slot = s.partial.data() + t * 2 * B;
      for (int l = 0; l < B; ++l) slot[l] = sum[l], slot[B + l] = centred[l];
    }
  });
  // gx = gamma invstd (dy - mean(dy) - (x - mean) invstd^2 mean(dy (x - mean))), as
  // dy * scale + x * extra + shift per channel (all zero for padded channels).
  const double count = static_cast<double>(g.m);
  per_channel<B>(p, s.partial, [&](std::int64_t c, double sum, double centred) {
    if (c >= p.k) {
      s.scale[c] = s.shift[c] = s.extra[c] = 0.0f;
      return;
    }
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + p.eps), a = gamma[c] * invstd;
    const double slope = -a * invstd * invstd * centred / count;
    ggamma[c] = static_cast<float>(centred * invstd), gbeta[c] = static_cast<float>(sum);
    s.scale[c] = static_cast<float>(a);
    s.extra[c] = static_cast<float>(slope);
    s.shift[c] = static_cast<float>(-slope * mean[c] - a * sum / count);
  });
  parallel_chunks_if(planes, planes * g.plane * 2, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t t = begin; t < end; ++t) {
      const std::int64_t cb = t % g.cb;
      const float* x = conv_out + t * g.plane;
      const float* dyt = s.dy.data() + t * g.pooled_plane;
      float* gx = g_conv + t * g.plane;
      const std::uint8_t* wt = where + t * g.pooled_plane;
      const F scale = L::load(s.scale.data() + cb * B), extra = L::load(s.extra.data() + cb * B),
              shift = L::load(s.shift.data() + cb * B);
      // Positions outside every window (an odd last row or column) get no dy.
      auto plain = [&](std::int64_t h, std::int64_t w0, std::int64_t w1) {
        for (std::int64_t w = w0; w < w1; ++w) {
          const std::int64_t o = (h * p.w + w) * B;
          L::store(gx + o, L::load(x + o) * extra + shift);
        }
      };
      for (std::int64_t i = 0; i < p.p; ++i) {
        for (std::int64_t j = 0; j < p.q; ++j) {
          const I where_j = L::load_where(wt + (i * p.q + j) * B);
          const F g_j = L::load(dyt + (i * p.q + j) * B);
          for (int at = 0; at < 4; ++at) {
            const std::int64_t o = ((2 * i + (at >> 1)) * p.w + 2 * j + (at & 1)) * B;
            const F dy = (where_j & 3) == at ? g_j : F{} + 0.0f;
            L::store(gx + o, dy * scale + L::load(x + o) * extra + shift);
          }
        }
        plain(2 * i, 2 * p.q, p.w);
        plain(2 * i + 1, 2 * p.q, p.w);
      }
      for (std::int64_t h = 2 * p.p; h < p.h; ++h) plain(h, 0, p.w);
    }
  });
}

template <int B>
void weight_backward(const BlockedBnPool& p, BlockedBnPoolScratch& s, const float* w, const float* mean,
                     const float* var, const float* gamma, const float* gy, const float* gy_blocked, const std::uint8_t* where,
                     const float* at_max, float* gw, float* gbias, float* ggamma, float* gbeta) {
  using L = Lanes<B>;
  using F = typename L::F;
  using I = typename L::I;
  const Geometry g(p);
  const PatchPlan& pl = p.patches;
  const std::int64_t planes = p.n * g.cb, taps = pl.taps(), slot = (2 + taps) * B;
  // The forward's patch moments and padded input, where the caller placed them.
  // Tap k of the patch at padded position (h, w) of image n: image_n[offset[k] + h padded_w + w].
  std::int64_t offset[kMaxPatchTaps];
  for (std::int64_t k = 0; k < taps; ++k) offset[k] = pl.tap_offset(k);
  // Per plane: the sums of dy and dy (x - mean) as in backward(), and of dy times each tap of
  // the patch at the window's maximum (patch values less their channel's shift).
  with_taps(taps, [&](auto taps_c) {
    constexpr int T = decltype(taps_c)::value;
    parallel_chunks_if(planes, planes * g.pooled_plane * (4 + 4 * taps), [&](std::int64_t begin, std::int64_t end) {
      float staged[kChunk * B];
      F d[T];
      for (std::int64_t t = begin; t < end; ++t) {
        const std::int64_t n = t / g.cb, cb = t % g.cb;
        const std::uint8_t* wt = where + t * g.pooled_plane;
        const float* mt = at_max + t * g.pooled_plane;
        const float* image = s.moments.row(pl, n, 0, 0);
        F m{};
        for (int l = 0; l < B; ++l) m[l] = cb * B + l < p.k ? mean[cb * B + l] : 0.0f;
        double total[(2 + kMaxPatchTaps) * B] = {};
        for (std::int64_t i = 0; i < p.p; ++i) {
          F a{}, b{};
          for (int k = 0; k < T; ++k) d[k] = F{};
          for (std::int64_t j0 = 0; j0 < p.q; j0 += kChunk) {
            const std::int64_t j1 = std::min(p.q, j0 + kChunk);
            const float* row = gy_row<B>(p, gy, gy_blocked, t, i, j0, j1, staged);
            for (std::int64_t j = j0; j < j1; ++j) {
              const std::int64_t o = (i * p.q + j) * B;
              const I where_j = L::load_where(wt + o), at = where_j & 3;
              const F dy = (where_j & 4) ? L::load(row + (j - j0) * B) : F{} + 0.0f;
              a += dy, b += dy * (L::load(mt + o) - m);
              // Each channel's tap at its own maximum's position: the four positions' values
              // (one input value for every channel) chosen per lane.
              const I at1 = at == 1, at2 = at == 2, at3 = at == 3;
              const float* window = image + 2 * i * pl.padded_w() + 2 * j;
              for (int k = 0; k < T; ++k) {
                const float* c = window + offset[k];
                F v = F{} + c[0];
                v = at1 ? F{} + c[1] : v;
                v = at2 ? F{} + c[pl.padded_w()] : v;
                v = at3 ? F{} + c[pl.padded_w() + 1] : v;
                d[k] += dy * v;
              }
            }
          }
          for (int l = 0; l < B; ++l) {
            total[l] += a[l], total[B + l] += b[l];
            for (int k = 0; k < T; ++k) total[(2 + k) * B + l] += d[k][l];
          }
        }
        std::copy(total, total + slot, s.partial.data() + t * slot);
      }
    });
  });
  // Per channel, over the images in order.
  const double count = static_cast<double>(g.m);
  double cov_w[kMaxPatchTaps], dsum[kMaxPatchTaps];
  for (std::int64_t c = 0; c < p.k; ++c) {
    const std::int64_t cb = c / B, l = c % B;
    double sum = 0, centred = 0;
    std::fill(dsum, dsum + taps, 0.0);
    for (std::int64_t n = 0; n < p.n; ++n) {
      const double* in = s.partial.data() + (n * g.cb + cb) * slot;
      sum += in[l], centred += in[B + l];
      for (std::int64_t k = 0; k < taps; ++k) dsum[k] += in[(2 + k) * B + l];
    }
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + p.eps), a = gamma[c] * invstd;
    const double slope = -a * invstd * invstd * centred / count;
    ggamma[c] = static_cast<float>(centred * invstd), gbeta[c] = static_cast<float>(sum);
    gbias[c] = 0.0f;
    s.moments.cov_times(pl, w, c, cov_w);
    for (std::int64_t k = 0; k < taps; ++k) {
      const double dy_patch = dsum[k] + s.moments.shift[k / (pl.r * pl.s)] * sum;  // the shift added back
      gw[c * taps + k] = static_cast<float>(a * dy_patch + slope * cov_w[k] - a * sum / count * s.moments.sum[k]);
    }
  }
}

}  // namespace

#pragma GCC pop_options

void BlockedBnPoolScratch::reserve(const BlockedBnPool& plan) {
  const std::int64_t channels = plan.channel_blocks() * plan.block;
  partial.assign(static_cast<std::size_t>(plan.n * channels * (2 + (plan.linear ? plan.patches.taps() : 0))), 0.0);
  if (plan.linear) moments.reserve(plan.patches);
  if (plan.own_conv) lane_weights.assign(static_cast<std::size_t>(channels * (plan.patches.taps() + 1)), 0.0f);
  scale.assign(static_cast<std::size_t>(channels), 0.0f);
  shift.assign(static_cast<std::size_t>(channels), 0.0f);
  extra.assign(static_cast<std::size_t>(channels), 0.0f);
  dy.assign(static_cast<std::size_t>(plan.where_bytes()), 0.0f);
}

void bn_relu_pool_forward(const BlockedBnPool& plan, BlockedBnPoolScratch& scratch, const float* conv_out,
                          const float* gamma, const float* beta, float* mean, float* var, float* out, float* out_blocked,
                          std::uint8_t* where, float* at_max, const float* x, const float* w, const float* bias) {
  if (plan.block == 16)
    return forward<16>(plan, scratch, conv_out, gamma, beta, mean, var, out, out_blocked, where, at_max, x, w, bias);
  forward<8>(plan, scratch, conv_out, gamma, beta, mean, var, out, out_blocked, where, at_max, x, w, bias);
}

void bn_relu_pool_backward(const BlockedBnPool& plan, BlockedBnPoolScratch& scratch, const float* conv_out,
                           const float* mean, const float* var, const float* gamma, const float* gy, const float* gy_blocked,
                           const std::uint8_t* where, const float* at_max, float* g_conv, float* ggamma, float* gbeta) {
  if (plan.block == 16)
    return backward<16>(plan, scratch, conv_out, mean, var, gamma, gy, gy_blocked, where, at_max, g_conv, ggamma, gbeta);
  backward<8>(plan, scratch, conv_out, mean, var, gamma, gy, gy_blocked, where, at_max, g_conv, ggamma, gbeta);
}

void bn_relu_pool_weight_backward(const BlockedBnPool& plan, BlockedBnPoolScratch& scratch, const float* w,
                                  const float* mean, const float* var, const float* gamma, const float* gy,
                                  const float* gy_blocked, const std::uint8_t* where, const float* at_max, float* gw,
                                  float* gbias, float* ggamma, float* gbeta) {
  if (plan.block == 16)
    return weight_backward<16>(plan, scratch, w, mean, var, gamma, gy, gy_blocked, where, at_max, gw, gbias, ggamma, gbeta);
  weight_backward<8>(plan, scratch, w, mean, var, gamma, gy, gy_blocked, where, at_max, gw, gbias, ggamma, gbeta);
}

}  // namespace tinynn::cpu
