// Optimizers: argument checks, parameter groups, and the batched Adam step.
#include "test_helpers.h"

using namespace tinynn;

TEST_CASE("optimizers check their arguments and take parameter groups", "[nn][optim]") {
  Tensor p = zeros({1}).requires_grad_();
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
