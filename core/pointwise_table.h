// The pointwise op catalogue: one row per op with its scalar forward and scalar derivative.
// The CPU loops, the CUDA kernels and the table-driven tests are all generated from these rows,
// so adding a pointwise op means adding one struct here and one line to the list below it.
#pragma once
#include <cmath>
#include <cstdint>

#include "host_device.h"

namespace tinynn {

// Extra scalar arguments of parameterized ops (leaky_relu slope, clamp bounds, pow exponent).
struct UnaryParams {
  double a = 0.0;
  double b = 0.0;
};

namespace pointwise {

// ---- unary ops: f(x) and df(x, y) = dy/dx where y = f(x) -------------------------------
// `floating_only` ops promote integer inputs to float32 before running. Rows deriving from
// ActivationRow are activation layers too: usable by name in a model (JSON configs, nn::Pointwise),
// with `param` naming UnaryParams::a in a config (nullptr: none) and `param_default` its default.

struct OpRow {
  static constexpr bool activation = false;
  static constexpr const char* param = nullptr;
  static constexpr double param_default = 0.0;
};
struct ActivationRow : OpRow {
  static constexpr bool activation = true;
};

struct Neg : OpRow {
  static constexpr bool floating_only = false;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return -x; }
  template <class T> TINYNN_HD static T df(T, T, UnaryParams) { return T(-1); }
};
struct Abs : OpRow {
  static constexpr bool floating_only = false;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return x < T(0) ? -x : x; }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) { return T((x > T(0)) - (x < T(0))); }
};
struct Sign : OpRow {
  static constexpr bool floating_only = false;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return T((x > T(0)) - (x < T(0))); }
  template <class T> TINYNN_HD static T df(T, T, UnaryParams) { return T(0); }
};
struct Square : OpRow {
  static constexpr bool floating_only = false;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return x * x; }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) { return T(2) * x; }
};
struct Relu : ActivationRow {
  static constexpr bool floating_only = false;
  // NaN passes through (as PyTorch's relu), its gradient is zero.
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return !(x <= T(0)) ? x : T(0); }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) { return x > T(0) ? T(1) : T(0); }
};
// a = negative slope
struct LeakyRelu : ActivationRow {
  static constexpr const char* param = "slope";
  static constexpr double param_default = 0.01;
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams p) { return x > T(0) ? x : T(p.a) * x; }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams p) { return x > T(0) ? T(1) : T(p.a); }
};
// a = lower bound, b = upper bound; the gradient passes where lo <= x <= hi, as in PyTorch.
struct Clamp : OpRow {
  static constexpr bool floating_only = false;
  template <class T> TINYNN_HD static T f(T x, UnaryParams p) {
    return x < T(p.a) ? T(p.a) : (x > T(p.b) ? T(p.b) : x);
  }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams p) {
    return (x >= T(p.a) && x <= T(p.b)) ? T(1) : T(0);
  }
};
// a = exponent (a scalar power; tensor ** tensor is the binary Pow)
struct PowScalar : OpRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams p) { return std::pow(x, T(p.a)); }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams p) {
    return p.a == 0.0 ? T(0) : T(p.a) * std::pow(x, T(p.a - 1.0));
  }
};
struct Exp : OpRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return std::exp(x); }
  template <class T> TINYNN_HD static T df(T, T y, UnaryParams) { return y; }
};
struct Log : OpRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return std::log(x); }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) { return T(1) / x; }
};
struct Log1p : OpRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return std::log1p(x); }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) { return T(1) / (T(1) + x); }
};
struct Sqrt : OpRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return std::sqrt(x); }
  template <class T> TINYNN_HD static T df(T, T y, UnaryParams) { return T(0.5) / y; }
};
struct Rsqrt : OpRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return T(1) / std::sqrt(x); }
  template <class T> TINYNN_HD static T df(T x, T y, UnaryParams) { return T(-0.5) * y / x; }
};
struct Sin : OpRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return std::sin(x); }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) { return std::cos(x); }
};
struct Cos : OpRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return std::cos(x); }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) { return -std::sin(x); }
};
struct Tanh : ActivationRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return std::tanh(x); }
  template <class T> TINYNN_HD static T df(T, T y, UnaryParams) { return T(1) - y * y; }
};
struct Sigmoid : ActivationRow {
  static constexpr bool floating_only = true;
  // Split by sign so neither branch overflows exp.
  template <class T> TINYNN_HD static T f(T x, UnaryParams) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    T e = std::exp(x);
    return e / (T(1) + e);
  }
  template <class T> TINYNN_HD static T df(T, T y, UnaryParams) { return y * (T(1) - y); }
};
struct Erf : OpRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) { return std::erf(x); }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) { return T(1.12837916709551257390) * std::exp(-x * x); }
};
// Exact GELU, x * Phi(x), as torch.nn.functional.gelu's default.
struct Gelu : ActivationRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) {
    return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
  }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) {
    T cdf = T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
    T pdf = T(0.39894228040143267794) * std::exp(T(-0.5) * x * x);
    return cdf + x * pdf;
  }
};
// log(1 + exp(x)), linear above 20 like PyTorch's default threshold.
struct Softplus : ActivationRow {
  static constexpr bool floating_only = true;
  template <class T> TINYNN_HD static T f(T x, UnaryParams) {
    return x > T(20) ? x : std::log1p(std::exp(x));
  }
  template <class T> TINYNN_HD static T df(T x, T, UnaryParams) {
    return x > T(20) ? T(1) : Sigmoid::f(x, UnaryParams{});
  }
};

// ---- binary ops: f(a, b), da = df/da, db = df/db ---------------------------------------

struct Add {
  static constexpr bool comparison = false;
  template <class T> TINYNN_HD static T f(T a, T b) { return a + b; }
  template <class T> TINYNN_HD static T da(T, T) { return T(1); }
  template <class T> TINYNN_HD static T db(T, T) { return T(1); }
};
struct Sub {
  static constexpr bool comparison = false;
  template <class T> TINYNN_HD static T f(T a, T b) { return a - b; }
  template <class T> TINYNN_HD static T da(T, T) { return T(1); }
  template <class T> TINYNN_HD static T db(T, T) { return T(-1); }
};
struct Mul {
  static constexpr bool comparison = false;
  template <class T> TINYNN_HD static T f(T a, T b) { return a * b; }
  template <class T> TINYNN_HD static T da(T, T b) { return b; }
  template <class T> TINYNN_HD static T db(T a, T) { return a; }
};
struct Div {
  static constexpr bool comparison = false;
  template <class T> TINYNN_HD static T f(T a, T b) { return a / b; }
  template <class T> TINYNN_HD static T da(T, T b) { return T(1) / b; }
  template <class T> TINYNN_HD static T db(T a, T b) { return -a / (b * b); }
};
struct Pow {
  static constexpr bool comparison = false;
  template <class T> TINYNN_HD static T f(T a, T b) { return T(std::pow(a, b)); }
  template <class T> TINYNN_HD static T da(T a, T b) { return b == T(0) ? T(0) : T(b * std::pow(a, b - T(1))); }
  // d/db a^b = a^b log a; 0 where a == 0 (PyTorch's convention) to avoid 0 * -inf.
  template <class T> TINYNN_HD static T db(T a, T b) { return a == T(0) ? T(0) : T(std::pow(a, b) * std::log(a)); }
};
// Ties send the gradient half to each side, as PyTorch does for minimum/maximum.
struct Minimum {
  static constexpr bool comparison = false;
  template <class T> TINYNN_HD static T f(T a, T b) { return a < b ? a : b; }
  template <class T> TINYNN_HD static T da(T a, T b) { return a < b ? T(1) : (a == b ? T(0.5) : T(0)); }
  template <class T> TINYNN_HD static T db(T a, T b) { return b < a ? T(1) : (a == b ? T(0.5) : T(0)); }
};
struct Maximum {
  static constexpr bool comparison = false;
  template <class T> TINYNN_HD static T f(T a, T b) { return a > b ? a : b; }
  template <class T> TINYNN_HD static T da(T a, T b) { return a > b ? T(1) : (a == b ? T(0.5) : T(0)); }
  template <class T> TINYNN_HD static T db(T a, T b) { return b > a ? T(1) : (a == b ? T(0.5) : T(0)); }
};
#define TINYNN_COMPARISON(Name, expr)                                     \
  struct Name {                                                           \
    static constexpr bool comparison = true;                              \
    template <class T> TINYNN_HD static bool f(T a, T b) { return expr; } \
  };
TINYNN_COMPARISON(Eq, a == b)
TINYNN_COMPARISON(Ne, a != b)
TINYNN_COMPARISON(Lt, a < b)
TINYNN_COMPARISON(Le, a <= b)
TINYNN_COMPARISON(Gt, a > b)
TINYNN_COMPARISON(Ge, a >= b)
#undef TINYNN_COMPARISON

}  // namespace pointwise

// The lists every backend, the op layer and the tests expand: X(StructName, public_name).
#define TINYNN_UNARY_OPS(X)                                                                  \
  X(Neg, neg) X(Abs, abs) X(Sign, sign) X(Square, square) X(Relu, relu)                      \
  X(LeakyRelu, leaky_relu) X(Clamp, clamp) X(PowScalar, pow_scalar) X(Exp, exp) X(Log, log)  \
  X(Log1p, log1p) X(Sqrt, sqrt) X(Rsqrt, rsqrt) X(Sin, sin) X(Cos, cos) X(Tanh, tanh)        \
  X(Sigmoid, sigmoid) X(Erf, erf) X(Gelu, gelu) X(Softplus, softplus)

#define TINYNN_BINARY_OPS(X)                                                                 \
  X(Add, add) X(Sub, sub) X(Mul, mul) X(Div, div) X(Pow, pow) X(Minimum, minimum)            \
  X(Maximum, maximum) X(Eq, eq) X(Ne, ne) X(Lt, lt) X(Le, le) X(Gt, gt) X(Ge, ge)

#define TINYNN_ENUM_ENTRY(Name, name) Name,
enum class UnaryOp { TINYNN_UNARY_OPS(TINYNN_ENUM_ENTRY) };
enum class BinaryOp { TINYNN_BINARY_OPS(TINYNN_ENUM_ENTRY) };
#undef TINYNN_ENUM_ENTRY

const char* unary_op_name(UnaryOp op);
const char* binary_op_name(BinaryOp op);
bool unary_op_floating_only(UnaryOp op);
// An activation row's layer traits (see ActivationRow); `activation` is false for the other ops.
struct ActivationTraits {
  bool activation = false;
  const char* param = nullptr;
  double param_default = 0.0;
};
ActivationTraits unary_op_activation(UnaryOp op);
bool binary_op_is_comparison(BinaryOp op);

}  // namespace tinynn
