// Backward formulas of the pointwise ops (Unary, Binary, Where), in differentiable tensor ops.
// A formula that needs the op's output y uses the saved (detached) y for a first-order
// backward, and recomputes y from x when building a graph, so higher orders see y's dependence on x.
#include <cmath>

#include "../core/creation.h"
#include "../core/ops.h"
#include "autograd.h"
#include "detail/formulas.h"

namespace tinynn::detail {

namespace {

Tensor as_mask(const Tensor& condition, const Tensor& like) { return condition.to(like.dtype()); }

}  // namespace

// x: any shape; grad and output: x's shape -> dL/dx of x's shape
Tensor unary_backward(UnaryOp op, const UnaryParams& p, const Tensor& x, const Tensor& saved_y, const Tensor& g) {
  // A first-order gradient (nothing records it) is one pass of the row's derivative; under
  // create_graph it is the formula below, made of ops so it can be differentiated again.
  if (!is_grad_enabled() && saved_y.defined() && is_floating(x.dtype()) && g.dtype() == x.dtype() &&
      saved_y.dtype() == x.dtype() && g.shape() == x.shape() && saved_y.shape() == x.shape() && g.device() == x.device())
    return unary_backward_kernel(op, p, x, saved_y, g);
  auto y = [&] { return is_grad_enabled() ? unary(op, x, p) : saved_y; };
  const double kInvSqrt2 = 0.70710678118654752440, kInvSqrt2Pi = 0.39894228040143267794;
  switch (op) {
    case UnaryOp::Neg: return -g;
    case UnaryOp::Abs: return g * sign(x);
    case UnaryOp::Sign: return g * 0.0;
    case UnaryOp::Square: return g * x * 2.0;
    case UnaryOp::Relu: return where(x > 0.0, g, 0.0);  // two passes, not compare + convert + multiply
    case UnaryOp::LeakyRelu: return g * where(x > 0.0, ones_like(x), full_like(x, p.a));
    case UnaryOp::Clamp: return g * as_mask(x >= p.a, x) * as_mask(x <= p.b, x);
    case UnaryOp::PowScalar: return p.a == 0.0 ? g * 0.0 : g * pow(x, p.a - 1.0) * p.a;
    case UnaryOp::Exp: return g * y();
    case UnaryOp::Log: return g / x;
    case UnaryOp::Log1p: return g / (x + 1.0);
    case UnaryOp::Sqrt: return g * 0.5 / y();
    case UnaryOp::Rsqrt: return g * y() * -0.5 / x;
    case UnaryOp::Sin: return g * cos(x);
    case UnaryOp::Cos: return -g * sin(x);
    case UnaryOp::Tanh: { const Tensor t = y(); return g * (1.0 - t * t); }
    case UnaryOp::Sigmoid: { const Tensor s = y(); return g * s * (1.0 - s); }
    case UnaryOp::Erf: return g * exp(-square(x)) * 1.12837916709551257390;
    case UnaryOp::Gelu: {
      const Tensor cdf = (erf(x * kInvSqrt2) + 1.0) * 0.5;
      const Tensor pdf = exp(square(x) * -0.5) * kInvSqrt2Pi;
      return g * (cdf + x * pdf);
    }
    case UnaryOp::Softplus: return g * where(x > 20.0, ones_like(x), sigmoid(x));
  }
  return Tensor();
}

// a, b: broadcastable; grad: broadcast shape -> {dL/da of a's shape, dL/db of b's shape}
std::vector<Tensor> binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& g,
                                    const std::vector<bool>& needs) {
  Tensor ga, gb;
  switch (op) {
    case BinaryOp::Add: ga = g; gb = g; break;
    case BinaryOp::Sub: ga = g; gb = -g; break;
    case BinaryOp::Mul:
      if (needs[0]) ga = g * b;
      if (needs[1]) gb = g * a;
      break;
    case BinaryOp::Div:
      if (needs[0]) ga = g / b;
      if (needs[1]) gb = -g * a / (b * b);
      break;
    case BinaryOp::Pow:
      // 0 where the exponent is 0 (d/da a^0) or the base is 0 (d/db 0^b), as PyTorch.
      if (needs[0]) ga = where(b == 0.0, 0.0, g * b * pow(a, b - 1.0));
      if (needs[1]) gb = where(a == 0.0, 0.0, g * pow(a, b) * log(a));
      break;
    case BinaryOp::Minimum:
    case BinaryOp::Maximum: {
      // The winner takes the gradient; a tie splits it in half, as PyTorch does.
      const Tensor a_wins = op == BinaryOp::Minimum ? a < b : a > b;
      const Tensor b_wins = op == BinaryOp::Minimum ? b < a : b > a;
      const Tensor tie = as_mask(a == b, g) * 0.5;
      if (needs[0]) ga = g * (as_mask(a_wins, g) + tie);
      if (needs[1]) gb = g * (as_mask(b_wins, g) + tie);
      break;
    }
    default:  // comparisons produce bool masks and are never recorded
      break;
  }
  return {needs[0] && ga.defined() ? sum_to_shape(ga, a.shape()) : Tensor(),
          needs[1] && gb.defined() ? sum_to_shape(gb, b.shape()) : Tensor()};
}

// cond, a, b: broadcastable; grad: broadcast shape -> {none, dL/da, dL/db}
std::vector<Tensor> where_backward(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& g,
                                   const std::vector<bool>& needs) {
  return {Tensor(), needs[1] ? sum_to_shape(where(cond, g, 0.0), a.shape()) : Tensor(),
          needs[2] ? sum_to_shape(where(cond, 0.0, g), b.shape()) : Tensor()};
}

}  // namespace tinynn::detail
