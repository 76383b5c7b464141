// See conv_patches.h. Output positions go 16 to a vector along each output row; each image's
// sums go to its own slot and are added over the images in a fixed order (the same result on any
// thread count).
#include "conv_patches.h"

#include <algorithm>

#include "strided_loop.h"

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

void PatchMoments::reserve(const PatchPlan& plan) {
  const std::int64_t taps = plan.taps();
  padded.assign(static_cast<std::size_t>(plan.n * plan.c * plan.padded_h() * plan.padded_w()), 0.0f);
  shift.assign(static_cast<std::size_t>(plan.c), 0.0f);
  sum.assign(static_cast<std::size_t>(taps), 0.0);
  cov.assign(static_cast<std::size_t>(taps * taps), 0.0);
  partial.assign(static_cast<std::size_t>(plan.n * (taps + pairs(taps))), 0.0);
}

void PatchMoments::compute(const PatchPlan& pl, const float* x) {
  const std::int64_t taps = pl.taps(), plane = pl.h * pl.w, ph = pl.padded_h(), pw = pl.padded_w();
  for (std::int64_t c = 0; c < pl.c; ++c) {  // the shift: the mean of image 0's plane
    double total = 0;
    for (std::int64_t i = 0; i < plane; ++i) total += x[c * plane + i];
    shift[c] = static_cast<float>(total / static_cast<double>(plane));
  }
  parallel_chunks_if(pl.n * pl.c, pl.n * pl.c * ph * pw, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t nc = begin; nc < end; ++nc) {
      const float sh = shift[nc % pl.c];
      float* out = padded.data() + nc * ph * pw;
      std::fill(out, out + ph * pw, -sh);
      for (std::int64_t i = 0; i < pl.h; ++i) {
        const float* in = x + nc * plane + i * pl.w;
        float* o = out + (i + pl.pad_h) * pw + pl.pad_w;
        for (std::int64_t j = 0; j < pl.w; ++j) o[j] = in[j] - sh;
      }
    }
  });
  // Per image: sums of each tap and of each pair of taps over the output positions, 16 positions
  // at a time in float lanes (about 50 terms a lane for a 28 x 28 image), then in double. Tap t of
  // the patch at padded position (h, w): row(n, 0, h)[offset[t] + w].
  const std::int64_t slot = taps + pairs(taps);
  std::int64_t offset[kMaxPatchTaps];
  for (std::int64_t t = 0; t < taps; ++t) offset[t] = pl.tap_offset(t);
  with_taps(taps, [&](auto taps_c) {
    constexpr int T = decltype(taps_c)::value;
    parallel_chunks_if(pl.n, pl.positions() * slot, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t n = begin; n < end; ++n) {
        Positions acc[T + pairs(T)] = {}, v[T];
        for (std::int64_t i = 0; i < pl.p; ++i)
          for (std::int64_t j0 = 0; j0 < pl.q; j0 += kWidth) {
            Positions mask;
            for (std::int64_t l = 0; l < kWidth; ++l) mask[l] = j0 + l < pl.q ? 1.0f : 0.0f;
            const float* corner = row(pl, n, 0, i) + j0;
            for (int t = 0; t < T; ++t) {
              v[t] = *reinterpret_cast<const UnalignedPositions*>(corner + offset[t]) * mask;
              acc[t] += v[t];
            }
            int a = T;
            for (int t = 0; t < T; ++t)
              for (int u = t; u < T; ++u) acc[a++] += v[t] * v[u];
          }
        double* out = partial.data() + n * slot;
        for (int k = 0; k < T + pairs(T); ++k) {
          double total = 0;
          for (std::int64_t l = 0; l < kWidth; ++l) total += acc[k][l];
          out[k] = total;
        }
      }
    });
  });
  // Over the images; then the covariance about the mean (shift-free: the shifted sums give it
  // directly) and the sums of the patch values themselves.
  std::vector<double>& totals = sum;  // reused: shifted sums first
  std::fill(totals.begin(), totals.end(), 0.0);
  std::fill(cov.begin(), cov.end(), 0.0);
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
