// Image ops over NCHW tensors with PyTorch's semantics and argument names: conv2d, max and
// average pooling, adaptive average pooling, and batch normalization over channels. Float32 runs
// on oneDNN on the CPU; float64 (and anything oneDNN declines) on the reference kernels, which
// stay as the tests' oracle. Every op is differentiable; conv2d and avg_pool2d to any order.
#pragma once
#include <array>
#include <optional>

#include "tensor.h"

namespace tinynn {

using Size2 = std::array<std::int64_t, 2>;  // (height, width)

// input [N, C, H, W], weight [K, C / groups, R, S], bias [K] (undefined: none) -> [N, K, P, Q] with
// P = (H + 2 padding[0] - dilation[0] (R - 1) - 1) / stride[0] + 1, and Q likewise.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = {1, 1},
              Size2 padding = {0, 0}, Size2 dilation = {1, 1}, std::int64_t groups = 1);

// [N, C, H, W] -> [N, C, P, Q]; stride defaults to the kernel size. Padding is at most half the
// kernel; ceil_mode rounds the output size up, as long as the last window starts inside the
// input or its left padding.
Tensor max_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = {0, 0},
                  Size2 dilation = {1, 1}, bool ceil_mode = false);
// The window's mean; count_include_pad divides by the window clipped to the padded input, else by
// the real elements it covers.
Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = {0, 0},
                  bool ceil_mode = false, bool count_include_pad = true);
// Output cell (i, j) averages rows floor(i H / P) .. ceil((i + 1) H / P) - 1, and columns likewise.
Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size);

// Normalizes each channel (axis 1) of [N, C, ...] over all other axes. Training: batch statistics,
// and running_mean / running_var (when defined) move toward them by `momentum`, in place, the
// variance with Bessel's correction as PyTorch; eval: the running statistics. weight and bias [C]
// may be undefined. Composed from differentiable ops, so it has gradients to any order.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);

// The CNN block conv2d -> batch_norm -> relu -> max_pool2d (the pool optional) as one op: the same
// values and gradients as the four ops one after the other (core/conv_block.cpp). Where the
// backend fuses it (the CPU on float32: oneDNN's primitives chained on their own blocked layout,
// so nothing is reordered between them) it runs as one forward and one backward call; otherwise,
// and for gradients of gradients, it is the four ops.
struct ConvBlockOptions {
  Size2 stride{1, 1}, padding{0, 0}, dilation{1, 1};
  std::int64_t groups = 1;
  bool training = true;  // batch statistics, and the running ones move by `momentum`; else the running ones
  double momentum = 0.1, eps = 1e-5;
  std::optional<Size2> pool_kernel;  // none: no pool
  std::optional<Size2> pool_stride;  // default: the pool's kernel
  Size2 pool_padding{0, 0};
  bool pool_ceil_mode = false;
  // A hint: the output goes straight to another conv_block (nn::Sequential sets it), so a backend
  // may also keep it in its own layout for that block, and their gradients pass between them so.
  bool feeds_conv_block = false;
};
Tensor conv_block(const Tensor& input, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, const Tensor& bn_weight, const Tensor& bn_bias, const ConvBlockOptions& options);

}  // namespace tinynn
