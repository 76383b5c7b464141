// Reductions (structural: one backend call) and the composites built from them
// (mean, var, std, logsumexp, norm, softmax, log_softmax).
#include "reduce.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "backend.h"
#include "creation.h"
#include "detail/autograd_hooks.h"
#include "detail/plan.h"
#include "error.h"
#include "ops.h"

namespace tinynn {

namespace {

const char* reduce_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return "sum";
    case ReduceOp::SumSquares: return "sum_of_squares";
    case ReduceOp::Prod: return "prod";
    case ReduceOp::Max: return "amax";
    case ReduceOp::Min: return "amin";
    case ReduceOp::ArgMax: return "argmax";
    case ReduceOp::ArgMin: return "argmin";
  }
  return "reduce";
}

// Which axes an axis list selects; empty selects all.
std::vector<bool> reduced_axes(const Tensor& x, const Axes& axes, const char* fn) {
  std::vector<bool> mask(static_cast<std::size_t>(x.dim()), axes.empty());
  for (auto a : axes) {
    const int ax = normalize_axis(a, x.dim(), fn);
    if (x.dim() == 0) continue;
    if (mask[ax]) throw ValueError(fmt::format("tinynn::{}: axis {} appears twice in the axis list", fn, a));
    mask[ax] = true;
  }
  return mask;
}

// Merges adjacent reduced axes that are laid out as one (stride of the outer = size * stride of
// the inner) and drops size-1 ones, so a contiguous block reaches the kernel as one run. The
// row-major flat index within the block (what argmax reports) is unchanged by merging.
void merge_inner_axes(ReducePlan& plan) {
  int n = 0;
  for (int d = 0; d < plan.inner_ndim; ++d) {
    if (plan.inner_shape[d] == 1) continue;
    if (n > 0 && plan.in_inner_strides[n - 1] == plan.inner_shape[d] * plan.in_inner_strides[d]) {
      plan.inner_shape[n - 1] *= plan.inner_shape[d];
      plan.in_inner_strides[n - 1] = plan.in_inner_strides[d];
      continue;
    }
    plan.inner_shape[n] = plan.inner_shape[d];
    plan.in_inner_strides[n++] = plan.in_inner_strides[d];
  }
  if (n == 0) {  // every reduced axis had size 1 (or there were none): a block of one element
    plan.inner_shape[0] = 1;
    plan.in_inner_strides[0] = 1;
    n = plan.inner_ndim > 0 ? 1 : 0;
  }
  plan.inner_ndim = n;
}

Tensor reduce(ReduceOp op, const Tensor& x, const Axes& axes, bool keepdim) {
  const char* fn = reduce_name(op);
  const auto mask = reduced_axes(x, axes, fn);
  Shape out_shape, kept_shape;
  ReducePlan plan;
  std::int64_t inner_numel = 1;
  for (int d = 0; d < x.dim(); ++d) {
    if (mask[d]) {
      if (keepdim) out_shape.push_back(1);
      inner_numel *= x.shape()[d];
      if (plan.inner_ndim == kMaxDims) throw ShapeError(fmt::format("tinynn::{}: too many axes", fn));
      plan.inner_shape[plan.inner_ndim] = x.shape()[d];
      plan.in_inner_strides[plan.inner_ndim++] = x.strides()[d];
    } else {
      out_shape.push_back(x.shape()[d]);
      kept_shape.push_back(x.shape()[d]);
    }
  }
  const bool is_arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  if (inner_numel == 0 && op != ReduceOp::Sum && op != ReduceOp::SumSquares && op != ReduceOp::Prod)
    throw ShapeError(fmt::format("tinynn::{}: cannot reduce an empty axis of shape {}", fn, shape_str(x.shape())));
  DType out_t = x.dtype();
  if (is_arg) out_t = DType::Int64;
  else if (x.dtype() == DType::Bool && (op == ReduceOp::Sum || op == ReduceOp::Prod)) out_t = DType::Int64;
  Tensor out = empty(kept_shape, out_t, x.device());
  const Shape out_strides = out.strides();
  int k = 0;
  for (int d = 0; d < x.dim(); ++d) {
    if (mask[d]) continue;
    plan.outer_shape[k] = x.shape()[d];
    plan.in_outer_strides[k] = x.strides()[d];
    plan.out_strides[k++] = out_strides[static_cast<std::size_t>(plan.outer_ndim)];  // k == outer_ndim
    ++plan.outer_ndim;
  }
  merge_inner_axes(plan);
  // An empty result skips the kernel but is still recorded, so backward gives empty gradients.
  if (out.numel() > 0) backend_for(x.device()).reduce(op, plan, x.dtype(), out.raw_data(), x.raw_data());
  detail::OpRecord rec{detail::OpKind::Reduce, {x}};
  rec.reduce = op;
  rec.keepdim = keepdim;
  for (int d = 0; d < x.dim(); ++d)
    if (mask[d]) rec.axes.push_back(d);
  return detail::recorded(std::move(rec), out.reshape(out_shape));
}

Tensor scan(ScanOp op, const Tensor& x, std::int64_t axis, const char* fn) {
  const int ax = normalize_axis(axis, x.dim(), fn);
  const DType t = is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  const Tensor in = x.to(t);
  Tensor out = empty(in.shape(), t, in.device());
  if (x.dim() == 0) return in.clone();
  ScanPlan plan;
  for (int d = 0; d < in.dim(); ++d) {
    if (d == ax) continue;
    plan.outer_shape[plan.outer_ndim] = in.shape()[d];
    plan.in_outer_strides[plan.outer_ndim] = in.strides()[d];
    plan.out_outer_strides[plan.outer_ndim++] = out.strides()[d];
  }
  plan.length = in.shape()[ax];
  plan.in_stride = in.strides()[ax];
  plan.out_stride = out.strides()[ax];
  if (out.numel() > 0) backend_for(in.device()).scan(op, plan, t, out.raw_data(), in.raw_data());
  detail::OpRecord rec{op == ScanOp::CumSum ? detail::OpKind::CumSum : detail::OpKind::CumProd, {in}};
  rec.axis = ax;
  return detail::recorded(std::move(rec), out);
}

Tensor as_floating(const Tensor& x) { return is_floating(x.dtype()) ? x : x.to(DType::Float32); }

// Number of elements folded into each output of a reduction over `axes`.
std::int64_t reduced_count(const Tensor& x, const Axes& axes, const char* fn) {
  const auto mask = reduced_axes(x, axes, fn);
  std::int64_t n = 1;
  for (int d = 0; d < x.dim(); ++d)
    if (mask[d]) n *= x.shape()[d];
  return n;
}

Tensor arg_reduce(ReduceOp op, const Tensor& x, std::optional<std::int64_t> axis, bool keepdim) {
  if (!axis) {
    Tensor flat = reduce(op, x.reshape({-1}), {}, false);
    return keepdim ? flat.reshape(Shape(static_cast<std::size_t>(x.dim()), 1)) : flat;
  }
  return reduce(op, x, {*axis}, keepdim);
}

}  // namespace

Tensor sum(const Tensor& x, const Axes& axes, bool keepdim) { return reduce(ReduceOp::Sum, x, axes, keepdim); }
Tensor sum_of_squares(const Tensor& x, const Axes& axes, bool keepdim) {
  return reduce(ReduceOp::SumSquares, as_floating(x), axes, keepdim);
}
Tensor prod(const Tensor& x, const Axes& axes, bool keepdim) { return reduce(ReduceOp::Prod, x, axes, keepdim); }
Tensor amax(const Tensor& x, const Axes& axes, bool keepdim) { return reduce(ReduceOp::Max, x, axes, keepdim); }
Tensor amin(const Tensor& x, const Axes& axes, bool keepdim) { return reduce(ReduceOp::Min, x, axes, keepdim); }
Tensor argmax(const Tensor& x, std::optional<std::int64_t> axis, bool keepdim) {
  return arg_reduce(ReduceOp::ArgMax, x, axis, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<std::int64_t> axis, bool keepdim) {
  return arg_reduce(ReduceOp::ArgMin, x, axis, keepdim);
}

Tensor mean(const Tensor& x, const Axes& axes, bool keepdim) {
  const Tensor xf = as_floating(x);
  const auto n = static_cast<double>(reduced_count(xf, axes, "mean"));
  return sum(xf, axes, keepdim) / (n == 0 ? std::numeric_limits<double>::quiet_NaN() : n);
}

Tensor var(const Tensor& x, const Axes& axes, bool keepdim, std::int64_t correction) {
  const Tensor xf = as_floating(x);
  const std::int64_t n = reduced_count(xf, axes, "var");
  const Tensor centered = xf - mean(xf, axes, true);
  return sum(square(centered), axes, keepdim) / static_cast<double>(std::max<std::int64_t>(n - correction, 0));
}

Tensor std(const Tensor& x, const Axes& axes, bool keepdim, std::int64_t correction) {
  return sqrt(var(x, axes, keepdim, correction));
}

namespace {
// The maximum over `axes` (kept), used to shift exponentials into range; an infinite maximum
// (all -inf, or +inf present) is replaced by 0 so the shift never makes a NaN.
Tensor stable_shift(const Tensor& xf, const Axes& axes) {
  Tensor m = amax(xf, axes, true);
  return masked_fill(m, abs(m) == std::numeric_limits<double>::infinity(), 0.0);
}
}  // namespace

Tensor logsumexp(const Tensor& x, const Axes& axes, bool keepdim) {
  const Tensor xf = as_floating(x);
  const Tensor m = stable_shift(xf, axes);
  Tensor out = log(sum(exp(xf - m), axes, true)) + m;
  if (!keepdim) {
    const auto mask = reduced_axes(xf, axes, "logsumexp");
    Shape shape;
    for (int d = 0; d < xf.dim(); ++d)
      if (!mask[d]) shape.push_back(xf.shape()[d]);
    out = out.reshape(shape);
  }
  return out;
}

Tensor norm(const Tensor& x, double p, const Axes& axes, bool keepdim) {
  const Tensor xf = as_floating(x);
  if (p == 2.0) {
    // sqrt's derivative is infinite at 0; routing zeros around it makes the gradient of a zero
    // norm 0 (PyTorch's subgradient) instead of 0 * inf = NaN, e.g. for the distance of a point
    // to itself.
    const Tensor squares = sum(square(xf), axes, keepdim);
    const Tensor nonzero = squares != 0.0;  // NaN stays NaN
    return where(nonzero, sqrt(where(nonzero, squares, 1.0)), 0.0);
  }
  if (p == 1.0) return sum(abs(xf), axes, keepdim);
  if (std::isinf(p)) return p > 0 ? amax(abs(xf), axes, keepdim) : amin(abs(xf), axes, keepdim);
  if (p == 0.0) return sum(xf != 0.0, axes, keepdim).to(xf.dtype());
  if (p < 0.0) throw ValueError(fmt::format("tinynn::norm: order {} is not supported (use p > 0, 0, or +-inf)", p));
  return pow(sum(pow(abs(xf), p), axes, keepdim), 1.0 / p);
}

Tensor cumsum(const Tensor& x, std::int64_t axis) { return scan(ScanOp::CumSum, x, axis, "cumsum"); }
Tensor cumprod(const Tensor& x, std::int64_t axis) { return scan(ScanOp::CumProd, x, axis, "cumprod"); }

Tensor softmax(const Tensor& x, std::int64_t axis) {
  const Tensor xf = as_floating(x);
  const Tensor e = exp(xf - stable_shift(xf, {axis}));
  return e / sum(e, {axis}, true);
}

// (x - m) - log(sum(exp(x - m))): subtracting before adding back keeps float32 exact for large x.
Tensor log_softmax(const Tensor& x, std::int64_t axis) {
  const Tensor xf = as_floating(x);
  const Tensor shifted = xf - stable_shift(xf, {axis});
  return shifted - log(sum(exp(shifted), {axis}, true));
}

}  // namespace tinynn
