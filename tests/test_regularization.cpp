// L1/L2 penalties per layer and globally, and gradient clipping.
#include <tinynn/tinynn.h>

#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

namespace {
// Linear(2 -> 1) with weight [[1, -2]] and bias [0.5].
std::shared_ptr<nn::Linear> fixed_linear() {
  auto layer = std::make_shared<nn::Linear>(2, 1);
  NoGradGuard no_grad;
  Tensor w = layer->weight(), b = layer->bias();
  w.copy_(tensor({{1.0, -2.0}}));
  b.copy_(tensor({0.5}));
  return layer;
}
}  // namespace

TEST_CASE("penalties: values and gradients by hand, per layer over global", "[nn][regularization]") {
  auto layer = fixed_linear();
  CHECK_FALSE(nn::regularization_penalty(*layer).defined());  // nothing active
  // Global: l1 0.1 on weights, l2 0.5 on biases.
  nn::GlobalPenalty global{{0.1, 0.0}, {0.0, 0.5}};
  Tensor p = nn::regularization_penalty(*layer, global);
  check_values(p, {}, {0.1 * 3 + 0.5 * 0.25});
  p.backward();
  check_values(layer->weight().grad(), {1, 2}, {0.1, -0.1});  // l1: sign(w)
  check_values(layer->bias().grad(), {1}, {0.5});              // l2: 2 * 0.5 * b
  // A per-layer setting replaces the global one for that parameter.
  layer->zero_grad();
  layer->set_penalty("weight", {0.0, 0.2});
  Tensor q = nn::regularization_penalty(*layer, global);
  check_values(q, {}, {0.2 * 5 + 0.5 * 0.25});
  q.backward();
  check_values(layer->weight().grad(), {1, 2}, {0.4, -0.8});  // 2 * 0.2 * w
  TINYNN_REQUIRE_THROWS_CONTAINING(layer->set_penalty("gamma", {0.1, 0}), ValueError, "no parameter named 'gamma'");
  // Penalties of children are found through the model.
  nn::Sequential model({layer, std::make_shared<nn::ReLU>()});
  CHECK(model.named_penalties().count("0.weight") == 1);
  check_values(nn::regularization_penalty(model), {}, {1.0});
}

TEST_CASE("clip_grad_norm scales every gradient by one factor and returns the norm", "[nn][clip]") {
  Tensor a = tensor({1.0, 1.0}).requires_grad_(), b = tensor({1.0}).requires_grad_();
  a.set_grad(tensor({3.0, 0.0}));
  b.set_grad(tensor({4.0}));
  const double total = nn::clip_grad_norm({a, b}, 1.0);
  CHECK(total == Approx(5.0));
  check_values(a.grad(), {2}, {0.6, 0.0}, 1e-5);
  check_values(b.grad(), {1}, {0.8}, 1e-5);
  // Under the limit: untouched.
  CHECK(nn::clip_grad_norm({a, b}, 10.0) == Approx(1.0).epsilon(1e-5));
  check_values(b.grad(), {1}, {0.8}, 1e-5);
  // Other norms.
  a.set_grad(tensor({3.0, -4.0}));
  b.set_grad(tensor({2.0}));
  CHECK(nn::clip_grad_norm({a, b}, 100.0, 1.0) == Approx(9.0));
  // Any p: the p-norm of all gradients as one vector, (3^3 + 4^3 + 2^3)^(1/3).
  CHECK(nn::total_grad_norm({a, b}, 3.0) == Approx(std::cbrt(99.0)));
  CHECK(nn::total_grad_norm({a, b}) == Approx(std::sqrt(29.0)));
  CHECK(nn::clip_grad_norm({a, b}, 2.0, INFINITY) == Approx(4.0));
  check_values(a.grad(), {2}, {1.5, -2.0}, 1e-5);
  // A non-finite norm is reported, not propagated.
  b.set_grad(tensor({NAN}));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::clip_grad_norm({a, b}, 1.0), nn::NonFiniteError, "total gradient norm is nan");
  CHECK(std::isnan(nn::clip_grad_norm({a, b}, 1.0, 2.0, false)));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::clip_grad_norm({a}, 1.0, 3.0), ValueError, "norm_type must be 1, 2 or inf");
}

TEST_CASE("clip_grad_value clamps elements", "[nn][clip]") {
  Tensor a = tensor({1.0, 1.0, 1.0}).requires_grad_();
  a.set_grad(tensor({-3.0, 0.2, 5.0}));
  nn::clip_grad_value({a}, 1.0);
  check_values(a.grad(), {3}, {-1, 0.2, 1});
}
