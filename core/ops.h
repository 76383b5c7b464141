// Pointwise operations with NumPy/PyTorch broadcasting, and the operators built on them.
#pragma once
#include "pointwise_table.h"
#include "tensor.h"

namespace tinynn {

// Unary math. Integer inputs promote to float32 for the transcendental ones.
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor square(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor gelu(const Tensor& x);
Tensor softplus(const Tensor& x);
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
Tensor pow(const Tensor& x, Scalar exponent);
// Runs one row of the pointwise table (used by the generic tests and by autograd).
Tensor unary(UnaryOp op, const Tensor& x, UnaryParams params = {});

// Binary math with broadcasting; the result dtype follows promote_types.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: integers give float32
Tensor pow(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
// Comparisons return Bool masks.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);

// Scalar forms: the scalar takes the tensor's dtype (an int64 tensor with a fractional
// scalar promotes to float32, as in PyTorch).
Tensor binary(BinaryOp op, const Tensor& a, Scalar b);
Tensor binary(BinaryOp op, Scalar a, const Tensor& b);

// cond ? a : b with broadcasting over all three; cond must be Bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, Scalar a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, Scalar b);
// A copy of x with `value` where mask (Bool, broadcastable to x) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);

// Operators for readable user code. C++ has no `@`: write matmul(a, b) or a.matmul(b).
Tensor operator-(const Tensor& x);
#define TINYNN_DECLARE_OPERATOR(sym)                 \
  Tensor operator sym(const Tensor& a, const Tensor& b); \
  Tensor operator sym(const Tensor& a, Scalar b);        \
  Tensor operator sym(Scalar a, const Tensor& b);
TINYNN_DECLARE_OPERATOR(+)
TINYNN_DECLARE_OPERATOR(-)
TINYNN_DECLARE_OPERATOR(*)
TINYNN_DECLARE_OPERATOR(/)
TINYNN_DECLARE_OPERATOR(==)
TINYNN_DECLARE_OPERATOR(!=)
TINYNN_DECLARE_OPERATOR(<)
TINYNN_DECLARE_OPERATOR(<=)
TINYNN_DECLARE_OPERATOR(>)
TINYNN_DECLARE_OPERATOR(>=)
#undef TINYNN_DECLARE_OPERATOR

// True when shapes match and every element is within atol + rtol * |b| (NaNs never match).
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);
// True when shapes and dtypes match and every element is equal.
bool equal(const Tensor& a, const Tensor& b);

}  // namespace tinynn
