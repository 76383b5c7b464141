// Pointwise ops: dtype promotion, broadcasting and device checks, then one backend call.
#include "ops.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "backend.h"
#include "creation.h"
#include "detail/autograd_hooks.h"
#include "detail/plan.h"
#include "error.h"
#include "reduce.h"

namespace tinynn {

namespace detail {
void check_same_device(const char* fn, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device())
    throw DeviceError(fmt::format("tinynn::{}: tensors are on different devices: {} and {}", fn, a.device().str(),
                                  b.device().str()));
}
}  // namespace detail

// ---- unary ---------------------------------------------------------------------------------

Tensor unary(UnaryOp op, const Tensor& x, UnaryParams params) {
  DType t = x.dtype();
  if (t == DType::Bool || (unary_op_floating_only(op) && !is_floating(t)))
    t = unary_op_floating_only(op) ? DType::Float32 : DType::Int64;
  const Tensor in = x.to(t);
  Tensor out = empty(in.shape(), t, in.device());
  // An empty result skips the kernel but is still recorded, so backward gives empty gradients.
  if (out.numel() > 0)
    backend_for(in.device()).unary(op, params, detail::plan_for<2>(out, {&in}), t, out.raw_data(), in.raw_data());
  detail::OpRecord rec{detail::OpKind::Unary, {in}};
  rec.unary = op;
  rec.params = params;
  return detail::recorded(std::move(rec), out);
}

namespace detail {

// x, y = op(x), g of one shape and floating dtype -> g * op'(x), in one pass.
Tensor unary_backward_kernel(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& y, const Tensor& g) {
  Tensor gx = empty(x.shape(), x.dtype(), x.device());
  if (gx.numel() > 0)
    backend_for(x.device())
        .unary_backward(op, params, plan_for<4>(gx, {&g, &x, &y}), x.dtype(), gx.raw_data(), g.raw_data(), x.raw_data(),
                        y.raw_data());
  return gx;
}

}  // namespace detail

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, x); }
Tensor sign(const Tensor& x) { return unary(UnaryOp::Sign, x); }
Tensor square(const Tensor& x) { return unary(UnaryOp::Square, x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x); }
Tensor log1p(const Tensor& x) { return unary(UnaryOp::Log1p, x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x); }
Tensor rsqrt(const Tensor& x) { return unary(UnaryOp::Rsqrt, x); }
Tensor sin(const Tensor& x) { return unary(UnaryOp::Sin, x); }
Tensor cos(const Tensor& x) { return unary(UnaryOp::Cos, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, x); }
Tensor erf(const Tensor& x) { return unary(UnaryOp::Erf, x); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, x); }
Tensor gelu(const Tensor& x) { return unary(UnaryOp::Gelu, x); }
Tensor softplus(const Tensor& x) { return unary(UnaryOp::Softplus, x); }
Tensor leaky_relu(const Tensor& x, double negative_slope) { return unary(UnaryOp::LeakyRelu, x, {negative_slope, 0.0}); }

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  if (min && max && *min > *max)
    throw ValueError(fmt::format("tinynn::clamp: min {} is greater than max {}", *min, *max));
  const double inf = std::numeric_limits<double>::infinity();
  return unary(UnaryOp::Clamp, x, {min.value_or(-inf), max.value_or(inf)});
}

Tensor pow(const Tensor& x, Scalar exponent) {
  if (!is_floating(x.dtype()) && exponent.is_integral() && exponent.to_double() >= 0)
    return binary(BinaryOp::Pow, x, exponent);  // integer powers of integers stay integers
  return unary(UnaryOp::PowScalar, x, {exponent.to_double(), 0.0});
}

// ---- binary --------------------------------------------------------------------------------

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* fn = binary_op_name(op);
  detail::check_same_device(fn, a, b);
  DType t = promote_types(a.dtype(), b.dtype());
  if (t == DType::Bool) t = DType::Int64;
  if (op == BinaryOp::Div && !is_floating(t)) t = DType::Float32;  // true division
  const Tensor ta = a.to(t), tb = b.to(t);
  const DType out_t = binary_op_is_comparison(op) ? DType::Bool : t;
  Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), fn), out_t, a.device());
  if (out.numel() > 0)
    backend_for(a.device()).binary(op, detail::plan_for<3>(out, {&ta, &tb}), t, out.raw_data(), ta.raw_data(),
                                   tb.raw_data());
  detail::OpRecord rec{detail::OpKind::Binary, {ta, tb}};
  rec.binary = op;
  return detail::recorded(std::move(rec), out);
}

namespace {
// The dtype a scalar takes next to a tensor of dtype t: the tensor's, unless that would lose a fraction.
DType scalar_dtype(DType t, const Scalar& s) {
  if (is_floating(t)) return t;
  return s.is_integral() ? DType::Int64 : DType::Float32;
}
}  // namespace

Tensor binary(BinaryOp op, const Tensor& a, Scalar b) {
  return binary(op, a, scalar_tensor(b, scalar_dtype(a.dtype(), b), a.device()));
}
Tensor binary(BinaryOp op, Scalar a, const Tensor& b) {
  return binary(op, scalar_tensor(a, scalar_dtype(b.dtype(), a), b.device()), b);
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Pow, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Minimum, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Maximum, a, b); }
Tensor eq(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Ge, a, b); }

Tensor operator-(const Tensor& x) { return neg(x); }
#define TINYNN_DEFINE_OPERATOR(sym, Op)                                                         \
  Tensor operator sym(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Op, a, b); } \
  Tensor operator sym(const Tensor& a, Scalar b) { return binary(BinaryOp::Op, a, b); }        \
  Tensor operator sym(Scalar a, const Tensor& b) { return binary(BinaryOp::Op, a, b); }
TINYNN_DEFINE_OPERATOR(+, Add)
TINYNN_DEFINE_OPERATOR(-, Sub)
TINYNN_DEFINE_OPERATOR(*, Mul)
TINYNN_DEFINE_OPERATOR(/, Div)
TINYNN_DEFINE_OPERATOR(==, Eq)
TINYNN_DEFINE_OPERATOR(!=, Ne)
TINYNN_DEFINE_OPERATOR(<, Lt)
TINYNN_DEFINE_OPERATOR(<=, Le)
TINYNN_DEFINE_OPERATOR(>, Gt)
TINYNN_DEFINE_OPERATOR(>=, Ge)
#undef TINYNN_DEFINE_OPERATOR

// ---- selection -----------------------------------------------------------------------------

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (cond.dtype() != DType::Bool)
    throw DTypeError(fmt::format("tinynn::where: condition must be bool, got {}", dtype_name(cond.dtype())));
  detail::check_same_device("where", cond, a);
  detail::check_same_device("where", a, b);
  const DType t = promote_types(a.dtype(), b.dtype());
  const Tensor ta = a.to(t), tb = b.to(t);
  const Shape shape = broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
  Tensor out = empty(shape, t, a.device());
  if (out.numel() > 0)
    backend_for(a.device()).where(detail::plan_for<4>(out, {&cond, &ta, &tb}), t, out.raw_data(),
                                  static_cast<const bool*>(cond.raw_data()), ta.raw_data(), tb.raw_data());
  return detail::recorded({detail::OpKind::Where, {cond, ta, tb}}, out);
}

Tensor where(const Tensor& cond, Scalar a, const Tensor& b) {
  return where(cond, scalar_tensor(a, scalar_dtype(b.dtype(), a), b.device()), b);
}
Tensor where(const Tensor& cond, const Tensor& a, Scalar b) {
  return where(cond, a, scalar_tensor(b, scalar_dtype(a.dtype(), b), a.device()));
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  const Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  if (shape != x.shape())
    throw ShapeError(fmt::format("tinynn::masked_fill: mask {} must broadcast to the tensor's shape {}",
                                 shape_str(mask.shape()), shape_str(x.shape())));
  return where(mask, scalar_tensor(value, x.dtype(), x.device()), x);
}

// ---- whole-tensor comparisons ----------------------------------------------------------------

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return false;
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (std::size_t i = 0; i < va.size(); ++i) {
    if (va[i] == vb[i]) continue;  // equal infinities
    if (!(std::abs(va[i] - vb[i]) <= atol + rtol * std::abs(vb[i]))) return false;
  }
  return true;
}

bool equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  return a.to_vector<double>() == b.to_vector<double>();
}

}  // namespace tinynn
