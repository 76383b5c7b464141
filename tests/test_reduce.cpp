// Reductions over axes with keepdim, arg-reductions, statistics, scans and softmax.
#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

TEST_CASE("sum, mean, prod over any set of axes with keepdim", "[reduce]") {
  Tensor a = arange(0, 24, 1, {DType::Float32}).reshape({2, 3, 4});
  check_values(sum(a), {}, {276});
  check_values(sum(a, {0}), {3, 4}, {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34});
  check_values(sum(a, {1, 2}), {2}, {66, 210});
  check_values(sum(a, {-1}, true), {2, 3, 1}, {6, 22, 38, 54, 70, 86});
  check_values(sum(a, {0, 2}, true), {1, 3, 1}, {60, 92, 124});
  check_values(mean(a, {2}), {2, 3}, {1.5, 5.5, 9.5, 13.5, 17.5, 21.5});
  check_values(prod(tensor({{1.0, 2.0}, {3.0, 4.0}}), {1}), {2}, {2, 12});
  check_values(a.permute({2, 1, 0}).sum({2}), {4, 3}, {12, 20, 28, 14, 22, 30, 16, 24, 32, 18, 26, 34});  // strided input
}

TEST_CASE("reductions of integers and booleans, and of empty tensors", "[reduce]") {
  CHECK(sum(tensor({1, 2, 3})).dtype() == DType::Int64);
  CHECK(sum(tensor({1, 2, 3}) > 1).item<std::int64_t>() == 2);
  CHECK(mean(tensor({1, 2})).dtype() == DType::Float32);
  check_values(sum(zeros({0, 3}), {0}), {3}, {0, 0, 0});
  check_values(prod(zeros({2, 0}), {1}), {2}, {1, 1});
  CHECK(std::isnan(mean(zeros({0})).item()));
  TINYNN_REQUIRE_THROWS_CONTAINING(amax(zeros({0, 3})), ShapeError, "amax: cannot reduce an empty axis");
}

// A reduction to a scalar past the parallel threshold (2^18 elements) has a 0-d output plan; it
// once indexed that plan's shape at -1 (caught by UBSan).
TEST_CASE("reductions of every element past the parallel threshold", "[reduce]") {
  const std::int64_t n = 300007;
  CHECK(sum(ones({3, n})).item() == 3.0 * static_cast<double>(n));
  CHECK(sum_of_squares(full({n}, 2.0)).item() == 4.0 * static_cast<double>(n));
  CHECK(sum(arange(0, n, 1, {DType::Int64}) >= n - 7).item<std::int64_t>() == 7);
  CHECK(amax(arange(0, n, 1, {DType::Float64})).item() == static_cast<double>(n - 1));
}

TEST_CASE("a whole-tensor sum is split into fixed blocks: exact, and the same for any thread count", "[reduce][threads]") {
  // 0 + 1 + ... + (n-1) in float64: exact (below 2^53), whichever way the blocks are cut.
  const std::int64_t n = (1 << 18) + 12345;  // several blocks and a partial last one
  const Tensor x = arange(0, n, 1, {DType::Float64});
  const double expected = static_cast<double>(n) * static_cast<double>(n - 1) / 2.0;
  CHECK(sum(x).item() == expected);
  CHECK(sum_of_squares(x.narrow(0, 0, 200000)).item() == 199999.0 * 200000.0 * 399999.0 / 6.0);
  // Float32 values whose sum rounds differently in different orders: one thread and two agree.
  Generator gen(5);
  const Tensor r = randn({3, 100003}, {}, &gen);
  const int threads = num_threads();
  set_num_threads(1);
  const float one = sum(r).item<float>(), one_sq = sum_of_squares(r).item<float>();
  set_num_threads(2);
  const float two = sum(r).item<float>(), two_sq = sum_of_squares(r).item<float>();
  set_num_threads(threads);
  CHECK(one == two);
  CHECK(one_sq == two_sq);
  CHECK(one_sq == Approx(3.0 * 100003).epsilon(0.02));
}

TEST_CASE("max, min, argmax, argmin", "[reduce]") {
  Tensor a = tensor({{3.0, 7.0, 7.0}, {-1.0, -5.0, 2.0}});
  check_values(amax(a), {}, {7});
  check_values(amax(a, {1}), {2}, {7, 2});
  check_values(amin(a, {0}), {3}, {-1, -5, 2});
  check_values(a.max({0}, true), {1, 3}, {3, 7, 7});
  check_values(argmax(a, 1), {2}, {1, 2});  // the first of tied maxima, as PyTorch
  check_values(argmin(a, 0), {3}, {1, 1, 1});
  check_values(argmax(a), {}, {1});  // into the flattened tensor
  check_values(argmin(a), {}, {4});
  check_values(argmax(a, 1, true), {2, 1}, {1, 2});
  CHECK(argmax(a).dtype() == DType::Int64);
  Tensor n = tensor({1.0, NAN, 3.0});
  CHECK(std::isnan(amax(n).item()));  // NaN propagates
  CHECK(argmax(n).item<std::int64_t>() == 1);
  TINYNN_REQUIRE_THROWS_CONTAINING(sum(a, {0, 0}), ValueError, "axis 0 appears twice");
  TINYNN_REQUIRE_THROWS_CONTAINING(sum(a, {2}), IndexError, "sum: axis 2 is out of range");
}

TEST_CASE("var, std, logsumexp, norm", "[reduce]") {
  Tensor x = tensor({2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0});
  check_values(var(x), {}, {32.0 / 7.0});
  check_values(var(x, {}, false, 0), {}, {4.0});
  check_values(tinynn::std(x, {}, false, 0), {}, {2.0});
  Tensor m = tensor({{1.0, 2.0}, {3.0, 5.0}});
  check_values(var(m, {1}), {2}, {0.5, 2.0});
  check_values(logsumexp(tensor({0.0, 0.0}), {0}), {}, {std::log(2.0)});
  check_values(logsumexp(tensor({1000.0, 1000.0}), {0}), {}, {1000 + std::log(2.0)}, 1e-6);  // stable
  check_values(logsumexp(tensor({-INFINITY, -INFINITY}), {0}), {}, {-INFINITY});
  check_values(logsumexp(m, {1}, true), {2, 1}, {2 + std::log(1 + std::exp(-1.0)), 5 + std::log(1 + std::exp(-2.0))});
  Tensor v = tensor({1.0, -2.0, 3.0});
  check_values(norm(v, 1), {}, {6});  // the primer's L1 example
  check_values(norm(v), {}, {std::sqrt(14.0)});
  check_values(norm(v, INFINITY), {}, {3});
  check_values(norm(v, -INFINITY), {}, {1});
  check_values(norm(tensor({0.0, 2.0, 0.0, -1.0}), 0), {}, {2});
  check_values(norm(v, 3), {}, {std::cbrt(36.0)});
  check_values(norm(m, 2, {0}), {2}, {std::sqrt(10.0), std::sqrt(29.0)});
  TINYNN_REQUIRE_THROWS_CONTAINING(norm(v, -1), ValueError, "order -1");
}

TEST_CASE("cumsum and cumprod along an axis", "[reduce][scan]") {
  Tensor a = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  check_values(cumsum(a, 1), {2, 3}, {1, 3, 6, 4, 9, 15});
  check_values(cumsum(a, 0), {2, 3}, {1, 2, 3, 5, 7, 9});
  check_values(cumprod(a, -1), {2, 3}, {1, 2, 6, 4, 20, 120});
  check_values(cumsum(a.t(), 1), {3, 2}, {1, 5, 2, 7, 3, 9});  // strided input
  Tensor i = cumsum(tensor({1, 2, 3}), 0);
  CHECK(i.dtype() == DType::Int64);
  check_values(i, {3}, {1, 3, 6});
  CHECK(cumsum(zeros({0}), 0).numel() == 0);
}

TEST_CASE("softmax and log_softmax along an axis", "[reduce][softmax]") {
  Tensor x = tensor({{1.0, 2.0, 3.0}, {1000.0, 1000.0, 1000.0}});
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0), s = e1 + e2 + e3;
  check_values(softmax(x, 1), {2, 3}, {e1 / s, e2 / s, e3 / s, 1.0 / 3, 1.0 / 3, 1.0 / 3});
  check_values(log_softmax(x, -1), {2, 3}, {1 - std::log(s), 2 - std::log(s), 3 - std::log(s), -std::log(3.0), -std::log(3.0), -std::log(3.0)}, 1e-5);
  check_values(sum(softmax(x, 0), {0}), {3}, {1, 1, 1});
}

TEST_CASE("sum_of_squares equals sum(square(x)) over any axes", "[reduce]") {
  Tensor a = arange(-5, 7, 1, {DType::Float32}).reshape({3, 4});
  check_values(sum_of_squares(a), {}, {146});
  check_values(sum_of_squares(a, {0}), {4}, {25 + 1 + 9, 16 + 0 + 16, 9 + 1 + 25, 4 + 4 + 36});
  check_values(sum_of_squares(a.t(), {1}, true), {4, 1}, {35, 32, 35, 44});  // strided input
  check_values(sum_of_squares(tensor({1, 2, 3})), {}, {14});                 // integers promote
  check_values(sum_of_squares(zeros({0, 2}), {0}), {2}, {0, 0});
  Generator gen(3);
  Tensor big = randn({1000, 37}, {DType::Float64}, &gen);
  CHECK(sum_of_squares(big).item() == Approx(sum(square(big)).item()).epsilon(1e-12));
}

TEST_CASE("softmax_cross_entropy: hand values, and the fused kernels match the composite", "[reduce][softmax]") {
  // Row [1, 2, 3], target 2: -log(e^3 / (e + e^2 + e^3)); with smoothing 0.3 the mean of -log p
  // over the classes enters with weight 0.3.
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0), lse = std::log(e1 + e2 + e3);
  Tensor x = tensor({{1.0, 2.0, 3.0}, {1000.0, 1000.0, 1000.0}});
  check_values(softmax_cross_entropy(x, tensor({2, 0})), {2}, {lse - 3, std::log(3.0)}, 1e-5);
  const double smooth = 0.7 * (lse - 3) + 0.3 * ((lse - 1) + (lse - 2) + (lse - 3)) / 3;
  check_values(softmax_cross_entropy(x, tensor({2, 0}), 0.3), {2}, {smooth, std::log(3.0)}, 1e-5);

  Generator gen(11);
  for (DType t : {DType::Float32, DType::Float64})
    for (double eps : {0.0, 0.05})
      for (auto [rows, classes] : {std::pair<std::int64_t, std::int64_t>{9, 1}, {9, 10}, {9, 70}, {1500, 10}}) {
        // 1500 x 10: past the size where the rows are split between threads.
        INFO(dtype_name(t) << " eps " << eps << " rows " << rows << " classes " << classes);
        Tensor logits = (randn({rows, classes}, {DType::Float64}, &gen) * 4.0).to(t).requires_grad_();
        Tensor target = randint(0, classes, {rows}, {DType::Int64}, &gen);
        Tensor g = rand({rows}, {t}, &gen);
        Tensor fused = softmax_cross_entropy(logits, target, eps);
        Tensor fused_grad = grad({fused}, {logits}, {g})[0];
        Tensor log_p = log_softmax(logits, 1);
        Tensor composite = -gather(log_p, 1, target.unsqueeze(1)).squeeze(1) * (1.0 - eps) -
                           sum(log_p, {1}) * (eps / static_cast<double>(classes));
        Tensor composite_grad = grad({composite}, {logits}, {g})[0];
        const double tol = t == DType::Float32 ? 1e-5 : 1e-12;
        CHECK(allclose(fused, composite, tol, tol));
        CHECK(allclose(fused_grad, composite_grad, tol, tol));
      }
}

TEST_CASE("softmax_cross_entropy: bad input is an error, NaN logits give NaN", "[reduce][softmax]") {
  Tensor x = zeros({2, 3});
  TINYNN_REQUIRE_THROWS_CONTAINING(softmax_cross_entropy(x, tensor({0, 3})), IndexError,
                                   "class targets must lie in [0, 3), found 3");
  TINYNN_REQUIRE_THROWS_CONTAINING(softmax_cross_entropy(x, tensor({0, -1})), IndexError, "found -1");
  TINYNN_REQUIRE_THROWS_CONTAINING(softmax_cross_entropy(x, tensor({0})), ShapeError, "class targets must be int64 [2]");
  TINYNN_REQUIRE_THROWS_CONTAINING(softmax_cross_entropy(x, tensor({0.0, 1.0})), ShapeError, "int64");
  TINYNN_REQUIRE_THROWS_CONTAINING(softmax_cross_entropy(zeros({3}), tensor({0})), ShapeError, "expected floating logits [N, C]");
  TINYNN_REQUIRE_THROWS_CONTAINING(softmax_cross_entropy(x, tensor({0, 1}), 1.0), ValueError, "label_smoothing");
  Tensor nan_row = tensor({{0.0, NAN, 1.0}, {0.0, 1.0, 2.0}});
  Tensor loss = softmax_cross_entropy(nan_row, tensor({0, 2}));
  CHECK(std::isnan(loss.at({0})));
  CHECK(std::isfinite(loss.at({1})));
  CHECK(softmax_cross_entropy(zeros({0, 3}), zeros({0}, {DType::Int64})).shape() == Shape{0});
}
