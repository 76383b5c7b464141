// See conv_patches.h. Output positions go 16 to a vector along each output row; each image's
// sums go to its own slot and are added over the images in a fixed order (the same result on any
// thread count).
#include "conv_patches.h"

#include <algorithm>
#include <atomic>

#include "strided_loop.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

// In a build for any x86-64 (TINYNN_NATIVE=OFF) GCC notes that passing a 64-byte vector by value
// has another ABI with AVX: true, and moot for functions of this file's alone.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace tinynn::cpu {

namespace {

constexpr std::int64_t kWidth = 16;
typedef float Positions __attribute__((vector_size(4 * kWidth)));
typedef float UnalignedPositions __attribute__((vector_size(4 * kWidth), aligned(4)));

constexpr std::int64_t pairs(std::int64_t taps) { return taps * (taps + 1) / 2; }

}  // namespace

bool patches_fit(const ConvPlan& p) {
  return p.groups == 1 && p.stride_h == 1 && p.stride_w == 1 && p.dil_h == 1 && p.dil_w == 1 && p.c * p.r * p.s >= 1 &&
         p.c * p.r * p.s <= kMaxPatchTaps;
}

PatchPlan patch_plan(const ConvPlan& p) {
  PatchPlan pl;
  pl.n = p.n, pl.c = p.c, pl.h = p.h, pl.w = p.w, pl.r = p.r, pl.s = p.s, pl.pad_h = p.pad_h, pl.pad_w = p.pad_w;
  pl.p = p.p, pl.q = p.q;
  return pl;
}

void fill_padded(const PatchPlan& pl, const float* x, const float* shift, float* padded) {
  const std::int64_t plane = pl.h * pl.w, ph = pl.padded_h(), pw = pl.padded_w();
  parallel_chunks_if(pl.n * pl.c, pl.n * pl.c * ph * pw, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t nc = begin; nc < end; ++nc) {
      const float sh = shift != nullptr ? shift[nc % pl.c] : 0.0f;
      float* out = padded + nc * ph * pw;
      std::fill(out, out + ph * pw, -sh);
      for (std::int64_t i = 0; i < pl.h; ++i) {
        const float* in = x + nc * plane + i * pl.w;
        float* o = out + (i + pl.pad_h) * pw + pl.pad_w;
        for (std::int64_t j = 0; j < pl.w; ++j) o[j] = in[j] - sh;
      }
    }
  });
}

namespace {

std::atomic<std::size_t> g_patch_conv_calls{0};

// The calling thread's padded copy of a bare convolution's input (kept: no allocation a step).
const float* padded_input(const PatchPlan& pl, const float* x) {
  thread_local std::vector<float> padded;
  padded.resize(static_cast<std::size_t>(pl.n * pl.c * pl.padded_h() * pl.padded_w()));
  fill_padded(pl, x, nullptr, padded.data());
  return padded.data();
}

// The first `count` (1 to 16) lanes of v to p.
void store_first(float* p, Positions v, std::int64_t count) {
  if (count == kWidth) {
    *reinterpret_cast<UnalignedPositions*>(p) = v;
    return;
  }
#if defined(__AVX512F__)
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << count) - 1), reinterpret_cast<__m512>(v));
#else
  for (std::int64_t l = 0; l < count; ++l) p[l] = v[l];
#endif
}

}  // namespace

// tinynn builds with -ffp-contract=off so that its loops round the same with and without FMA;
// this loop stands in for oneDNN's kernel, which fuses multiply-adds on every machine that has
// them, and fused it is 1.25x faster (0.61 -> 0.49 ms at [128, 1, 28, 28] -> 32 channels).
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")

// Shapes: see conv_patches.h. One image a task: each vector of 16 output columns of a row (the
// last of a row holding the rest) loads its T shifted input vectors once and gives every output
// channel's vector there (T multiply-adds, the channel's weights broadcast from memory).
void patch_conv2d(const ConvPlan& cp, float* y, const float* x, const float* w, const float* bias) {
  ++g_patch_conv_calls;
  const PatchPlan pl = patch_plan(cp);
  const float* padded = padded_input(pl, x);
  const std::int64_t taps = pl.taps(), image = pl.c * pl.padded_h() * pl.padded_w(), plane_size = pl.p * pl.q;
  std::int64_t offset[kMaxPatchTaps];
  for (std::int64_t t = 0; t < taps; ++t) offset[t] = pl.tap_offset(t);
  with_taps(taps, [&](auto taps_c) {
    constexpr int T = decltype(taps_c)::value;
    parallel_chunks_if(pl.n, pl.n * cp.k * plane_size * T, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t n = begin; n < end; ++n)
        for (std::int64_t i = 0; i < pl.p; ++i)
          for (std::int64_t j = 0; j < pl.q; j += kWidth) {
            const float* corner = padded + n * image + i * pl.padded_w() + j;
            Positions v[T];
            for (int t = 0; t < T; ++t) v[t] = *reinterpret_cast<const UnalignedPositions*>(corner + offset[t]);
            float* out = y + n * cp.k * plane_size + i * pl.q + j;
            const std::int64_t lanes = std::min(kWidth, pl.q - j);
            for (std::int64_t k = 0; k < cp.k; ++k) {
              const float* wk = w + k * T;
              Positions acc = Positions{} + (bias != nullptr ? bias[k] : 0.0f);
              for (int t = 0; t < T; ++t) acc += v[t] * wk[t];
              store_first(out + k * plane_size, acc, lanes);
            }
          }
    });
  });
}

#pragma GCC pop_options

std::size_t patch_conv2d_calls() { return g_patch_conv_calls; }

namespace {

// The moments of one image's patches come in passes over rows of the [taps, taps] triangle, each
// pass with at most this many vector sums, so that they and the taps stay in the 32 vector
// registers (all 54 sums of nine taps at once spilled to the stack at every position).
constexpr int kSumsAPass = 20;

// The row after the last of the pass that starts at row t0 (a tap's sum and its row of pairs).
constexpr int pass_end(int taps, int t0) {
  int t = t0, sums = 0;
  while (t < taps && sums + 1 + (taps - t) <= kSumsAPass) sums += 1 + (taps - t), ++t;
  return t == t0 ? t0 + 1 : t;
}

// Rows [T0, pass_end) of the triangle for one image: into out (its slot of PatchMoments::partial,
// taps sums then the pairs (t, u >= t) in row order), the sums over the image's output positions of
// each tap and of each pair of taps, 16 positions at a time in float lanes (about 50 terms a lane for
// a 28 x 28 image), then in double. Tap t of the patch at padded position (h, w):
// image[offset[t] + h padded_w + w].
template <int T, int T0>
void image_moments(const PatchPlan& pl, const float* image, const std::int64_t* offset, double* out) {
  constexpr int T1 = pass_end(T, T0);
  constexpr int kSums = (T1 - T0) + ((T - T0) * (T - T0 + 1) - (T - T1) * (T - T1 + 1)) / 2;
  Positions acc[kSums] = {}, v[T];
  for (std::int64_t i = 0; i < pl.p; ++i)
    for (std::int64_t j0 = 0; j0 < pl.q; j0 += kWidth) {
      Positions mask;
      for (std::int64_t l = 0; l < kWidth; ++l) mask[l] = j0 + l < pl.q ? 1.0f : 0.0f;
      const float* corner = image + i * pl.padded_w() + j0;
      for (int t = T0; t < T; ++t) v[t] = *reinterpret_cast<const UnalignedPositions*>(corner + offset[t]) * mask;
      int a = 0;
      for (int t = T0; t < T1; ++t) {
        acc[a++] += v[t];
        for (int u = t; u < T; ++u) acc[a++] += v[t] * v[u];
      }
    }
  auto lane_sum = [](const Positions& v) {
    double total = 0;
    for (std::int64_t l = 0; l < kWidth; ++l) total += v[l];
    return total;
  };
  int a = 0;
  for (int t = T0; t < T1; ++t) {
    out[t] = lane_sum(acc[a++]);
    double* pair_row = out + T + t * T - t * (t - 1) / 2;  // pair (t, t), then (t, t + 1), ...
    for (int u = t; u < T; ++u) pair_row[u - t] = lane_sum(acc[a++]);
  }
  if constexpr (T1 < T) image_moments<T, T1>(pl, image, offset, out);
}

}  // namespace

// In the caller's memory: sum, cov (doubles first, for their alignment), shift, padded.
std::int64_t PatchMoments::bytes(const PatchPlan& plan) {
  const std::int64_t taps = plan.taps();
  return (taps + taps * taps) * 8 + (plan.c + plan.n * plan.c * plan.padded_h() * plan.padded_w()) * 4;
}

void PatchMoments::reserve(const PatchPlan& plan) {
  const std::int64_t taps = plan.taps();
  partial.assign(static_cast<std::size_t>(plan.n * (taps + pairs(taps))), 0.0);
}

void PatchMoments::place(const PatchPlan& plan, void* memory) {
  const std::int64_t taps = plan.taps();
  sum = static_cast<double*>(memory);
  cov = sum + taps;
  shift = reinterpret_cast<float*>(cov + taps * taps);
  padded = shift + plan.c;
}

void PatchMoments::compute(const PatchPlan& pl, const float* x) {
  const std::int64_t taps = pl.taps(), plane = pl.h * pl.w;
  for (std::int64_t c = 0; c < pl.c; ++c) {  // the shift: the mean of image 0's plane
    double total = 0;
    for (std::int64_t i = 0; i < plane; ++i) total += x[c * plane + i];
    shift[c] = static_cast<float>(total / static_cast<double>(plane));
  }
  fill_padded(pl, x, shift, padded);
  // Per image: the sums of each tap and of each pair of taps over its output positions.
  const std::int64_t slot = taps + pairs(taps);
  std::int64_t offset[kMaxPatchTaps];
  for (std::int64_t t = 0; t < taps; ++t) offset[t] = pl.tap_offset(t);
  with_taps(taps, [&](auto taps_c) {
    constexpr int T = decltype(taps_c)::value;
    parallel_chunks_if(pl.n, pl.positions() * slot, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t n = begin; n < end; ++n) image_moments<T, 0>(pl, row(pl, n, 0, 0), offset, partial.data() + n * slot);
    });
  });
  // Over the images; then the covariance about the mean (shift-free: the shifted sums give it
  // directly) and the sums of the patch values themselves.
  double* totals = sum;  // reused: shifted sums first
  std::fill(totals, totals + taps, 0.0);
  std::fill(cov, cov + taps * taps, 0.0);
  for (std::int64_t n = 0; n < pl.n; ++n) {
    const double* in = partial.data() + n * slot;
    for (std::int64_t t = 0; t < taps; ++t) totals[t] += in[t];
    const double* pair = in + taps;
    for (std::int64_t t = 0; t < taps; ++t)
      for (std::int64_t u = t; u < taps; ++u) cov[t * taps + u] += *pair++;
  }
  const double m = static_cast<double>(pl.positions());
  for (std::int64_t t = 0; t < taps; ++t)
    for (std::int64_t u = t; u < taps; ++u) cov[u * taps + t] = cov[t * taps + u] -= totals[t] * totals[u] / m;
  for (std::int64_t t = 0; t < taps; ++t) totals[t] += m * shift[t / (pl.r * pl.s)];
}

void PatchMoments::cov_times(const PatchPlan& pl, const float* w, std::int64_t k, double* out) const {
  const std::int64_t taps = pl.taps();
  const float* wk = w + k * taps;
  for (std::int64_t t = 0; t < taps; ++t) {
    double total = 0;
    for (std::int64_t u = 0; u < taps; ++u) total += cov[t * taps + u] * wk[u];
    out[t] = total;
  }
}

void PatchMoments::output_stats(const PatchPlan& pl, const float* w, const float* bias, std::int64_t k, double& mean,
                                double& var) const {
  const std::int64_t taps = pl.taps();
  const float* wk = w + k * taps;
  const double m = static_cast<double>(pl.positions());
  double cw[kMaxPatchTaps];
  cov_times(pl, w, k, cw);
  mean = bias != nullptr ? bias[k] : 0.0, var = 0;
  for (std::int64_t t = 0; t < taps; ++t) mean += wk[t] * sum[t] / m, var += wk[t] * cw[t];
  var = std::max(0.0, var / m);
}

}  // namespace tinynn::cpu
