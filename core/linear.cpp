// Matrix products with torch.matmul semantics; one structural backend call (Backend::matmul).
#include "linear.h"

#include <fmt/format.h>

#include "backend.h"
#include "detail/autograd_hooks.h"
#include "detail/plan.h"
#include "error.h"
#include "ops.h"
#include "storage.h"

namespace tinynn {

namespace {

void require_dims(const char* fn, const Tensor& t, int dims, const char* which) {
  if (t.dim() != dims)
    throw ShapeError(fmt::format("tinynn::{}: {} must be {}-D, got shape {}", fn, which, dims, shape_str(t.shape())));
}

// Kernels handle any row/column strides, but fast paths need one of the two to be 1.
Tensor with_unit_stride(const Tensor& t) {
  const auto n = t.dim();
  const bool ok = t.strides()[n - 1] == 1 || t.strides()[n - 2] == 1 || t.shape()[n - 1] == 1 || t.shape()[n - 2] == 1;
  return ok ? t : t.contiguous();
}

// out[batch..., m, n] = a[batch_a..., m, k] @ b[batch_b..., k, n], the batch axes broadcast to `batch`.
void launch_matmul(const Tensor& out, const Tensor& a, const Tensor& b, const Shape& batch, std::int64_t m,
                   std::int64_t n, std::int64_t k) {
  const int ar = a.dim(), br = b.dim();
  // Batch axes: broadcast strides (0 where an operand has size 1 or lacks the axis), coalesced
  // like an elementwise plan over three operands.
  auto batch_strides_of = [&batch](const Tensor& t) {
    Shape strides(batch.size(), 0);
    const std::size_t rank = t.shape().size() - 2, lead = batch.size() - rank;
    for (std::size_t i = 0; i < rank; ++i) strides[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
    return strides;
  };
  std::array<Shape, 3> batch_strides{Shape(out.strides().begin(), out.strides().end() - 2), batch_strides_of(a),
                                     batch_strides_of(b)};
  const auto batch_plan = detail::make_elementwise_plan<3>(batch, batch_strides);
  MatmulPlan plan;
  plan.batch_ndim = batch.empty() || numel_of(batch) == 1 ? 0 : batch_plan.ndim;
  for (int d = 0; d < plan.batch_ndim; ++d) {
    plan.batch_shape[d] = batch_plan.shape[d];
    plan.out_batch_strides[d] = batch_plan.strides[0][d];
    plan.a_batch_strides[d] = batch_plan.strides[1][d];
    plan.b_batch_strides[d] = batch_plan.strides[2][d];
  }
  plan.m = m;
  plan.n = n;
  plan.k = k;
  plan.a_row_stride = a.strides()[ar - 2];
  plan.a_col_stride = a.strides()[ar - 1];
  plan.b_row_stride = b.strides()[br - 2];
  plan.b_col_stride = b.strides()[br - 1];
  backend_for(a.device()).matmul(plan, out.dtype(), out.raw_data(), a.raw_data(), b.raw_data());
}

// a: [..., m, k], b: [..., k, n] (both at least 2-D) -> [broadcast(...), m, n]
Tensor batched_matmul(const char* fn, const Tensor& a_in, const Tensor& b_in, const Shape& a_shown, const Shape& b_shown) {
  detail::check_same_device(fn, a_in, b_in);
  DType t = promote_types(a_in.dtype(), b_in.dtype());
  if (t == DType::Bool) t = DType::Int64;
  const Tensor a = with_unit_stride(a_in.to(t)), b = with_unit_stride(b_in.to(t));
  const int ar = a.dim(), br = b.dim();
  const std::int64_t m = a.shape()[ar - 2], k = a.shape()[ar - 1], k2 = b.shape()[br - 2], n = b.shape()[br - 1];
  if (k != k2)
    throw ShapeError(fmt::format("tinynn::{}: cannot multiply {} by {}: inner sizes {} and {} differ", fn,
                                 shape_str(a_shown), shape_str(b_shown), k, k2));
  const Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(a_batch, b_batch, fn);
  } catch (const ShapeError&) {
    throw ShapeError(fmt::format("tinynn::{}: cannot multiply {} by {}: batch shapes {} and {} do not broadcast", fn,
                                 shape_str(a_shown), shape_str(b_shown), shape_str(a_batch), shape_str(b_batch)));
  }
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = empty(out_shape, t, a.device());
  // An empty result skips the kernel but is still recorded, so backward gives empty gradients.
  if (out.numel() > 0) launch_matmul(out, a, b, batch, m, n, k);
  return detail::recorded({detail::OpKind::Matmul, {a, b}}, out);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dim() == 0 || b.dim() == 0)
    throw ShapeError(fmt::format("tinynn::matmul: both arguments need at least 1 dimension, got {} and {}",
                                 shape_str(a.shape()), shape_str(b.shape())));
  // 1-D operands are promoted to matrices and the added axis removed afterwards.
  const Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  const Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  Tensor out = batched_matmul("matmul", a2, b2, a.shape(), b.shape());
  if (b.dim() == 1) out = out.squeeze(-1);
  if (a.dim() == 1) out = out.squeeze(a.dim() == 1 && b.dim() == 1 ? -1 : -2);
  return out;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  require_dims("dot", a, 1, "first argument");
  require_dims("dot", b, 1, "second argument");
  if (a.numel() != b.numel())
    throw ShapeError(fmt::format("tinynn::dot: vectors of sizes {} and {} differ", a.numel(), b.numel()));
  return matmul(a, b);
}

Tensor mv(const Tensor& a, const Tensor& x) {
  require_dims("mv", a, 2, "matrix");
  require_dims("mv", x, 1, "vector");
  return batched_matmul("mv", a, x.unsqueeze(1), a.shape(), x.shape()).squeeze(-1);
}

Tensor mm(const Tensor& a, const Tensor& b) {
  require_dims("mm", a, 2, "first argument");
  require_dims("mm", b, 2, "second argument");
  return batched_matmul("mm", a, b, a.shape(), b.shape());
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  require_dims("bmm", a, 3, "first argument");
  require_dims("bmm", b, 3, "second argument");
  if (a.shape()[0] != b.shape()[0])
    throw ShapeError(fmt::format("tinynn::bmm: batch sizes differ: {} and {}", shape_str(a.shape()), shape_str(b.shape())));
  return batched_matmul("bmm", a, b, a.shape(), b.shape());
}

namespace detail {

void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b) {
  require_dims("matmul_into", a, 2, "first argument");
  require_dims("matmul_into", b, 2, "second argument");
  const std::int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  if (b.shape()[0] != k || out.shape() != Shape{m, n} || !out.is_contiguous() || a.dtype() != out.dtype() ||
      b.dtype() != out.dtype())
    throw ShapeError(fmt::format("tinynn::matmul_into: cannot write {} {} @ {} {} into a {} {} tensor{}", dtype_name(a.dtype()),
                                 shape_str(a.shape()), dtype_name(b.dtype()), shape_str(b.shape()), dtype_name(out.dtype()),
                                 shape_str(out.shape()), out.is_contiguous() ? "" : " (not contiguous)"));
  check_same_device("matmul_into", a, b);
  check_same_device("matmul_into", a, out);
  out.impl()->storage->bump_version();
  if (out.numel() > 0) launch_matmul(out, with_unit_stride(a), with_unit_stride(b), {}, m, n, k);
}

}  // namespace detail

Tensor outer(const Tensor& a, const Tensor& b) {
  require_dims("outer", a, 1, "first argument");
  require_dims("outer", b, 1, "second argument");
  return a.unsqueeze(1) * b.unsqueeze(0);
}

}  // namespace tinynn
