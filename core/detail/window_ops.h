// The planned convolution and average-pool ops and their backward ops, for autograd's formulas:
// each records itself, so a gradient computed with them is differentiable again (core/conv.cpp).
#pragma once
#include "../backend.h"
#include "../tensor.h"

namespace tinynn::detail {

Tensor conv2d_planned(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvPlan& plan);
Tensor conv2d_backward_data(const Tensor& gy, const Tensor& w, const ConvPlan& plan);    // -> gx [N, C, H, W]
Tensor conv2d_backward_weight(const Tensor& x, const Tensor& gy, const ConvPlan& plan);  // -> gw [K, C/G, R, S]
Tensor avg_pool2d_planned(const Tensor& x, const PoolPlan& plan);
Tensor avg_pool2d_backward(const Tensor& gy, const PoolPlan& plan);  // -> gx [N, C, H, W]

}  // namespace tinynn::detail
