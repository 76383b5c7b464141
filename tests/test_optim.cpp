// Optimizers: argument checks, parameter groups, the batched step, and every fused rule against
// its tensor-expression form (the oracle, kept here).
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

namespace {

// The update rules as tensor expressions, as tinynn computed them before the fused kernels (and
// as PyTorch writes them): the oracle for core/optimizer_math.h. State lives in `s` by name.
struct ExpressionRule {
  std::string rule;
  double lr = 0.01, wd = 0.0;
  double momentum = 0.0, dampening = 0.0, alpha = 0.99, eps = 1e-8, lr_decay = 0.0, initial = 0.0;
  double beta1 = 0.9, beta2 = 0.999;
  bool nesterov = false, centered = false, decoupled = false, amsgrad = false;

  void step(Tensor& p, const Tensor& grad, std::map<std::string, Tensor>& s, int t) const {
    NoGradGuard no_grad;
    Tensor g = grad;
    if (rule == "sgd") {
      Tensor d = wd != 0 ? g + p * wd : g;
      if (momentum != 0) {
        s["m"] = s.count("m") ? s["m"] * momentum + d * (1.0 - dampening) : d.clone();
        d = nesterov ? d + s["m"] * momentum : s["m"];
      }
      p.copy_(p - d * lr);
    } else if (rule == "rmsprop") {
      if (wd != 0) g = g + p * wd;
      if (!s.count("sq")) s["sq"] = zeros_like(p), s["ga"] = zeros_like(p), s["buf"] = zeros_like(p);
      s["sq"] = s["sq"] * alpha + g * g * (1.0 - alpha);
      Tensor avg;
      if (centered) {
        s["ga"] = s["ga"] * alpha + g * (1.0 - alpha);
        avg = sqrt(s["sq"] - s["ga"] * s["ga"]) + eps;
      } else {
        avg = sqrt(s["sq"]) + eps;
      }
      if (momentum > 0) {
        s["buf"] = s["buf"] * momentum + g / avg;
        p.copy_(p - s["buf"] * lr);
      } else {
        p.copy_(p - g / avg * lr);
      }
    } else if (rule == "adagrad") {
      if (wd != 0) g = g + p * wd;
      const double clr = lr / (1.0 + (t - 1.0) * lr_decay);
      if (!s.count("sum")) s["sum"] = full_like(p, initial);
      s["sum"] = s["sum"] + g * g;
      p.copy_(p - g / (sqrt(s["sum"]) + eps) * clr);
    } else {  // adam
      if (wd != 0) {
        if (decoupled) p.copy_(p * (1.0 - lr * wd));
        else g = g + p * wd;
      }
      if (!s.count("m")) s["m"] = zeros_like(p), s["v"] = zeros_like(p), s["vmax"] = zeros_like(p);
      s["m"] = s["m"] * beta1 + g * (1.0 - beta1);
      s["v"] = s["v"] * beta2 + g * g * (1.0 - beta2);
      const double bias1 = 1.0 - std::pow(beta1, t), bias2_sqrt = std::sqrt(1.0 - std::pow(beta2, t));
      Tensor second = s["v"];
      if (amsgrad) {
        s["vmax"] = maximum(s["vmax"], s["v"]);
        second = s["vmax"];
      }
      p.copy_(p - s["m"] / (sqrt(second) / bias2_sqrt + eps) * (lr / bias1));
    }
  }

  std::unique_ptr<nn::Optimizer> fused(std::vector<Tensor> params) const {
    if (rule == "sgd") return std::make_unique<nn::SGD>(std::move(params), nn::SGDOptions{lr, momentum, dampening, nesterov, wd});
    if (rule == "rmsprop")
      return std::make_unique<nn::RMSprop>(std::move(params), nn::RMSpropOptions{lr, alpha, eps, wd, momentum, centered});
    if (rule == "adagrad") return std::make_unique<nn::Adagrad>(std::move(params), nn::AdagradOptions{lr, lr_decay, wd, initial, eps});
    return std::make_unique<nn::Adam>(std::move(params), nn::AdamOptions{lr, beta1, beta2, eps, wd, amsgrad, decoupled});
  }
};

}  // namespace

TEST_CASE("every optimizer's fused step equals its tensor expressions, bit for bit", "[nn][optim]") {
  std::vector<ExpressionRule> rules;
  for (const double wd : {0.0, 0.05}) {
    rules.push_back({"sgd", 0.05, wd});
    rules.push_back({"sgd", 0.05, wd, 0.9});
    rules.push_back({"sgd", 0.05, wd, 0.9, 0.3});
    ExpressionRule nesterov{"sgd", 0.05, wd, 0.8};
    nesterov.nesterov = true;
    rules.push_back(nesterov);
    rules.push_back({"rmsprop", 0.01, wd});
    ExpressionRule centered{"rmsprop", 0.01, wd, 0.5};
    centered.centered = true;
    rules.push_back(centered);
    rules.push_back({"rmsprop", 0.01, wd, 0.7, 0.0, 0.9});
    ExpressionRule adagrad{"adagrad", 0.1, wd};
    adagrad.eps = 1e-10, adagrad.lr_decay = 0.01, adagrad.initial = 0.1;
    rules.push_back(adagrad);
    for (const bool decoupled : {false, true})
      for (const bool amsgrad : {false, true}) {
        ExpressionRule adam{"adam", 1e-2, wd};
        adam.decoupled = decoupled, adam.amsgrad = amsgrad;
        rules.push_back(adam);
      }
  }
  Generator gen(21);
  for (const DType dtype : {DType::Float32, DType::Float64})
    for (const ExpressionRule& r : rules) {
      INFO(r.rule << " wd " << r.wd << " momentum " << r.momentum << " dampening " << r.dampening << " nesterov " << r.nesterov
                  << " centered " << r.centered << " decoupled " << r.decoupled << " amsgrad " << r.amsgrad << " "
                  << dtype_name(dtype));
      // Two parameters (one fused batch) and a strided one (its own path), 6 steps of random gradients.
      const std::vector<Tensor> init = {randn({33, 5}, {dtype}, &gen), randn({7}, {dtype}, &gen), randn({4, 6}, {dtype}, &gen)};
      std::vector<Tensor> fused_params, expr_params;
      for (const Tensor& t : init) fused_params.push_back(t.clone().requires_grad_());
      fused_params[2] = init[2].t().contiguous().t().requires_grad_();  // strided: [4, 6] over a [6, 4] buffer
      for (const Tensor& t : init) expr_params.push_back(t.clone());
      auto optimizer = r.fused(fused_params);
      std::vector<std::map<std::string, Tensor>> state(init.size());
      for (int t = 1; t <= 6; ++t) {
        for (std::size_t i = 0; i < init.size(); ++i) {
          const Tensor g = randn(init[i].shape(), {dtype}, &gen);
          fused_params[i].set_grad(g.clone());
          r.step(expr_params[i], g, state[i], t);
        }
        optimizer->step();
      }
      for (std::size_t i = 0; i < init.size(); ++i) {
        INFO("parameter " << i);
        CHECK(equal(fused_params[i].detach().contiguous(), expr_params[i]));
        CHECK_FALSE(equal(expr_params[i], init[i]));
      }
    }
}
