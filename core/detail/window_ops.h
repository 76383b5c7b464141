// The planned convolution and average-pool ops and their backward ops, for autograd's formulas:
// each records itself, so a gradient computed with them is differentiable again (core/conv.cpp).
#pragma once
#include <optional>

#include "../backend.h"
#include "../conv.h"
#include "../tensor.h"

namespace tinynn::detail {

// The checked plans of conv2d and of a pool (`fn` names it in errors), as the ops make them.
ConvPlan conv_plan(const Tensor& x, const Tensor& w, const Tensor& bias, Size2 stride, Size2 padding, Size2 dilation,
                   std::int64_t groups);
PoolPlan pool_plan(const char* fn, const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding, Size2 dilation,
                   bool ceil_mode);

Tensor conv2d_planned(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvPlan& plan);
Tensor conv2d_backward_data(const Tensor& gy, const Tensor& w, const ConvPlan& plan);    // -> gx [N, C, H, W]
Tensor conv2d_backward_weight(const Tensor& x, const Tensor& gy, const ConvPlan& plan);  // -> gw [K, C/G, R, S]
// The conv block as its four ops (running statistics may be undefined: nothing is updated), and
// the options a plan stands for (core/conv_block.cpp).
Tensor conv_block_composed(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& running_mean,
                           const Tensor& running_var, const Tensor& bn_weight, const Tensor& bn_bias, const ConvBlockOptions& o);
ConvBlockOptions conv_block_options(const ConvBlockPlan& plan);
Tensor avg_pool2d_planned(const Tensor& x, const PoolPlan& plan);
Tensor avg_pool2d_backward(const Tensor& gy, const PoolPlan& plan);  // -> gx [N, C, H, W]

}  // namespace tinynn::detail
