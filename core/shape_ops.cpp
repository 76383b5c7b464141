// Free-function views, and the ops that assemble or pick elements (cat, stack, gather, ...).
#include "shape_ops.h"

#include <fmt/format.h>

#include "backend.h"
#include "creation.h"
#include "detail/autograd_hooks.h"
#include "detail/plan.h"
#include "error.h"
#include "ops.h"
#include "reduce.h"

namespace tinynn {

Tensor reshape(const Tensor& x, const Shape& shape) { return x.reshape(shape); }
Tensor transpose(const Tensor& x, std::int64_t a, std::int64_t b) { return x.transpose(a, b); }
Tensor permute(const Tensor& x, const Axes& order) { return x.permute(order); }
Tensor squeeze(const Tensor& x, std::optional<std::int64_t> axis) { return axis ? x.squeeze(*axis) : x.squeeze(); }
Tensor unsqueeze(const Tensor& x, std::int64_t axis) { return x.unsqueeze(axis); }
Tensor flatten(const Tensor& x, std::int64_t start, std::int64_t end) { return x.flatten(start, end); }
Tensor expand(const Tensor& x, const Shape& shape) { return x.expand(shape); }
Tensor narrow(const Tensor& x, std::int64_t axis, std::int64_t start, std::int64_t length) {
  return x.narrow(axis, start, length);
}
Tensor select(const Tensor& x, std::int64_t axis, std::int64_t index) { return x.select(axis, index); }

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t axis) {
  if (tensors.empty()) throw ValueError("tinynn::cat: expects at least one tensor");
  const Tensor& first = tensors.front();
  if (first.dim() == 0) throw ShapeError("tinynn::cat: cannot concatenate 0-d tensors; use stack");
  const int ax = normalize_axis(axis, first.dim(), "cat");
  Shape shape = first.shape();
  shape[ax] = 0;
  DType t = first.dtype();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& x = tensors[i];
    detail::check_same_device("cat", first, x);
    bool fits = x.dim() == first.dim();
    for (int d = 0; fits && d < x.dim(); ++d) fits = d == ax || x.shape()[d] == first.shape()[d];
    if (!fits)
      throw ShapeError(fmt::format("tinynn::cat: tensor {} has shape {}, which differs from {} outside axis {}", i,
                                   shape_str(x.shape()), shape_str(first.shape()), axis));
    shape[ax] += x.shape()[ax];
    t = promote_types(t, x.dtype());
  }
  Tensor out = empty(shape, t, first.device());
  detail::OpRecord rec{detail::OpKind::Cat, tensors};
  rec.axis = ax;
  std::int64_t at = 0;
  for (const Tensor& x : tensors) {
    detail::copy_tensor(out.narrow(ax, at, x.shape()[ax]), x);
    at += x.shape()[ax];
    rec.shape.push_back(x.shape()[ax]);
  }
  return detail::recorded(std::move(rec), out);
}

Tensor slice_backward(const Tensor& grad, const Shape& shape, std::int64_t axis, std::int64_t start, std::int64_t end,
                      std::int64_t step) {
  Tensor out = zeros(shape, {grad.dtype(), grad.device()});
  const Tensor window = out.slice(axis, start, end, step);
  if (window.shape() != grad.shape())
    throw ShapeError(fmt::format("tinynn::slice_backward: gradient {} does not fit slice {} of {}", shape_str(grad.shape()),
                                 shape_str(window.shape()), shape_str(shape)));
  detail::copy_tensor(window, grad);
  detail::OpRecord rec{detail::OpKind::SliceBackward, {grad}};
  rec.axis = normalize_axis(axis, static_cast<int>(shape.size()), "slice_backward");
  rec.start = start;
  rec.end = end;
  rec.step = step;
  return detail::recorded(std::move(rec), out);
}

Tensor flip(const Tensor& x, std::int64_t axis) {
  const int ax = normalize_axis(axis, x.dim(), "flip");
  if (x.dim() == 0) return x;
  const std::int64_t n = x.shape()[ax];
  return index_select(x, ax, arange(n - 1, -1, -1, {DType::Int64, x.device()}));
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t axis) {
  if (tensors.empty()) throw ValueError("tinynn::stack: expects at least one tensor");
  const int ax = normalize_axis(axis, tensors.front().dim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].shape() != tensors.front().shape())
      throw ShapeError(fmt::format("tinynn::stack: tensor {} has shape {}, expected {} like tensor 0", i,
                                   shape_str(tensors[i].shape()), shape_str(tensors.front().shape())));
    parts.push_back(tensors[i].unsqueeze(ax));
  }
  return cat(parts, ax);
}

namespace {

void check_index_tensor(const char* fn, const Tensor& x, const Tensor& index) {
  if (index.dtype() != DType::Int64)
    throw DTypeError(fmt::format("tinynn::{}: index must be int64, got {}", fn, dtype_name(index.dtype())));
  detail::check_same_device(fn, x, index);
}

// The plan shared by gather and scatter_add: iterate over the index's shape; `direct` is
// addressed at the same position as the index, `base` through it along `axis`.
IndexPlan index_plan(const Tensor& direct, const Tensor& index, const Tensor& base, int axis) {
  std::array<Shape, 3> strides{direct.strides(), index.strides(), base.strides()};
  strides[2][static_cast<std::size_t>(axis)] = 0;
  IndexPlan plan;
  plan.iter = detail::make_elementwise_plan<3>(index.shape(), strides);
  plan.axis_stride = base.strides()[static_cast<std::size_t>(axis)];
  plan.axis_size = base.shape()[static_cast<std::size_t>(axis)];
  return plan;
}

// index.size(d) <= x.size(d) on every axis but `axis` (the torch.gather / scatter_add rule).
void check_index_fits(const char* fn, const Tensor& x, const Tensor& index, int axis, const char* what) {
  bool fits = index.dim() == x.dim();
  for (int d = 0; fits && d < x.dim(); ++d) fits = d == axis || index.shape()[d] <= x.shape()[d];
  if (!fits)
    throw ShapeError(fmt::format("tinynn::{}: index of shape {} does not fit {} of shape {} outside axis {}", fn,
                                 shape_str(index.shape()), what, shape_str(x.shape()), axis));
}

// gather, with errors naming `caller` (gather itself, or index_select built on it).
Tensor gather_for(IndexCaller caller, const Tensor& x, std::int64_t axis, const Tensor& index) {
  const char* fn = index_caller_name(caller);
  check_index_tensor(fn, x, index);
  const int ax = normalize_axis(axis, x.dim(), fn);
  check_index_fits(fn, x, index, ax, "input");
  Tensor out = empty(index.shape(), x.dtype(), x.device());
  if (out.numel() > 0) {
    IndexPlan plan = index_plan(out, index, x, ax);
    plan.caller = caller;
    backend_for(x.device()).gather(plan, x.dtype(), out.raw_data(), static_cast<const std::int64_t*>(index.raw_data()),
                                   x.raw_data());
  }
  detail::OpRecord rec{detail::OpKind::Gather, {x, index}};
  rec.axis = ax;
  return detail::recorded(std::move(rec), out);
}

}  // namespace

Tensor gather(const Tensor& x, std::int64_t axis, const Tensor& index) {
  return gather_for(IndexCaller::Gather, x, axis, index);
}

namespace {

// scatter_add, into a copy of x or (`into_x`: x is a fresh tensor nobody else holds) into x itself;
// `zero_rows`: x is fresh and holds no values yet, and the backend zeroes each row as it adds into it
// (IndexPlan::zero_rows, which the caller's shapes must allow).
Tensor scatter_add_impl(const Tensor& x, std::int64_t axis, const Tensor& index, const Tensor& src, bool into_x,
                        bool zero_rows = false) {
  check_index_tensor("scatter_add", x, index);
  detail::check_same_device("scatter_add", x, src);
  const int ax = normalize_axis(axis, x.dim(), "scatter_add");
  check_index_fits("scatter_add", x, index, ax, "input");
  check_index_fits("scatter_add", src, index, ax, "source");
  if (index.dim() > 0) {  // the index may be as long as src along the axis, not x
    bool fits = index.shape()[ax] <= src.shape()[ax];
    if (!fits)
      throw ShapeError(fmt::format("tinynn::scatter_add: index of shape {} is longer than source {} along axis {}",
                                   shape_str(index.shape()), shape_str(src.shape()), axis));
  }
  Tensor out = into_x ? x : x.detach().clone();
  const Tensor s = src.to(x.dtype());
  if (index.numel() > 0) {
    IndexPlan plan = index_plan(s, index, out, ax);
    plan.caller = IndexCaller::ScatterAdd;
    plan.zero_rows = zero_rows;
    backend_for(x.device()).scatter_add(plan, x.dtype(), out.raw_data(),
                                        static_cast<const std::int64_t*>(index.raw_data()), s.raw_data());
  }
  detail::OpRecord rec{detail::OpKind::ScatterAdd, {x, index, s}};
  rec.axis = ax;
  return detail::recorded(std::move(rec), out);
}

}  // namespace

Tensor scatter_add(const Tensor& x, std::int64_t axis, const Tensor& index, const Tensor& src) {
  return scatter_add_impl(x, axis, index, src, false);
}

namespace detail {
Tensor scatter_add_to_zeros(const Tensor& like, std::int64_t axis, const Tensor& index, const Tensor& src) {
  // The backend zeroes the rows itself where the index covers every row of the output along the
  // axis, innermost in the iteration: a contiguous output with the axis last, and the index as large
  // as it elsewhere and longer than 1 along it (a length-1 axis may be folded into the others).
  const int ax = normalize_axis(axis, like.dim(), "scatter_add");
  bool rows = like.dim() > 0 && ax == like.dim() - 1 && index.dim() == like.dim() && index.shape()[ax] > 1;
  for (int d = 0; rows && d < ax; ++d) rows = index.shape()[d] == like.shape()[d];
  if (rows) return scatter_add_impl(empty(like.shape(), like.dtype(), like.device()), axis, index, src, true, true);
  return scatter_add_impl(zeros_like(like.detach()), axis, index, src, true);
}
}  // namespace detail

Tensor index_select(const Tensor& x, std::int64_t axis, const Tensor& index) {
  check_index_tensor("index_select", x, index);
  if (index.dim() != 1)
    throw ShapeError(fmt::format("tinynn::index_select: index must be 1-D, got shape {}", shape_str(index.shape())));
  const int ax = normalize_axis(axis, x.dim(), "index_select");
  if (x.dim() == 0) return gather_for(IndexCaller::IndexSelect, x.reshape({1}), 0, index);
  // Broadcast the index over the other axes (a stride-0 view, no copy) and gather.
  Shape view_shape(static_cast<std::size_t>(x.dim()), 1);
  view_shape[ax] = index.numel();
  Shape target = x.shape();
  target[ax] = index.numel();
  return gather_for(IndexCaller::IndexSelect, x, ax, index.reshape(view_shape).expand(target));
}

Tensor one_hot(const Tensor& labels, std::int64_t num_classes, DType dtype) {
  if (labels.dtype() != DType::Int64)
    throw DTypeError(fmt::format("tinynn::one_hot: labels must be int64, got {}", dtype_name(labels.dtype())));
  if (num_classes <= 0) throw ValueError(fmt::format("tinynn::one_hot: num_classes must be positive, got {}", num_classes));
  if (labels.numel() > 0) {
    const auto lo = amin(labels).item<std::int64_t>(), hi = amax(labels).item<std::int64_t>();
    if (lo < 0 || hi >= num_classes)
      throw IndexError(fmt::format("tinynn::one_hot: labels must lie in [0, {}), found {}", num_classes, lo < 0 ? lo : hi));
  }
  const Tensor classes = arange(0, num_classes, 1, {DType::Int64, labels.device()});
  return (labels.unsqueeze(-1) == classes).to(dtype);
}

}  // namespace tinynn
