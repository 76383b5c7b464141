// Reductions over any set of axes (empty = all axes), scans, and softmax along an axis.
#pragma once
#include "tensor.h"

namespace tinynn {

Tensor sum(const Tensor& x, const Axes& axes = {}, bool keepdim = false);  // Bool/Int64 -> Int64
Tensor mean(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
// sum(square(x)) in one pass, without the squared temporary (gradient norms, weight penalties).
Tensor sum_of_squares(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
Tensor prod(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
Tensor amax(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
// Index of the first maximum/minimum along `axis`, or into the flattened tensor when absent.
Tensor argmax(const Tensor& x, std::optional<std::int64_t> axis = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<std::int64_t> axis = std::nullopt, bool keepdim = false);
// Variance with Bessel's correction by default (correction = 1), as torch.var.
Tensor var(const Tensor& x, const Axes& axes = {}, bool keepdim = false, std::int64_t correction = 1);
Tensor std(const Tensor& x, const Axes& axes = {}, bool keepdim = false, std::int64_t correction = 1);
// log(sum(exp(x))) computed stably by subtracting the maximum first.
Tensor logsumexp(const Tensor& x, const Axes& axes, bool keepdim = false);
// Vector p-norm over axes (all by default): p = 2, 1, inf (max |x|), -inf, 0 (count of non-zeros), any p > 0.
Tensor norm(const Tensor& x, double p = 2.0, const Axes& axes = {}, bool keepdim = false);

Tensor cumsum(const Tensor& x, std::int64_t axis);
Tensor cumprod(const Tensor& x, std::int64_t axis);

Tensor softmax(const Tensor& x, std::int64_t axis);
Tensor log_softmax(const Tensor& x, std::int64_t axis);

// Per-sample cross-entropy of logits [N, C] against class ids [N] (Int64) with label smoothing
// eps: -(1 - eps) log p[n, target[n]] - eps / C * sum_c log p[n, c], p = softmax of row n.
// Returns [N]. One fused pass forward and one backward (core/cross_entropy.cpp). Throws
// IndexError for a class id outside [0, C) (on a GPU at the next wait for it, e.g. item()).
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& target, double label_smoothing = 0.0);

}  // namespace tinynn
