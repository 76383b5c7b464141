// Backward formulas shared between the formula files (internal to autograd/).
#pragma once
#include <vector>

#include "../../core/backend.h"
#include "../../core/detail/autograd_hooks.h"
#include "../../core/tensor.h"

namespace tinynn::detail {

Tensor unary_backward(UnaryOp op, const UnaryParams& p, const Tensor& x, const Tensor& saved_y, const Tensor& g);
std::vector<Tensor> binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& g,
                                    const std::vector<bool>& needs);
// Solve, Det, LogAbsDet, Cholesky, Svdvals, Eigvalsh, Pinv (formulas_linalg.cpp).
std::vector<Tensor> linalg_backward(const OpRecord& rec, const Tensor& out, const Tensor& g, const std::vector<bool>& needs);
// Conv2d, Conv2dBackwardData, Conv2dBackwardWeight, AvgPool2d, AvgPool2dBackward, BatchNorm, ConvBlock
// (formulas_window.cpp).
std::vector<Tensor> window_backward(const OpRecord& rec, const Tensor& g, const std::vector<bool>& needs);
std::vector<Tensor> where_backward(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& g,
                                   const std::vector<bool>& needs);

}  // namespace tinynn::detail
