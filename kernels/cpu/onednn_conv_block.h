// The conv block (ConvBlockPlan: conv2d -> batch norm -> ReLU -> max pool) as a chain of oneDNN
// primitives on the layout oneDNN picks for the convolution's output (nChw16c and the like):
// only the block's input, output and their gradients are reordered, from and to plain NCHW.
#pragma once
#include <tinynn/core/backend.h>

namespace tinynn::cpu {

// fused = false when oneDNN declines the plan (or the path is switched off).
ConvBlockSizes onednn_conv_block_sizes(const ConvBlockPlan& plan);
void onednn_conv_block_forward(const ConvBlockPlan& plan, float* y, float* mean, float* var, void* const* saved,
                               const float* x, const float* w, const float* bias, const float* gamma, const float* beta,
                               const ChannelBlockedArgs& blocked);
void onednn_conv_block_backward(const ConvBlockPlan& plan, float* gx, float* gw, float* gbias, float* ggamma, float* gbeta,
                                const float* gy, const void* const* saved, const float* mean, const float* var, const float* x,
                                const float* w, const float* gamma, const float* beta, const ChannelBlockedArgs& blocked);

// How many plans (cache entries) run tinynn's own batch norm + ReLU + pool loops after the
// convolution (blocked_bn_relu_pool.h) rather than oneDNN's primitives; for tests.
std::size_t onednn_conv_block_own_tail_plans();
// Of those, how many take the statistics and (when the input needs no gradient) the weight
// gradient from the input's patches (conv_patches.h).
std::size_t onednn_conv_block_linear_plans();

// Switches the fused path off (tests compare it against the four ops). Default on.
void set_onednn_conv_block_enabled(bool enabled);

}  // namespace tinynn::cpu
