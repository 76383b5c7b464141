// Training-mode batch norm -> ReLU -> 2x2 max pool (stride 2, no padding) on a convolution's
// output in oneDNN's blocked layout nChw{B}c: [N][K/B][H][W][B], the channels padded up to a
// multiple of B. oneDNN's primitives do this in seven passes over the convolution's output (the
// statistics, normalize, pool; pool backward into zeros, the batch norm backward's two) plus two
// reorders of the block's output and its gradient; these loops read it three times (statistics;
// normalize + ReLU + pool; the input gradient) and write it once (that gradient), and read and
// write the block's output and its gradient as plain NCHW directly. The pooled gradient reaches
// one position of each window, so the backward's sums run over the pooled grid, a quarter of the
// data, on each window's maximum that the forward kept.
#pragma once
#include <cstdint>
#include <vector>

#include "conv_patches.h"

namespace tinynn::cpu {

struct BlockedBnPool {
  std::int64_t n = 0, k = 0, h = 0, w = 0;  // the convolution's output [N, K, H, W]
  std::int64_t p = 0, q = 0;                // the pool's output [N, K, P, Q], 2P <= H, 2Q <= W
  std::int64_t block = 16;                  // B, the channels of a block (8 or 16)
  double eps = 1e-5;
  // When the convolution is linear in few-tap patches of its input (conv_patches.h): the forward
  // takes the statistics from the input, and bn_relu_pool_weight_backward applies.
  bool linear = false;
  PatchPlan patches;
  // linear, and the convolution's output is needed nowhere else (its input needs no gradient): the
  // forward computes the convolution itself, window by window, and conv_out is not read.
  bool own_conv = false;

  std::int64_t channel_blocks() const { return (k + block - 1) / block; }
  // Bytes of the forward's record of each pooled value's window position, for the backward.
  std::int64_t where_bytes() const { return n * channel_blocks() * p * q * block; }
};

// The passes' working memory (partial sums per image and channel block, per-channel factors):
// sized once per plan, so a call allocates nothing. One call at a time.
struct BlockedBnPoolScratch {
  std::vector<double> partial;
  std::vector<float> scale, shift, extra;
  std::vector<float> dy;  // the batch norm's output gradient at each window's maximum, in lanes
  // plan.linear: placed by the caller, before each call, in memory that the forward's call and its
  // backward's share (the forward computes them, the weight backward reads them).
  PatchMoments moments;
  std::vector<float> lane_weights;  // own_conv: the weights and biases, output channels in lanes
  void reserve(const BlockedBnPool& plan);
};

// conv_out [N][K/B][H][W][B] -> mean, var [K] (the batch's, variance biased), out [N, K, P, Q]
// (plain NCHW) = max over each 2x2 window of relu(gamma (x - mean) / sqrt(var + eps) + beta) (in
// out_blocked [N][K/B][P][Q][B] instead where out is null), and blocked like the pooled grid
// (where_bytes() values each): `where`, the window position of each maximum (0-3, row-major) plus
// 4 when it was positive (ReLU passed its gradient), and `at_max`, conv_out's value there. x, w,
// bias: the convolution's input, weights and bias (read when plan.linear).
void bn_relu_pool_forward(const BlockedBnPool& plan, BlockedBnPoolScratch& scratch, const float* conv_out,
                          const float* gamma, const float* beta, float* mean, float* var, float* out, float* out_blocked,
                          std::uint8_t* where, float* at_max, const float* x, const float* w, const float* bias);

// gy [N, K, P, Q] (plain NCHW; or gy_blocked [N][K/B][P][Q][B] unless null), the forward's conv_out,
// mean, var, where and at_max -> g_conv, the gradient of conv_out in its blocked layout (padded
// channels zero), and ggamma, gbeta [K].
void bn_relu_pool_backward(const BlockedBnPool& plan, BlockedBnPoolScratch& scratch, const float* conv_out,
                           const float* mean, const float* var, const float* gamma, const float* gy, const float* gy_blocked,
                           const std::uint8_t* where, const float* at_max, float* g_conv, float* ggamma, float* gbeta);

// plan.linear, and the convolution's input needs no gradient: the same gradients but, in place of
// g_conv, the convolution's own: gw [K, C, R, S] and gbias [K] (zero: a bias before a training-mode
// batch norm cancels), from the pooled grid and the input's patches (scratch.moments, as the forward
// left them). With
// g_conv = a dy + slope (y - mean) - a mean(dy) per channel (a = gamma invstd), gw_k sums
// g_conv_k patch over the positions: a sum(dy patch) + slope cov w_k - a mean(dy) sum(patch);
// dy is non-zero at one position of each window, so the first sum runs over the pooled grid.
void bn_relu_pool_weight_backward(const BlockedBnPool& plan, BlockedBnPoolScratch& scratch, const float* w,
                                  const float* mean, const float* var, const float* gamma, const float* gy,
                                  const float* gy_blocked, const std::uint8_t* where, const float* at_max, float* gw,
                                  float* gbias, float* ggamma, float* gbeta);

}  // namespace tinynn::cpu
