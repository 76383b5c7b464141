// See conv_patches.h. The bare forward and weight gradient take output positions 16 to a vector
// along each image's flattened output plane, the patch moments along each output row; each
// image's sums go to its own slot and are added over the images in a fixed order (the same result
// on any thread count).
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
  // A worker's copies of one image (sized inside the parallel region, where an allocation failure
  // could not be thrown) stay under 16M floats: larger images go to oneDNN.
  const std::int64_t image_floats = (p.c * p.s + p.c * p.r * p.s) * patch_plan(p).column_plane();
  return p.groups == 1 && p.stride_h == 1 && p.stride_w == 1 && p.dil_h == 1 && p.dil_w == 1 && p.c * p.r * p.s >= 1 &&
         p.c * p.r * p.s <= kMaxPatchTaps && image_floats <= (std::int64_t{1} << 24);
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

// One image of a bare convolution's input as its kernel columns see it, in the calling thread's
// buffer: for input channel c and kernel column s, plane (c S + s) (PatchPlan::column_plane floats)
// holds padded row after padded row of the columns s .. s + Q - 1 (zero outside x), Q wide, so that
// tap (c, r, s) of output position o = i Q + j is plane[o + r Q]: 16 positions in a row of the
// flattened output plane are one contiguous load even where they cross an output row.
const float* column_planes(const PatchPlan& pl, const float* image) {
  thread_local std::vector<float> planes;
  const std::int64_t plane = pl.column_plane();
  planes.resize(static_cast<std::size_t>(pl.c * pl.s * plane));
  for (std::int64_t c = 0; c < pl.c; ++c)
    for (std::int64_t s = 0; s < pl.s; ++s) {
      float* o = planes.data() + (c * pl.s + s) * plane;
      // Each value written once (zero outside x): a fill of the whole plane first took a third of
      // the time this function takes.
      // Columns [j0, j1) read x; both within the row (padding may be wider than the output).
      const std::int64_t j0 = std::clamp<std::int64_t>(pl.pad_w - s, 0, pl.q);
      const std::int64_t j1 = std::clamp<std::int64_t>(pl.w + pl.pad_w - s, j0, pl.q);
      std::fill(o, o + pl.pad_h * pl.q, 0.0f);
      for (std::int64_t h = 0; h < pl.h; ++h) {
        const float* in = image + (c * pl.h + h) * pl.w;  // output column j reads input column j + s - pad_w
        float* row = o + (h + pl.pad_h) * pl.q;
        std::fill(row, row + j0, 0.0f);
        std::copy(in + j0 + s - pl.pad_w, in + j1 + s - pl.pad_w, row + j0);
        std::fill(row + j1, row + pl.q, 0.0f);
      }
      std::fill(o + (pl.h + pl.pad_h) * pl.q, o + plane, 0.0f);
    }
  return planes.data();
}

// Where tap t = (c R + r) S + s of output position o lies in column_planes' layout: at
// column_offset + o (plane c S + s, row r).
std::int64_t column_offset(const PatchPlan& pl, std::int64_t t) {
  return (t / (pl.r * pl.s) * pl.s + t % pl.s) * pl.column_plane() + t / pl.s % pl.r * pl.q;
}

// p advanced to the next multiple of 64 bytes (p from a buffer with 16 floats to spare).
float* aligned64(float* p) { return p + (-reinterpret_cast<std::uintptr_t>(p) / sizeof(float)) % kWidth; }

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

// The sum of v's lanes: lane l plus lane l + 8, then + 4, + 2, + 1, in float and in registers (a
// chain of 16 double adds for each sum took longer than the pass that made it).
double lane_tree_sum(Positions v) {
  static_assert(kWidth == 16, "four halvings");
  v += __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  v += __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15);
  v += __builtin_shufflevector(v, v, 2, 3, 0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  v += __builtin_shufflevector(v, v, 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return v[0];
}

// The first `count` (1 to 16) floats at p, zero in the other lanes.
Positions load_first(const float* p, std::int64_t count) {
  if (count == kWidth) return *reinterpret_cast<const UnalignedPositions*>(p);
#if defined(__AVX512F__)
  return reinterpret_cast<Positions>(_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1), p));
#else
  Positions v = {};
  for (std::int64_t l = 0; l < count; ++l) v[l] = p[l];
  return v;
#endif
}

}  // namespace

// tinynn builds with -ffp-contract=off so that its loops round the same with and without FMA;
// these loops stand in for oneDNN's kernels, which fuse multiply-adds on every machine that has
// them (fused, the forward was 1.25x faster: 0.61 -> 0.49 ms at [128, 1, 28, 28] -> 32 channels).
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")

namespace {

// The outputs of all K channels at 16 output positions from their T tap vectors: channel k's
// bias plus its T weights (broadcast from memory) times the taps, stored at out + k plane_size
// (the first `lanes` lanes); four channels at a time, whose independent sums keep both FMA units busy.
template <int T>
// Inlined into both loops: called, it kept the tap vectors in memory (0.31 -> 0.36 ms).
[[gnu::always_inline]] inline void four_channels_at_a_time(std::int64_t channels, const float* w, const float* bias,
                                                           const Positions* v, float* out, std::int64_t plane_size,
                                                           std::int64_t lanes) {
  auto channel = [&](std::int64_t k) {
    const float* wk = w + k * T;
    Positions acc = Positions{} + (bias != nullptr ? bias[k] : 0.0f);
    for (int t = 0; t < T; ++t) acc += v[t] * wk[t];
    return acc;
  };
  std::int64_t k = 0;
  for (; k + 4 <= channels; k += 4) {
    const Positions a0 = channel(k), a1 = channel(k + 1), a2 = channel(k + 2), a3 = channel(k + 3);
    store_first(out + k * plane_size, a0, lanes);
    store_first(out + (k + 1) * plane_size, a1, lanes);
    store_first(out + (k + 2) * plane_size, a2, lanes);
    store_first(out + (k + 3) * plane_size, a3, lanes);
  }
  for (; k < channels; ++k) store_first(out + k * plane_size, channel(k), lanes);
}

}  // namespace

// Shapes: see conv_patches.h. One image a task. Output positions go 16 at a time along the
// flattened [P Q] plane, so every store but a plane's last is a whole vector (at 28 x 28: 49
// aligned vectors a plane, where vectors along each row of 28 were 56, half of them masked, most
// split across cache lines); each loads its T tap vectors once (from the image itself where the
// output is as wide as the input, else from its column_planes, a few KB in L1) and gives all
// output channels from them.
void patch_conv2d(const ConvPlan& cp, float* y, const float* x, const float* w, const float* bias) {
  ++g_patch_conv_calls;
  const PatchPlan pl = patch_plan(cp);
  const std::int64_t taps = pl.taps(), plane_size = pl.p * pl.q;
#if defined(__AVX512F__)
  // Output as wide as the input (stride 1, "same" padding): tap (c, r, s) of 16 consecutive output
  // positions, even across rows, is one load from the input image itself, at offset
  // c H W + o + (r - pad_h) W + (s - pad_w), its lanes outside x masked to zero. The masks repeat
  // for every image: made once. No copy of the input at all (the column planes took 7 % of the pass).
  if (pl.q == pl.w) {
    const std::int64_t vectors = (plane_size + kWidth - 1) / kWidth;
    // The calling thread's buffer, kept between calls (no allocation a step); the workers read it
    // through the pointer (by name a thread_local would be each worker's own).
    thread_local std::vector<__mmask16> mask_buffer;
    mask_buffer.assign(static_cast<std::size_t>(taps * vectors), 0);
    __mmask16* const masks = mask_buffer.data();
    std::int64_t shift[kMaxPatchTaps];
    for (std::int64_t t = 0; t < taps; ++t) {
      const std::int64_t c = t / (pl.r * pl.s), dr = t / pl.s % pl.r - pl.pad_h, ds = t % pl.s - pl.pad_w;
      shift[t] = c * pl.h * pl.w + dr * pl.w + ds;
      for (std::int64_t v = 0; v < vectors; ++v) {
        unsigned bits = 0;
        for (std::int64_t l = 0; l < kWidth; ++l) {
          const std::int64_t pos = v * kWidth + l, row = pos / pl.q + dr, col = pos % pl.q + ds;
          if (pos < plane_size && row >= 0 && row < pl.h && col >= 0 && col < pl.w) bits |= 1u << l;
        }
        masks[t * vectors + v] = static_cast<__mmask16>(bits);
      }
    }
    with_taps(taps, [&](auto taps_c) {
      constexpr int T = decltype(taps_c)::value;
      parallel_chunks_if(pl.n, pl.n * cp.k * plane_size * T, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t n = begin; n < end; ++n) {
          const float* image = x + n * pl.c * pl.h * pl.w;
          float* image_out = y + n * cp.k * plane_size;
          for (std::int64_t v = 0, o = 0; o < plane_size; ++v, o += kWidth) {
            Positions taps_v[T];
            for (int t = 0; t < T; ++t)
              // The address may lie before or past the image where every lane reading there is masked off.
              taps_v[t] = reinterpret_cast<Positions>(_mm512_maskz_loadu_ps(masks[t * vectors + v],
                                                                            image + o + shift[t]));
            four_channels_at_a_time<T>(cp.k, w, bias, taps_v, image_out + o, plane_size, std::min(kWidth, plane_size - o));
          }
        }
      });
    });
    return;
  }
#endif
  std::int64_t offset[kMaxPatchTaps];
  for (std::int64_t t = 0; t < taps; ++t) offset[t] = column_offset(pl, t);
  with_taps(taps, [&](auto taps_c) {
    constexpr int T = decltype(taps_c)::value;
    parallel_chunks_if(pl.n, pl.n * cp.k * plane_size * T, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t n = begin; n < end; ++n) {
        const float* planes = column_planes(pl, x + n * pl.c * pl.h * pl.w);
        float* image_out = y + n * cp.k * plane_size;
        for (std::int64_t o = 0; o < plane_size; o += kWidth) {
          Positions v[T];
          for (int t = 0; t < T; ++t) v[t] = *reinterpret_cast<const UnalignedPositions*>(planes + offset[t] + o);
          four_channels_at_a_time<T>(cp.k, w, bias, v, image_out + o, plane_size, std::min(kWidth, plane_size - o));
        }
      }
    });
  });
}

namespace {

// Over one image's flattened output plane: the sums of g times each of nine taps' values into
// out_g[9], and of h times each into out_h[9]; 16 positions a vector, in float lanes (49 terms a lane
// at 28 x 28), then in float by lane_tree_sum. Two channels a pass: each tap load serves two
// multiply-adds (one channel a pass: 0.62 against 0.54 ms). The sums are named variables: as arrays, GCC
// kept them on the stack.
void nine_tap_sums(std::int64_t plane_size, const float* g, const float* h, const float* const* tap, double* out_g,
                   double* out_h) {
  Positions a0{}, a1{}, a2{}, a3{}, a4{}, a5{}, a6{}, a7{}, a8{};
  Positions b0{}, b1{}, b2{}, b3{}, b4{}, b5{}, b6{}, b7{}, b8{};
  for (std::int64_t o = 0; o < plane_size; o += kWidth) {
    const std::int64_t lanes = std::min(kWidth, plane_size - o);
    const Positions gv = load_first(g + o, lanes), hv = load_first(h + o, lanes);
    auto step = [&](Positions& a, Positions& b, int t) {
      const Positions v = *reinterpret_cast<const UnalignedPositions*>(tap[t] + o);
      a += gv * v, b += hv * v;
    };
    step(a0, b0, 0), step(a1, b1, 1), step(a2, b2, 2), step(a3, b3, 3), step(a4, b4, 4);
    step(a5, b5, 5), step(a6, b6, 6), step(a7, b7, 7), step(a8, b8, 8);
  }
  out_g[0] = lane_tree_sum(a0), out_g[1] = lane_tree_sum(a1), out_g[2] = lane_tree_sum(a2), out_g[3] = lane_tree_sum(a3);
  out_g[4] = lane_tree_sum(a4), out_g[5] = lane_tree_sum(a5), out_g[6] = lane_tree_sum(a6), out_g[7] = lane_tree_sum(a7);
  out_g[8] = lane_tree_sum(a8);
  out_h[0] = lane_tree_sum(b0), out_h[1] = lane_tree_sum(b1), out_h[2] = lane_tree_sum(b2), out_h[3] = lane_tree_sum(b3);
  out_h[4] = lane_tree_sum(b4), out_h[5] = lane_tree_sum(b5), out_h[6] = lane_tree_sum(b6), out_h[7] = lane_tree_sum(b7);
  out_h[8] = lane_tree_sum(b8);
}

}  // namespace

// Shapes: see conv_patches.h. One image a task, its input laid out by column_planes, then each
// tap's values copied to an aligned plane of their own (in L1; every channel pair reads them
// again, and loads straddling cache lines, as rows of 28 floats do, take two load slots). One pass
// over two output channels' gy planes gives all their taps' sums (fewer taps: the last repeated,
// its copies dropped). Each image's sums go to its own slot, added over the images in a fixed
// order in double (the same result on any thread count).
void patch_conv2d_backward_weight(const ConvPlan& cp, float* gw, const float* x, const float* gy) {
  static_assert(kMaxPatchTaps == 9, "nine_tap_sums covers every tap");
  ++g_patch_conv_calls;
  const PatchPlan pl = patch_plan(cp);
  const std::int64_t taps = pl.taps(), plane_size = pl.p * pl.q;
  const std::int64_t slot = cp.k * taps, tap_plane = (plane_size + kWidth - 1) / kWidth * kWidth;
  thread_local std::vector<double> partial;  // [N][K][taps]
  partial.resize(static_cast<std::size_t>(pl.n * slot));
  double* partial_data = partial.data();  // the calling thread's: in a worker, `partial` is the worker's own
  parallel_chunks_if(pl.n, pl.n * cp.k * plane_size * taps, [&](std::int64_t begin, std::int64_t end) {
    thread_local std::vector<float> patch_store;
    // Zero past each plane's positions: gy's lanes there are zero, but 0 x (an input NaN) is not.
    patch_store.assign(static_cast<std::size_t>(taps * tap_plane + kWidth), 0.0f);
    float* patches = aligned64(patch_store.data());
    const float* tap[kMaxPatchTaps];
    for (std::int64_t t = 0; t < kMaxPatchTaps; ++t) tap[t] = patches + std::min(t, taps - 1) * tap_plane;
    for (std::int64_t n = begin; n < end; ++n) {
      const float* planes = column_planes(pl, x + n * pl.c * pl.h * pl.w);
      for (std::int64_t t = 0; t < taps; ++t) {
        const float* from = planes + column_offset(pl, t);
        std::copy(from, from + plane_size, patches + t * tap_plane);
      }
      for (std::int64_t k = 0; k < cp.k; k += 2) {
        const bool pair = k + 1 < cp.k;  // an odd last channel goes with itself, the copy dropped
        const float* g = gy + (n * cp.k + k) * plane_size;
        double sums[2][kMaxPatchTaps];
        nine_tap_sums(plane_size, g, pair ? g + plane_size : g, tap, sums[0], sums[1]);
        for (std::int64_t d = 0; d < (pair ? 2 : 1); ++d)
          std::copy(sums[d], sums[d] + taps, partial_data + n * slot + (k + d) * taps);
      }
    }
  });
  // Image after image into the first slot (a few microseconds on one thread: less than waking the
  // others again).
  for (std::int64_t n = 1; n < pl.n; ++n)
    for (std::int64_t e = 0; e < slot; ++e) partial_data[e] += partial_data[n * slot + e];
  for (std::int64_t e = 0; e < slot; ++e) gw[e] = static_cast<float>(partial_data[e]);
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
