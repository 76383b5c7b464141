// L1/L2 penalties per layer and globally, gradient clipping, and the order of a training step.
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

TEST_CASE("a training step: loss + penalties -> backward -> clip -> optimizer step", "[nn][regularization]") {
  // One weight w = 1.5, input 2, target 0: data loss (2w)^2 = 9, d/dw = 8w = 12.
  auto layer = std::make_shared<nn::Linear>(1, 1, false);
  {
    NoGradGuard no_grad;
    Tensor w = layer->weight();
    w.copy_(tensor({{1.5}}));
  }
  layer->set_penalty("weight", {0.05, 0.1});  // + 0.05 |w| + 0.1 w^2: d/dw = 0.05 + 0.3
  nn::SGD opt(layer->parameters(), {0.1});
  Tensor data_loss = nn::mse_loss((*layer)(tensor({{2.0}})), tensor({{0.0}}));
  Tensor penalty = nn::regularization_penalty(*layer);
  CHECK(data_loss.item() == Approx(9.0));
  CHECK(penalty.item() == Approx(0.05 * 1.5 + 0.1 * 2.25));
  (data_loss + penalty).backward();
  CHECK(layer->weight().grad().item() == Approx(12.35));
  const double norm = nn::clip_grad_norm(layer->parameters(), 1.0);
  CHECK(norm == Approx(12.35));
  opt.step();
  CHECK(layer->weight().item() == Approx(1.5 - 0.1 * 12.35 / (12.35 + 1e-6)));
}

TEST_CASE("warmup composes with another schedule; schedulers and optimizers check their arguments", "[nn][scheduler]") {
  Tensor p = zeros({1}).requires_grad_();
  nn::SGD opt({p}, {1.0});
  nn::LinearWarmup sched(opt, 2, 0.5, std::make_unique<nn::CosineAnnealingLR>(opt, 4, 0.0));
  CHECK(opt.lr() == Approx(0.5));  // epoch 0 of warmup
  std::vector<double> lrs;
  for (int e = 0; e < 6; ++e) {
    sched.step();
    lrs.push_back(opt.lr());
  }
  // warmup: 0.75; then cosine over 4 epochs from the base: 1, 0.8536, 0.5, 0.1464, 0
  const std::vector<double> expected = {0.75, 1.0, 0.85355339, 0.5, 0.14644661, 0.0};
  for (std::size_t i = 0; i < lrs.size(); ++i) CHECK(lrs[i] == Approx(expected[i]).margin(1e-8));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::StepLR(opt, 0), ValueError, "step_size must be positive");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::SGD({p}, {-0.1}), ValueError, "lr must be non-negative");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::SGD({p}, {0.1, 0.0, 0.0, true}), ValueError, "Nesterov momentum needs momentum > 0");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::SGD({tensor({1.0})}, {0.1}), ValueError, "every parameter must require grad");
  nn::AdamOptions bad;
  bad.beta1 = 1.0;
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::Adam({p}, bad), ValueError, "betas must be in [0, 1)");
  // Groups for every optimizer family.
  Tensor q = zeros({1}).requires_grad_();
  nn::RMSprop rms(std::vector<nn::ParamGroup>{{{p}, 0.1, 0.0}, {{q}, 0.2, 0.0}}, {});
  nn::Adagrad ada(std::vector<nn::ParamGroup>{{{p}, 0.1, 0.0}, {{q}, 0.3, 0.0}}, {});
  CHECK(rms.lr(1) == 0.2);
  CHECK(ada.param_groups().size() == 2);
}

TEST_CASE("Adam updates all parameters of a step in one batched call, bit for bit like one at a time", "[nn][optim]") {
  // Parameters of two dtypes in two groups with different learning rates and weight decays (three
  // batches): the batched step must equal separate optimizers, one per parameter.
  Generator gen(13);
  const std::vector<Tensor> init = {randn({40, 30}, {}, &gen), randn({30}, {}, &gen), randn({7}, {DType::Float64}, &gen),
                                    randn({5, 6}, {}, &gen)};
  auto make = [&] {
    std::vector<Tensor> p;
    for (const Tensor& t : init) p.push_back(t.clone().requires_grad_());
    return p;
  };
  std::vector<Tensor> together = make(), alone = make();
  nn::Adam batched({{{together[0], together[1], together[2]}, 1e-2, 0.1}, {{together[3]}, 3e-2, 0.0}},
                   nn::adamw_options(1e-3, 0.0));
  std::vector<std::unique_ptr<nn::Adam>> singles;
  for (std::size_t i = 0; i < alone.size(); ++i)
    singles.push_back(std::make_unique<nn::Adam>(std::vector<nn::ParamGroup>{{{alone[i]}, i < 3 ? 1e-2 : 3e-2, i < 3 ? 0.1 : 0.0}},
                                                 nn::adamw_options(1e-3, 0.0)));
  for (int step = 0; step < 5; ++step) {
    auto loss_of = [&](const std::vector<Tensor>& p) {
      return sum(square(matmul(p[0], p[1].unsqueeze(1)))) + sum(sin(p[2])).to(DType::Float32) + sum(p[3].t() * 2.0);
    };
    loss_of(together).backward();
    loss_of(alone).backward();
    batched.step();
    for (auto& s : singles) s->step();
    batched.zero_grad();
    for (auto& s : singles) s->zero_grad();
  }
  for (std::size_t i = 0; i < init.size(); ++i) {
    INFO("parameter " << i);
    CHECK(equal(together[i], alone[i]));
    CHECK_FALSE(equal(together[i], init[i]));
  }
}
