// Views (free-function forms of Tensor's view methods) and the ops that assemble or pick
// elements: cat, stack, index_select, gather, scatter_add, one_hot.
#pragma once
#include <vector>

#include "tensor.h"

namespace tinynn {

Tensor reshape(const Tensor& x, const Shape& shape);
Tensor transpose(const Tensor& x, std::int64_t a, std::int64_t b);
Tensor permute(const Tensor& x, const Axes& order);
Tensor squeeze(const Tensor& x, std::optional<std::int64_t> axis = std::nullopt);
Tensor unsqueeze(const Tensor& x, std::int64_t axis);
Tensor flatten(const Tensor& x, std::int64_t start = 0, std::int64_t end = -1);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor narrow(const Tensor& x, std::int64_t axis, std::int64_t start, std::int64_t length);
Tensor select(const Tensor& x, std::int64_t axis, std::int64_t index);

// Joins tensors of equal shape except along `axis`; dtypes promote.
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t axis = 0);
// The transpose of x.slice(axis, start, end, step): zeros of `shape` with `grad` in that window.
// Slicing's backward, and differentiable itself (its backward is the slice).
Tensor slice_backward(const Tensor& grad, const Shape& shape, std::int64_t axis, std::int64_t start, std::int64_t end,
                      std::int64_t step = 1);
// The elements of x in reverse order along `axis`.
Tensor flip(const Tensor& x, std::int64_t axis);
// Joins tensors of equal shape along a new axis.
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t axis = 0);
// Picks the entries `index` (1-D Int64) along `axis`.
Tensor index_select(const Tensor& x, std::int64_t axis, const Tensor& index);
// out[i][j] = x[i][index[i][j]] (axis 1), as torch.gather; index has x's rank.
Tensor gather(const Tensor& x, std::int64_t axis, const Tensor& index);
// A copy of x with src[i][j] added at x[i][index[i][j]] (axis 1), as torch.scatter_add.
Tensor scatter_add(const Tensor& x, std::int64_t axis, const Tensor& index, const Tensor& src);
// [..] Int64 class ids -> [.., num_classes] of dtype (float32 by default).
Tensor one_hot(const Tensor& labels, std::int64_t num_classes, DType dtype = DType::Float32);

}  // namespace tinynn
