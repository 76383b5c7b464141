// The patches of a convolution's input, for a convolution of few taps (C R S input values a
// patch; stride 1, dilation 1, one group: a first layer on images). Its output
// y_k(pos) = w_k . patch(pos) + b_k is linear in them, so the output's per-channel batch mean and
// variance follow from the patches' sums and covariance (a [taps, taps] matrix), and its weight
// gradient from sums over patches: neither needs a pass over the output, which for a first layer
// is tens of times the size of the input.
#pragma once
#include <cstdint>
#include <type_traits>
#include <vector>

#include <tinynn/core/backend.h>

namespace tinynn::cpu {

// One channel, 3 x 3: the sums of each pair of taps (45) stay near the registers.
constexpr std::int64_t kMaxPatchTaps = 9;

// fn(std::integral_constant<int, taps>{}) for taps in [1, kMaxPatchTaps]: loops over the taps
// unrolled, their sums in registers.
template <class Fn>
void with_taps(std::int64_t taps, const Fn& fn) {
  switch (taps) {
    case 1: return fn(std::integral_constant<int, 1>{});
    case 2: return fn(std::integral_constant<int, 2>{});
    case 3: return fn(std::integral_constant<int, 3>{});
    case 4: return fn(std::integral_constant<int, 4>{});
    case 5: return fn(std::integral_constant<int, 5>{});
    case 6: return fn(std::integral_constant<int, 6>{});
    case 7: return fn(std::integral_constant<int, 7>{});
    case 8: return fn(std::integral_constant<int, 8>{});
    default: return fn(std::integral_constant<int, 9>{});
  }
}
static_assert(kMaxPatchTaps == 9, "with_taps covers 1 to kMaxPatchTaps");

struct PatchPlan {
  std::int64_t n = 0, c = 0, h = 0, w = 0;  // input [N, C, H, W]
  std::int64_t r = 0, s = 0, pad_h = 0, pad_w = 0;
  std::int64_t p = 0, q = 0;  // output [N, K, P, Q]: P = H + 2 pad_h - R + 1

  std::int64_t taps() const { return c * r * s; }  // tap t = (c R + r) S + s, as OIHW weights
  std::int64_t padded_h() const { return h + 2 * pad_h; }
  std::int64_t padded_w() const { return w + 2 * pad_w + 16; }  // room for a vector past the last column
  // One plane of the bare passes' column layout (conv_patches.cpp): padded rows Q wide, and room
  // for a vector past the last.
  std::int64_t column_plane() const { return padded_h() * q + 16; }
  std::int64_t positions() const { return n * p * q; }
  // Where tap t of the patch at padded position (h, w) lies in an image of PatchMoments::padded:
  // row(n, 0, h)[tap_offset(t) + w].
  std::int64_t tap_offset(std::int64_t t) const { return (t / (r * s) * padded_h() + t / s % r) * padded_w() + t % s; }
};

// Whether a convolution is linear in few-tap patches of its input: one group, stride 1, dilation
// 1 (then P = H + 2 pad_h - R + 1) and 1 <= C R S <= kMaxPatchTaps; and its PatchPlan.
bool patches_fit(const ConvPlan& plan);
PatchPlan patch_plan(const ConvPlan& plan);

// x [N, C, H, W] into out [N][C][padded_h][padded_w]: x - shift[c], and -shift[c] outside x
// (shift null: zero).
void fill_padded(const PatchPlan& plan, const float* x, const float* shift, float* out);

// The forward of a bare conv2d whose patches fit, in float32 on plain NCHW, as tinynn's loops:
// each output plane written once, in place, where oneDNN's kernels for so few input channels
// write a blocked layout that a reorder of all of it must turn into NCHW (a first layer's output
// is tens of times the size of its input): at [128, 1, 28, 28] -> 32 channels 0.36 ms, where
// oneDNN's kernel alone takes 0.32 and with the reorder 1.3 (bench_conv).
// y [N, K, P, Q] = w [K, C, R, S] . patches of x [N, C, H, W] + bias [K] (or none).
void patch_conv2d(const ConvPlan& plan, float* y, const float* x, const float* w, const float* bias);
// Its weight gradient: gw [K, C, R, S] = sum over images and positions of gy [N, K, P, Q] times the
// patches of x [N, C, H, W], reading gy as it is, where oneDNN's kernel wants it reordered to
// blocked first (a pass over the largest tensor of the step): 0.40 against 0.79 ms at the shape above.
void patch_conv2d_backward_weight(const ConvPlan& plan, float* gw, const float* x, const float* gy);
// Calls of either so far (a test checks that conv2d takes them).
std::size_t patch_conv2d_calls();

// Moments of the patches over every output position of the batch, and the input they came from
// (shifted by a per-channel value near its mean so that the covariance does not cancel; padding
// holds -shift: patch values minus shift throughout), in memory the caller places them in (the
// forward's saved buffer: the backward reads them again rather than computing them twice).
struct PatchMoments {
  float* padded = nullptr;  // [N][C][padded_h][padded_w]: x - shift[c], -shift[c] outside x
  float* shift = nullptr;   // [C]
  double* sum = nullptr;    // [taps]: sums of the patch values
  double* cov = nullptr;    // [taps][taps]: sums of (patch - mean)(patch - mean)^T
  std::vector<double> partial;  // per image, for a sum in a fixed order (scratch of compute)

  // The bytes the moments take in the caller's memory.
  static std::int64_t bytes(const PatchPlan& plan);
  // Sizes the scratch (one call at a time).
  void reserve(const PatchPlan& plan);
  // Points the moments at `memory` (bytes(plan) of them, 8-byte aligned).
  void place(const PatchPlan& plan, void* memory);
  // Fills `padded`, `sum` and `cov` from x [N, C, H, W].
  void compute(const PatchPlan& plan, const float* x);
  // The batch mean and biased variance of output channel k of conv(x, w, bias): w [K, C, R, S].
  void output_stats(const PatchPlan& plan, const float* w, const float* bias, std::int64_t k, double& mean, double& var) const;
  // cov w_k: the sums over positions of (y_k - mean_k) patch_t, for each tap t, into out [taps].
  void cov_times(const PatchPlan& plan, const float* w, std::int64_t k, double* out) const;
  // A patch value minus its channel's shift: input channel c, padded row and column.
  const float* row(const PatchPlan& plan, std::int64_t n, std::int64_t c, std::int64_t padded_row) const {
    return padded + ((n * plan.c + c) * plan.padded_h() + padded_row) * plan.padded_w();
  }
};

}  // namespace tinynn::cpu
