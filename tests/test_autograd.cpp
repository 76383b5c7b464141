// Autograd behaviour: leaves and accumulation, errors, guards, retain/create_graph, grad(),
// higher-order gradients, deep graphs, and memory release.
#include <tinynn/core/detail/autograd_hooks.h>

#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

TEST_CASE("leaves, requires_grad and is_leaf", "[autograd]") {
  Tensor x = tensor({1.0, 2.0});
  CHECK_FALSE(x.requires_grad());
  CHECK(x.is_leaf());
  x.requires_grad_();
  CHECK(x.requires_grad());
  Tensor y = x * 2.0;
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK(y.grad_fn_name() == "MulBackward");
  CHECK_FALSE(x.detach().requires_grad());
  CHECK(x.detach().shares_storage_with(x));
  CHECK_FALSE((x > 1.0).requires_grad());  // masks never require grad
  TINYNN_REQUIRE_THROWS_CONTAINING(tensor({1, 2}).requires_grad_(), DTypeError, "only floating-point tensors");
  TINYNN_REQUIRE_THROWS_CONTAINING(y.requires_grad_(), ValueError, "output of MulBackward");
}

TEST_CASE("backward computes gradients and accumulates them", "[autograd]") {
  Tensor x = tensor({1.0, 2.0, 3.0}).requires_grad_();
  Tensor y = (x * x + x).sum();  // x used twice: d/dx = 2x + 1
  y.backward();
  check_values(x.grad(), {3}, {3, 5, 7});
  (x * 3.0).sum().backward();  // a second graph adds into grad
  check_values(x.grad(), {3}, {6, 8, 10});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  // Broadcasting: the gradient of a broadcast input is summed back to its shape.
  Tensor a = ones({2, 3}).requires_grad_(), b = tensor({1.0, 2.0, 3.0}).requires_grad_();
  (a * b).sum().backward();
  check_values(b.grad(), {3}, {2, 2, 2});
  check_values(a.grad(), {2, 3}, {1, 2, 3, 1, 2, 3});
}

TEST_CASE("backward of a non-scalar takes a gradient of the same shape", "[autograd]") {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor y = x * x;
  TINYNN_REQUIRE_THROWS_CONTAINING(y.backward(), ShapeError, "a gradient is needed for a non-scalar output of shape [2]");
  TINYNN_REQUIRE_THROWS_CONTAINING(y.backward(ones({3})), ShapeError, "gradient of shape [3] does not match the output's shape [2]");
  y.backward(tensor({1.0, 10.0}));
  check_values(x.grad(), {2}, {2, 40});
  TINYNN_REQUIRE_THROWS_CONTAINING(tensor({1.0}).backward(), Error, "does not require grad");
}

TEST_CASE("NoGradGuard records nothing; EnableGradGuard re-enables", "[autograd]") {
  Tensor x = tensor({1.0}).requires_grad_();
  {
    NoGradGuard no_grad;
    CHECK_FALSE(is_grad_enabled());
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    {
      EnableGradGuard enable;
      CHECK((x * 2.0).requires_grad());
    }
    CHECK_FALSE(is_grad_enabled());
  }
  CHECK(is_grad_enabled());
}

TEST_CASE("saved tensors are freed by backward unless retain_graph", "[autograd]") {
  Tensor x = tensor({2.0}).requires_grad_();
  Tensor y = (x.exp() * x).sum();
  y.backward();
  TINYNN_REQUIRE_THROWS_CONTAINING(y.backward(), Error, "retain_graph=true");
  Tensor z = (x * x).sum();
  x.zero_grad();
  z.backward(Tensor(), /*retain_graph=*/true);
  z.backward();
  check_values(x.grad(), {1}, {8});
}

TEST_CASE("grad() returns gradients without touching .grad", "[autograd]") {
  Tensor x = tensor({1.0, 2.0}).requires_grad_(), w = tensor({3.0, 4.0}).requires_grad_();
  Tensor unused = tensor({0.0}).requires_grad_();
  Tensor y = (x * w).sum();
  auto g = grad({y}, {x, w}, {}, true);
  check_values(g[0], {2}, {3, 4});
  check_values(g[1], {2}, {1, 2});
  CHECK_FALSE(x.grad().defined());
  TINYNN_REQUIRE_THROWS_CONTAINING(grad({y}, {unused}, {}, true), ValueError, "was not used");
  auto g2 = grad({y}, {x, unused}, {}, true, false, /*allow_unused=*/true);
  CHECK_FALSE(g2[1].defined());
  TINYNN_REQUIRE_THROWS_CONTAINING(grad({y}, {tensor({1.0})}), ValueError, "does not require grad");
}

TEST_CASE("higher-order gradients through create_graph", "[autograd][higher-order]") {
  Tensor x = tensor({0.5, 2.0}, DType::Float64).requires_grad_();
  Tensor y = (x * x * x).sum();
  Tensor dy = grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];  // 3x^2
  check_values(dy, {2}, {0.75, 12});
  CHECK(dy.requires_grad());
  Tensor d2y = grad({dy.sum()}, {x})[0];  // 6x
  check_values(d2y, {2}, {3, 12});
  // Hessian-vector product of f(x) = sum(exp(x) * sin(x)): H = diag(2 e^x cos x).
  Tensor v = tensor({1.0, -1.0}, DType::Float64);
  Tensor f = (exp(x) * sin(x)).sum();
  Tensor gf = grad({f}, {x}, {}, std::nullopt, true)[0];
  Tensor hv = grad({(gf * v).sum()}, {x})[0];
  check_values(hv, {2}, {2 * std::exp(0.5) * std::cos(0.5), -2 * std::exp(2.0) * std::cos(2.0)}, 1e-12);
  // Third order of tanh through the recomputed output: d3/dx3 tanh = -2 sech^2 (1 - 3 tanh^2)... checked numerically.
  Tensor t = tensor({0.3}, DType::Float64).requires_grad_();
  Tensor g1 = grad({tanh(t).sum()}, {t}, {}, std::nullopt, true)[0];
  Tensor g2 = grad({g1.sum()}, {t}, {}, std::nullopt, true)[0];
  Tensor g3 = grad({g2.sum()}, {t})[0];
  const double th = std::tanh(0.3), s2 = 1 - th * th;
  check_values(g3, {1}, {-2 * s2 * (s2 - 2 * th * th)}, 1e-10);
  // backward(create_graph) leaves a differentiable grad in the leaf.
  Tensor z = tensor({3.0}, DType::Float64).requires_grad_();
  (z * z * z).sum().backward(Tensor(), false, true);
  Tensor zg = z.grad();
  CHECK(zg.requires_grad());
  check_values(grad({zg.sum()}, {z})[0], {1}, {18});
  z.zero_grad();  // breaks the grad -> graph -> z cycle that create_graph makes
}

TEST_CASE("max ties share the gradient like PyTorch", "[autograd]") {
  Tensor x = tensor({1.0, 3.0, 3.0}).requires_grad_();
  amax(x).backward();
  check_values(x.grad(), {3}, {0, 0.5, 0.5});
  Tensor a = tensor({1.0, 2.0}).requires_grad_(), b = tensor({1.0, 1.0}).requires_grad_();
  maximum(a, b).sum().backward();
  check_values(a.grad(), {2}, {0.5, 1});
  check_values(b.grad(), {2}, {0.5, 0});
}

TEST_CASE("a chain of 100,000 ops runs backward and frees without overflowing the stack", "[autograd][deep]") {
  Tensor x = tensor({1.0}, DType::Float64).requires_grad_();
  const auto nodes_before = detail::live_node_count();
  {
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y * 1.00001;
    CHECK(detail::live_node_count() - nodes_before >= 100000);
    y.sum().backward();
  }
  check_values(x.grad(), {1}, {std::pow(1.00001, 100000)}, 1e-9);
  CHECK(detail::live_node_count() <= nodes_before + 1);  // at most x's accumulator remains
  // The same chain dropped without running backward.
  {
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1.0;
  }
  CHECK(detail::live_node_count() <= nodes_before + 1);
}

TEST_CASE("graphs are released: tensor and node counts return to where they were", "[autograd][memory]") {
  Tensor w = randn({8, 8}, {DType::Float64}).requires_grad_();
  Tensor x = randn({4, 8}, {DType::Float64});
  const auto tensors_before = detail::live_tensor_count();
  const auto nodes_before = detail::live_node_count();
  {
    Tensor loss = (relu(matmul(x, w)) * 2.0).sum();
    const auto tensors_with_graph = detail::live_tensor_count();
    loss.backward();
    // Backward frees the saved intermediates while `loss` is still alive.
    CHECK(detail::live_tensor_count() < tensors_with_graph);
  }
  w.zero_grad();
  CHECK(detail::live_tensor_count() == tensors_before);
  CHECK(detail::live_node_count() <= nodes_before + 1);
}

TEST_CASE("in-place writes: refused under grad, and detected in saved tensors", "[autograd][inplace]") {
  Tensor w = tensor({1.0, 2.0}).requires_grad_();
  TINYNN_REQUIRE_THROWS_CONTAINING(w.copy_(zeros({2})), ValueError, "wrap the update in a NoGradGuard");
  {
    NoGradGuard no_grad;
    w.copy_(tensor({3.0, 4.0}));  // an optimizer-style update
  }
  check_values(w, {2}, {3, 4});
  Tensor x = tensor({1.0, 2.0});
  Tensor y = (w * x).sum();  // saves x
  x.copy_(tensor(5.0));      // broadcast write into the saved tensor
  check_values(x, {2}, {5, 5});
  TINYNN_REQUIRE_THROWS_CONTAINING(y.backward(), Error, "was modified in place after it was saved");
  TINYNN_REQUIRE_THROWS_CONTAINING(x.copy_(ones({3})), ShapeError, "copy_: cannot broadcast [2] with [3]");
  TINYNN_REQUIRE_THROWS_CONTAINING(x.copy_(ones({2, 2})), ShapeError, "source of shape [2, 2] does not broadcast to [2]");
}

TEST_CASE("grad() runs only the part of the graph between the outputs and the inputs asked for", "[autograd]") {
  // h = exp(x); y = sum(h * h). The gradient with respect to h needs nothing of exp's node: it is
  // not run, so its saved tensors are still there for a backward through it afterwards.
  const Tensor x = tensor({0.5, -1.0}).requires_grad_();
  const Tensor h = exp(x);
  const Tensor gh = grad({sum(h * h)}, {h})[0];
  test::check_values(gh, {2}, {2 * std::exp(0.5), 2 * std::exp(-1.0)});
  h.backward(ones({2}));  // would throw "already run" had grad() gone through ExpBackward
  test::check_values(x.grad(), {2}, {std::exp(0.5), std::exp(-1.0)});
}
