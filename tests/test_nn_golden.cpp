// nn against PyTorch: every loss (value and input gradient), six steps of every optimizer
// configuration in float64, and learning-rate schedules (tests/golden/gen_nn_golden.py).
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <map>

#include "golden_helpers.h"
#include "test_helpers.h"

using namespace tinynn;
using json = nlohmann::json;

namespace {

const json& golden() {
  static const json data = test::read_golden("nn_golden.json");
  return data;
}

void check_close(const std::string& what, const Tensor& ours, const json& theirs, double tol) {
  const Tensor expected = test::tensor_from_json(theirs);
  INFO(what << "\ntinynn: " << ours << "\ntorch:  " << expected);
  REQUIRE(ours.shape() == expected.shape());
  CHECK(allclose(ours, expected, tol, tol));
}

}  // namespace

TEST_CASE("losses match PyTorch: values and gradients", "[nn][losses][golden]") {
  const json& g = golden().at("losses");
  const Tensor cls = test::tensor_from_json(g.at("classes")), probs = test::tensor_from_json(g.at("probs")), w = test::tensor_from_json(g.at("weight"));
  const Tensor y = test::tensor_from_json(g.at("target")), bits = test::tensor_from_json(g.at("bits")), pos_w = test::tensor_from_json(g.at("pos_weight"));
  const Tensor log_target = test::tensor_from_json(g.at("log_target"));
  using nn::Reduction;
  const std::map<std::string, std::function<Tensor(const Tensor&)>> cases = {
      {"mse_mean", [&](const Tensor& a) { return nn::mse_loss(a, y); }},
      {"mse_sum", [&](const Tensor& a) { return nn::mse_loss(a, y, Reduction::Sum); }},
      {"l1_mean", [&](const Tensor& a) { return nn::l1_loss(a, y); }},
      {"huber_0.5", [&](const Tensor& a) { return nn::huber_loss(a, y, 0.5); }},
      {"smooth_l1_0.5", [&](const Tensor& a) { return nn::smooth_l1_loss(a, y, 0.5); }},
      {"ce", [&](const Tensor& a) { return nn::cross_entropy(a, cls); }},
      {"ce_sum", [&](const Tensor& a) { return nn::cross_entropy(a, cls, {Tensor(), 0.0, Reduction::Sum}); }},
      {"ce_weight", [&](const Tensor& a) { return nn::cross_entropy(a, cls, {w}); }},
      {"ce_smooth", [&](const Tensor& a) { return nn::cross_entropy(a, cls, {Tensor(), 0.2}); }},
      {"ce_weight_smooth", [&](const Tensor& a) { return nn::cross_entropy(a, cls, {w, 0.2}); }},
      {"ce_weight_smooth_sum", [&](const Tensor& a) { return nn::cross_entropy(a, cls, {w, 0.2, Reduction::Sum}); }},
      {"ce_probs", [&](const Tensor& a) { return nn::cross_entropy(a, probs); }},
      {"ce_probs_weight_smooth", [&](const Tensor& a) { return nn::cross_entropy(a, probs, {w, 0.1}); }},
      {"nll", [&](const Tensor& a) { return nn::nll_loss(log_softmax(a, 1), cls); }},
      {"nll_weight", [&](const Tensor& a) { return nn::nll_loss(log_softmax(a, 1), cls, w); }},
      {"bce", [&](const Tensor& a) { return nn::binary_cross_entropy(sigmoid(a), bits); }},
      {"bce_logits", [&](const Tensor& a) { return nn::binary_cross_entropy_with_logits(a, bits); }},
      {"bce_logits_pos_weight", [&](const Tensor& a) { return nn::binary_cross_entropy_with_logits(a, bits, pos_w); }},
      {"kl_batchmean", [&](const Tensor& a) { return nn::kl_div(log_softmax(a, 1), probs, nn::KLReduction::BatchMean); }},
      {"kl_sum_log_target",
       [&](const Tensor& a) { return nn::kl_div(log_softmax(a, 1), log_target, nn::KLReduction::Sum, true); }},
  };
  REQUIRE(cases.size() == g.at("cases").size());
  for (const auto& [name, expected] : g.at("cases").items()) {
    INFO("loss " << name);
    REQUIRE(cases.count(name) == 1);
    Tensor a = test::tensor_from_json(g.at("input")).requires_grad_();
    Tensor loss = cases.at(name)(a);
    CHECK(std::abs(loss.item() - expected.at("value").get<double>()) < 1e-10);
    loss.backward();
    check_close(name + " gradient", a.grad(), expected.at("grad"), 1e-10);
  }
}

TEST_CASE("optimizers match PyTorch step by step", "[nn][optim][golden]") {
  const json& g = golden().at("optimizers");
  const Tensor x = test::tensor_from_json(g.at("x")), y = test::tensor_from_json(g.at("y"));
  auto loss_fn = [&](const Tensor& w, const Tensor& b) {
    return mean(square(matmul(w, x) + b.unsqueeze(1) - y)) + sum(pow(w, 3)) * 0.1;
  };
  using Make = std::function<std::unique_ptr<nn::Optimizer>(Tensor&, Tensor&)>;
  auto adam = [](double lr, double b1, double b2, double wd, bool ams, bool decoupled) {
    nn::AdamOptions o;
    o.lr = lr, o.beta1 = b1, o.beta2 = b2, o.weight_decay = wd, o.amsgrad = ams, o.decoupled_weight_decay = decoupled;
    return o;
  };
  const std::map<std::string, Make> makers = {
      {"sgd", [](Tensor& w, Tensor& b) { return std::make_unique<nn::SGD>(std::vector<Tensor>{w, b}, nn::SGDOptions{0.1}); }},
      {"sgd_momentum_dampening",
       [](Tensor& w, Tensor& b) { return std::make_unique<nn::SGD>(std::vector<Tensor>{w, b}, nn::SGDOptions{0.05, 0.9, 0.3}); }},
      {"sgd_nesterov_wd",
       [](Tensor& w, Tensor& b) {
         return std::make_unique<nn::SGD>(std::vector<Tensor>{w, b}, nn::SGDOptions{0.05, 0.8, 0.0, true, 0.01});
       }},
      {"adam", [&](Tensor& w, Tensor& b) { return std::make_unique<nn::Adam>(std::vector<Tensor>{w, b}, adam(0.01, 0.9, 0.999, 0, false, false)); }},
      {"adam_amsgrad_wd",
       [&](Tensor& w, Tensor& b) { return std::make_unique<nn::Adam>(std::vector<Tensor>{w, b}, adam(0.02, 0.8, 0.95, 0.1, true, false)); }},
      {"adamw", [&](Tensor& w, Tensor& b) { return std::make_unique<nn::Adam>(std::vector<Tensor>{w, b}, nn::adamw_options(0.01)); }},
      {"adamw_amsgrad",
       [&](Tensor& w, Tensor& b) { return std::make_unique<nn::Adam>(std::vector<Tensor>{w, b}, adam(0.02, 0.9, 0.999, 0.05, true, true)); }},
      {"rmsprop", [](Tensor& w, Tensor& b) { return std::make_unique<nn::RMSprop>(std::vector<Tensor>{w, b}, nn::RMSpropOptions{0.01}); }},
      {"rmsprop_centered_momentum_wd",
       [](Tensor& w, Tensor& b) {
         return std::make_unique<nn::RMSprop>(std::vector<Tensor>{w, b}, nn::RMSpropOptions{0.01, 0.9, 1e-8, 0.02, 0.5, true});
       }},
      {"adagrad", [](Tensor& w, Tensor& b) { return std::make_unique<nn::Adagrad>(std::vector<Tensor>{w, b}, nn::AdagradOptions{0.1}); }},
      {"adagrad_decay_wd_init",
       [](Tensor& w, Tensor& b) {
         return std::make_unique<nn::Adagrad>(std::vector<Tensor>{w, b}, nn::AdagradOptions{0.1, 0.05, 0.01, 0.2});
       }},
      {"sgd_groups",
       [](Tensor& w, Tensor& b) {
         return std::make_unique<nn::SGD>(std::vector<nn::ParamGroup>{{{w}, 0.1, 0.05}, {{b}, 0.01, 0.0}},
                                          nn::SGDOptions{0.5, 0.9});
       }},
  };
  REQUIRE(makers.size() == g.at("cases").size());
  for (const auto& [name, trajectory] : g.at("cases").items()) {
    INFO("optimizer " << name);
    REQUIRE(makers.count(name) == 1);
    Tensor w = test::tensor_from_json(g.at("w0")).requires_grad_(), b = test::tensor_from_json(g.at("b0")).requires_grad_();
    auto opt = makers.at(name)(w, b);
    for (std::size_t step = 0; step < trajectory.size(); ++step) {
      opt->zero_grad();
      loss_fn(w, b).backward();
      opt->step();
      check_close(name + " w after step " + std::to_string(step + 1), w, trajectory[step].at("w"), 1e-10);
      check_close(name + " b after step " + std::to_string(step + 1), b, trajectory[step].at("b"), 1e-10);
    }
  }
}

TEST_CASE("learning-rate schedules match PyTorch", "[nn][scheduler][golden]") {
  const json& g = golden().at("schedules");
  auto run = [](const std::string& name, auto make, const json& expected, const std::vector<double>* metrics = nullptr) {
    INFO("schedule " << name);
    Tensor p = zeros({1}).requires_grad_();
    nn::SGD opt({p}, {0.1});
    auto sched = make(opt);
    for (std::size_t e = 0; e < expected.size(); ++e) {
      if constexpr (std::is_same_v<decltype(sched), std::unique_ptr<nn::ReduceLROnPlateau>>) sched->step((*metrics)[e]);
      else sched->step();
      INFO("epoch " << e + 1);
      CHECK(std::abs(opt.lr() - expected[e].template get<double>()) < 1e-12);
    }
  };
  run("step", [](nn::Optimizer& o) { return std::make_unique<nn::StepLR>(o, 3, 0.5); }, g.at("step_3_0.5"));
  run("multistep", [](nn::Optimizer& o) { return std::make_unique<nn::MultiStepLR>(o, std::vector<std::int64_t>{2, 5, 9}, 0.3); },
      g.at("multistep_2_5_9_0.3"));
  run("exponential", [](nn::Optimizer& o) { return std::make_unique<nn::ExponentialLR>(o, 0.9); }, g.at("exponential_0.9"));
  run("cosine", [](nn::Optimizer& o) { return std::make_unique<nn::CosineAnnealingLR>(o, 10, 0.01); }, g.at("cosine_10_0.01"));
  run("warmup", [](nn::Optimizer& o) { return std::make_unique<nn::LinearWarmup>(o, 4, 0.25); }, g.at("linear_warmup_4_0.25"));
  const auto metrics = g.at("plateau_metrics").get<std::vector<double>>();
  run("plateau",
      [](nn::Optimizer& o) {
        return std::make_unique<nn::ReduceLROnPlateau>(o, nn::ReduceLROnPlateau::Mode::Min, 0.5, 1, 1e-4, 1);
      },
      g.at("plateau_min_0.5_p1_c1"), &metrics);
}

TEST_CASE("Adam updates a strided (transposed) parameter exactly like a contiguous one", "[nn][optim]") {
  Tensor a = randn({4, 3}, {DType::Float64}).requires_grad_();
  Tensor b = a.detach().t().contiguous().t().requires_grad_();  // same values, column-major strides
  REQUIRE_FALSE(b.is_contiguous());
  nn::Adam oa({a}, nn::adamw_options(0.05, 0.1)), ob({b}, nn::adamw_options(0.05, 0.1));
  for (int step = 0; step < 3; ++step) {
    oa.zero_grad();
    ob.zero_grad();
    sum(pow(a, 3)).backward();
    sum(pow(b, 3)).backward();
    oa.step();
    ob.step();
  }
  CHECK(equal(a.detach(), b.detach().contiguous()));
  CHECK_FALSE(b.is_contiguous());  // updated in place, layout kept
}
