// Pointwise ops: every row of the table against an independent reference and hand values,
// every row's derivative against finite differences, broadcasting, promotion and errors.
#include <functional>
#include <map>

#include "op_domains.h"
#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

namespace {

struct UnaryCase {
  std::function<double(double)> reference;
  UnaryParams params{};
  double lo = -3, hi = 3;  // input domain for random tests (tests/op_domains.h)
};

// Independent references, written without the table, for the parameters of tests/op_domains.h.
// A row missing here fails the suite.
std::map<std::string, UnaryCase> unary_cases() {
  const std::map<std::string, std::function<double(double)>> references = {
      {"neg", [](double x) { return -x; }},
      {"abs", [](double x) { return std::fabs(x); }},
      {"sign", [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }},
      {"square", [](double x) { return x * x; }},
      {"relu", [](double x) { return std::max(x, 0.0); }},
      {"leaky_relu", [](double x) { return x > 0 ? x : 0.1 * x; }},
      {"clamp", [](double x) { return std::min(std::max(x, -0.5), 0.7); }},
      {"pow_scalar", [](double x) { return x * x * std::sqrt(x); }},
      {"exp", [](double x) { return std::exp(x); }},
      {"log", [](double x) { return std::log(x); }},
      {"log1p", [](double x) { return std::log(1 + x); }},
      {"sqrt", [](double x) { return std::pow(x, 0.5); }},
      {"rsqrt", [](double x) { return std::pow(x, -0.5); }},
      {"sin", [](double x) { return std::sin(x); }},
      {"cos", [](double x) { return std::cos(x); }},
      {"tanh", [](double x) { return (std::exp(2 * x) - 1) / (std::exp(2 * x) + 1); }},
      {"sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }},
      {"erf", [](double x) { return 1 - std::erfc(x); }},
      {"gelu", [](double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }},
      {"softplus", [](double x) { return std::log(1 + std::exp(x)); }},
  };
  std::map<std::string, UnaryCase> cases;
#define TINYNN_CASE(Name, name)                                                   \
  if (references.count(#name)) {                                                  \
    const test::OpDomain d = test::unary_domain(UnaryOp::Name);                   \
    cases[#name] = {references.at(#name), d.params, d.lo, d.hi};                  \
  }
  TINYNN_UNARY_OPS(TINYNN_CASE)
#undef TINYNN_CASE
  return cases;
}

// Scalar forward/derivative of each row, for the finite-difference check.
struct RowFns {
  std::function<double(double, UnaryParams)> f;
  std::function<double(double, double, UnaryParams)> df;
};
std::map<std::string, RowFns> unary_rows() {
  std::map<std::string, RowFns> rows;
#define TINYNN_ROW(Name, name)                                                                         \
  rows[#name] = {[](double x, UnaryParams p) { return pointwise::Name::f<double>(x, p); },             \
                 [](double x, double y, UnaryParams p) { return pointwise::Name::df<double>(x, y, p); }};
  TINYNN_UNARY_OPS(TINYNN_ROW)
#undef TINYNN_ROW
  return rows;
}

std::vector<UnaryOp> all_unary_ops() {
#define TINYNN_ENTRY(Name, name) UnaryOp::Name,
  return {TINYNN_UNARY_OPS(TINYNN_ENTRY)};
#undef TINYNN_ENTRY
}

}  // namespace

TEST_CASE("every unary row matches its reference in float32 and float64, strided too", "[pointwise]") {
  const auto cases = unary_cases();
  Generator gen(1);
  for (UnaryOp op : all_unary_ops()) {
    const std::string name = unary_op_name(op);
    INFO("op " << name);
    REQUIRE(cases.count(name) == 1);  // a new table row needs a reference here
    const UnaryCase& c = cases.at(name);
    for (DType t : {DType::Float32, DType::Float64}) {
      // A transposed (non-contiguous) input exercises the strided loop.
      Tensor x = (rand({5, 7}, {t}, &gen) * (c.hi - c.lo) + c.lo).t();
      Tensor y = unary(op, x, c.params);
      REQUIRE(y.shape() == Shape{7, 5});
      REQUIRE(y.dtype() == t);
      const auto xs = x.to_vector<double>(), ys = y.to_vector<double>();
      const double tol = t == DType::Float32 ? 2e-6 : 1e-12;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const double want = c.reference(xs[i]);
        INFO("x = " << xs[i] << " got " << ys[i] << " want " << want);
        CHECK(std::abs(ys[i] - want) <= tol * std::max(1.0, std::abs(want)));
      }
    }
  }
}

TEST_CASE("every unary row's derivative matches central finite differences", "[pointwise][grad]") {
  const auto cases = unary_cases();
  const auto rows = unary_rows();
  Generator gen(2);
  for (const auto& [name, row] : rows) {
    INFO("op " << name);
    const UnaryCase& c = cases.at(name);
    const auto xs = (rand({50}, {DType::Float64}, &gen) * (c.hi - c.lo) + c.lo).to_vector<double>();
    for (double x : xs) {
      // Keep away from kinks (relu, abs, clamp, sign), where the derivative is one-sided.
      if (std::abs(x) < 1e-3 || std::abs(x - c.params.a) < 1e-3 || std::abs(x - c.params.b) < 1e-3) continue;
      const double h = 1e-6;
      const double numeric = (row.f(x + h, c.params) - row.f(x - h, c.params)) / (2 * h);
      const double analytic = row.df(x, row.f(x, c.params), c.params);
      INFO("x = " << x << " numeric " << numeric << " analytic " << analytic);
      CHECK(std::abs(numeric - analytic) <= 1e-5 * std::max(1.0, std::abs(numeric)));
    }
  }
}

TEST_CASE("every binary row's partial derivatives match finite differences", "[pointwise][grad]") {
  Generator gen(3);
  const auto as = (rand({40}, {DType::Float64}, &gen) * 2 + 0.5).to_vector<double>();
  const auto bs = (rand({40}, {DType::Float64}, &gen) * 2 - 1).to_vector<double>();
  int checked_ops = 0;
  auto check_row = [&](auto row, const char* name) {
    using R = decltype(row);
    if constexpr (!R::comparison) {
      ++checked_ops;
      for (std::size_t i = 0; i < as.size(); ++i) {
        const double a = as[i], b = bs[i], h = 1e-6;
        if (std::abs(a - b) < 1e-3) continue;  // minimum/maximum switch sides at a == b
        if (std::abs(b) < 0.05) continue;      // div: keep finite differences well conditioned
        const double nda = (R::template f<double>(a + h, b) - R::template f<double>(a - h, b)) / (2 * h);
        const double ndb = (R::template f<double>(a, b + h) - R::template f<double>(a, b - h)) / (2 * h);
        INFO(name << " a=" << a << " b=" << b);
        CHECK(std::abs(nda - R::template da<double>(a, b)) <= 1e-5 * std::max(1.0, std::abs(nda)));
        CHECK(std::abs(ndb - R::template db<double>(a, b)) <= 1e-5 * std::max(1.0, std::abs(ndb)));
      }
    }
  };
#define TINYNN_ROW(Name, name) check_row(pointwise::Name{}, #name);
  TINYNN_BINARY_OPS(TINYNN_ROW)
#undef TINYNN_ROW
  CHECK(checked_ops == 7);
}

TEST_CASE("unary ops: hand values and special cases", "[pointwise]") {
  Tensor x = tensor({-2.0, -0.5, 0.0, 0.5, 2.0});
  check_values(relu(x), {5}, {0, 0, 0, 0.5, 2});
  check_values(leaky_relu(x, 0.1), {5}, {-0.2, -0.05, 0, 0.5, 2});
  check_values(abs(x), {5}, {2, 0.5, 0, 0.5, 2});
  check_values(sign(x), {5}, {-1, -1, 0, 1, 1});
  check_values(square(x), {5}, {4, 0.25, 0, 0.25, 4});
  check_values(clamp(x, -1.0, 1.0), {5}, {-1, -0.5, 0, 0.5, 1});
  check_values(clamp(x, std::nullopt, 0.0), {5}, {-2, -0.5, 0, 0, 0});
  check_values(sigmoid(tensor({0.0, -1000.0, 1000.0})), {3}, {0.5, 0, 1});  // no overflow
  check_values(softplus(tensor({0.0, 30.0})), {2}, {std::log(2.0), 30});
  check_values(gelu(tensor({0.0, 1.0})), {2}, {0, 0.8413447460685429}, 1e-6);
  check_values(exp(tensor({0.0, 1.0})), {2}, {1, 2.718281828459045});
  check_values(log(tensor({1.0, 0.0})), {2}, {0, -INFINITY});
  check_values(sqrt(tensor({4.0, 9.0})), {2}, {2, 3});
  check_values(rsqrt(tensor({4.0})), {1}, {0.5});
  check_values(x.pow(2), {5}, {4, 0.25, 0, 0.25, 4});
  CHECK(std::isnan(sqrt(tensor({-1.0})).item()));
  CHECK(std::isnan(relu(tensor({std::nan("")})).item()));  // as PyTorch: NaN is not silently zeroed
  CHECK(std::isnan(relu(tensor({std::nan("")}, DType::Float32)).item()));
  TINYNN_REQUIRE_THROWS_CONTAINING(clamp(x, 2.0, 1.0), ValueError, "min 2 is greater than max 1");
}

TEST_CASE("unary dtype rules: integers promote for transcendental ops only", "[pointwise]") {
  Tensor i = tensor({-2, 3});
  CHECK(neg(i).dtype() == DType::Int64);
  CHECK(abs(i).dtype() == DType::Int64);
  CHECK(relu(i).dtype() == DType::Int64);
  CHECK(exp(i).dtype() == DType::Float32);
  CHECK(i.pow(2).dtype() == DType::Int64);
  check_values(i.pow(2), {2}, {4, 9});
  CHECK(i.pow(0.5).dtype() == DType::Float32);
  CHECK(tensor({2.0}, DType::Float64).sqrt().dtype() == DType::Float64);
}

TEST_CASE("binary ops with broadcasting: hand values", "[pointwise][broadcast]") {
  Tensor a = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});  // [2, 3]
  Tensor row = tensor({10.0, 20.0, 30.0});                 // [3]
  Tensor col = tensor({{1.0}, {2.0}});                     // [2, 1]
  check_values(a + row, {2, 3}, {11, 22, 33, 14, 25, 36});
  check_values(a * col, {2, 3}, {1, 2, 3, 8, 10, 12});
  check_values(col - row, {2, 3}, {-9, -19, -29, -8, -18, -28});
  check_values(a / 2.0, {2, 3}, {0.5, 1, 1.5, 2, 2.5, 3});
  check_values(1.0 - a, {2, 3}, {0, -1, -2, -3, -4, -5});
  check_values(a * 2.0f, {2, 3}, {2, 4, 6, 8, 10, 12});
  check_values(pow(a, col), {2, 3}, {1, 2, 3, 16, 25, 36});
  check_values(minimum(a, tensor(3.5)), {2, 3}, {1, 2, 3, 3.5, 3.5, 3.5});
  check_values(maximum(a, row / 10.0), {2, 3}, {1, 2, 3, 4, 5, 6});
  check_values(-a, {2, 3}, {-1, -2, -3, -4, -5, -6});
  // [3, 1, 2] with [4, 1] broadcasts to [3, 4, 2]
  Tensor b = arange(6).reshape({3, 1, 2}) + arange(4).reshape({4, 1}) * 10;
  CHECK(b.shape() == Shape{3, 4, 2});
  CHECK(b.at<std::int64_t>({2, 3, 1}) == 35);
}

TEST_CASE("broadcasting with zero-size and size-1 axes, and non-contiguous inputs", "[pointwise][broadcast]") {
  CHECK((zeros({0, 3}) + ones({3})).shape() == Shape{0, 3});
  CHECK((zeros({2, 0}) * ones({2, 1})).shape() == Shape{2, 0});
  CHECK((zeros({1, 0}) + ones({5, 1})).shape() == Shape{5, 0});
  check_values(ones({1, 1}) + tensor({1.0, 2.0}), {1, 2}, {2, 3});
  Tensor m = arange(0, 12, 1, {DType::Float32}).reshape({3, 4}).t();  // [4, 3] strided
  Tensor s = arange(0, 12, 1, {DType::Float32}).reshape({3, 4}).slice(1, 0, 4, 2);  // [3, 2] strided
  check_values(m + m, {4, 3}, {0, 8, 16, 2, 10, 18, 4, 12, 20, 6, 14, 22});
  check_values(s * tensor({1.0, -1.0}), {3, 2}, {0, -2, 4, -6, 8, -10});
  // An expanded (stride-0) operand.
  check_values(tensor({{1.0}, {2.0}}).expand({2, 3}) * tensor({1.0, 2.0, 3.0}), {2, 3}, {1, 2, 3, 2, 4, 6});
  TINYNN_REQUIRE_THROWS_CONTAINING(zeros({2, 3}) + zeros({4}), ShapeError,
                                   "tinynn::add: cannot broadcast [2, 3] with [4]: sizes 3 and 4 at axis -1 differ and neither is 1");
  TINYNN_REQUIRE_THROWS_CONTAINING(zeros({2, 3}) * zeros({3, 3}), ShapeError, "tinynn::mul: cannot broadcast [2, 3] with [3, 3]");
}

TEST_CASE("large inputs take the threaded loop and agree with the small one", "[pointwise]") {
  Generator gen(4);
  Tensor a = randn({300, 257}, {}, &gen), b = randn({257}, {}, &gen);
  Tensor big = a * b + 1.0;
  for (std::int64_t r : {0, 150, 299}) {
    Tensor small = a.select(0, r) * b + 1.0;  // below the threading threshold
    CHECK(equal(big.select(0, r).contiguous(), small));
  }
  Tensor t = a.t() * 2.0;  // large and strided
  CHECK(t.at<float>({10, 20}) == a.at<float>({20, 10}) * 2.0f);
}

TEST_CASE("dtype promotion of binary ops and scalars", "[pointwise]") {
  Tensor i = tensor({1, 2}), f = tensor({0.5, 1.5}), d = tensor({1.0}, DType::Float64);
  CHECK((i + i).dtype() == DType::Int64);
  CHECK((i + f).dtype() == DType::Float32);
  CHECK((f + d).dtype() == DType::Float64);
  CHECK((i + 1).dtype() == DType::Int64);
  CHECK((i + 0.5).dtype() == DType::Float32);
  CHECK((f + 1).dtype() == DType::Float32);
  CHECK((d * 2.5).dtype() == DType::Float64);
  Tensor q = i / 2;  // true division
  CHECK(q.dtype() == DType::Float32);
  check_values(q, {2}, {0.5, 1});
  check_values(i + 0.5, {2}, {1.5, 2.5});
}

TEST_CASE("comparisons return bool masks; where and masked_fill select", "[pointwise]") {
  Tensor a = tensor({1.0, 2.0, 3.0});
  Tensor m = a > 1.5;
  CHECK(m.dtype() == DType::Bool);
  check_values(m, {3}, {0, 1, 1});
  check_values(a == 2.0, {3}, {0, 1, 0});
  check_values(a != 2.0, {3}, {1, 0, 1});
  check_values(a <= 2.0, {3}, {1, 1, 0});
  check_values(a < tensor({{2.0}, {4.0}}), {2, 3}, {1, 0, 0, 1, 1, 1});
  check_values(ge(a, tensor(3.0)), {3}, {0, 0, 1});
  check_values(where(m, a, -a), {3}, {-1, 2, 3});
  check_values(where(m, a, 0.0), {3}, {0, 2, 3});
  check_values(where(m, 7, tensor({0, 0, 0})), {3}, {0, 7, 7});
  check_values(where(tensor({{1}, {0}}) == 1, a, zeros({3})), {2, 3}, {1, 2, 3, 0, 0, 0});
  check_values(masked_fill(a, a > 2.5, -1.0), {3}, {1, 2, -1});
  check_values(masked_fill(zeros({2, 2}), tensor({1, 0}) == 1, 9), {2, 2}, {9, 0, 9, 0});
  TINYNN_REQUIRE_THROWS_CONTAINING(where(a, a, a), DTypeError, "condition must be bool");
  TINYNN_REQUIRE_THROWS_CONTAINING(masked_fill(zeros({2}), ones({3, 2}) > 0, 1), ShapeError, "must broadcast to the tensor's shape [2]");
}

TEST_CASE("allclose and equal", "[pointwise]") {
  CHECK(allclose(tensor({1.0, 2.0}), tensor({1.0, 2.000001})));
  CHECK_FALSE(allclose(tensor({1.0, 2.0}), tensor({1.0, 2.1})));
  CHECK_FALSE(allclose(tensor({1.0}), tensor({1.0, 1.0})));
  CHECK(equal(tensor({1, 2}), tensor({1, 2})));
  CHECK_FALSE(equal(tensor({1, 2}), tensor({1.0, 2.0})));  // dtypes differ
}

TEST_CASE("bias_activation equals the activation of x + bias for every unary row, values and gradients",
          "[pointwise][grad]") {
  const auto cases = unary_cases();
  Generator gen(4);
  for (UnaryOp op : all_unary_ops()) {
    const UnaryCase& c = cases.at(unary_op_name(op));
    INFO("op " << unary_op_name(op));
    for (DType t : {DType::Float32, DType::Float64}) {
      // x + bias lands in the row's domain; x is a transposed view, bias broadcasts over rows.
      const Tensor bias = rand({6}, {t}, &gen) * 0.1;
      const Tensor pre = rand({6, 9}, {t}, &gen) * (c.hi - c.lo - 0.1) + c.lo;
      const Tensor x0 = (pre.t() - bias).detach();
      Tensor x1 = x0.clone().requires_grad_(), b1 = bias.clone().requires_grad_();
      Tensor x2 = x0.clone().requires_grad_(), b2 = bias.clone().requires_grad_();
      const Tensor fused = bias_activation(x1.t().t(), b1, op, c.params);
      const Tensor plain = unary(op, x2 + b2, c.params);
      const double tol = t == DType::Float32 ? 1e-5 : 1e-12;
      CHECK(allclose(fused, plain, tol, tol));
      const Tensor w = rand(fused.shape(), {t}, &gen);
      const auto gf = grad({sum(fused * w)}, {x1, b1}), gp = grad({sum(plain * w)}, {x2, b2});
      CHECK(allclose(gf[0], gp[0], tol, tol));
      CHECK(allclose(gf[1], gp[1], tol, tol));
    }
  }
  TINYNN_REQUIRE_THROWS_CONTAINING(bias_activation(zeros({2, 3}), zeros({2}), UnaryOp::Relu), ShapeError,
                                   "bias [2] does not match the last axis of input [2, 3]");
  check_values(bias_activation(tensor({{-1.0, 2.0}, {3.0, -4.0}}), tensor({0.5, 1.0}), UnaryOp::Relu), {2, 2},
               {0, 3, 3.5, 0});
}

TEST_CASE("the table's scalar derivative equals the autograd formula for every unary row", "[pointwise][autograd]") {
  // A pointwise derivative is written twice on purpose (autograd/README.md): the row's scalar df
  // (fused kernels) and the differentiable tensor formula (autograd). They must agree.
  const auto cases = unary_cases();
  const auto rows = unary_rows();
  Generator gen(11);
  for (UnaryOp op : all_unary_ops()) {
    const std::string name = unary_op_name(op);
    INFO("op " << name);
    const UnaryCase& c = cases.at(name);
    const Tensor x = (rand({64}, {DType::Float64}, &gen) * (c.hi - c.lo) + c.lo).requires_grad_();
    const Tensor g = randn({64}, {DType::Float64}, &gen);
    const auto formula = grad({unary(op, x, c.params)}, {x}, {g})[0].to_vector<double>();
    const auto xs = x.to_vector<double>(), gs = g.to_vector<double>();
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const auto& row = rows.at(name);
      const double table = gs[i] * row.df(xs[i], row.f(xs[i], c.params), c.params);
      INFO("x = " << xs[i]);
      CHECK(formula[i] == Approx(table).epsilon(1e-12).margin(1e-300));
    }
  }
}

TEST_CASE("first-order unary gradients (one pass of the row's derivative) equal the differentiable formula", "[pointwise][grad]") {
  // backward() with nothing recording the gradient takes the one-pass kernel; create_graph takes
  // the formula made of ops. Both must agree for every row, on a strided input too.
  Generator gen(8);
#define TINYNN_CASE(Name, name)                                                                                         \
  {                                                                                                                     \
    INFO("op " #name);                                                                                                  \
    const test::OpDomain d = test::unary_domain(UnaryOp::Name);                                                         \
    const Tensor base = (rand({6, 5}, {DType::Float64}, &gen) * (d.hi - d.lo) + d.lo).t();                              \
    const Tensor g = randn({5, 6}, {DType::Float64}, &gen);                                                             \
    Tensor x = base.detach().requires_grad_();                                                                          \
    const Tensor fast = grad({unary(UnaryOp::Name, x, d.params)}, {x}, {g})[0];                                         \
    const Tensor formula = grad({unary(UnaryOp::Name, x, d.params)}, {x}, {g}, std::nullopt, true)[0];                   \
    CHECK(allclose(fast, formula.detach(), 1e-12, 1e-12));                                                              \
  }
  TINYNN_UNARY_OPS(TINYNN_CASE)
#undef TINYNN_CASE
}
