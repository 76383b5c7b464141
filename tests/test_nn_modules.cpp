// Modules and layers: parameters, modes, state dicts, summaries, initializers, normalization.
#include <tinynn/core/detail/autograd_hooks.h>
#include <tinynn/tinynn.h>

#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

namespace {
std::shared_ptr<nn::Sequential> small_mlp(Generator* gen) {
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_shared<nn::Linear>(4, 3, true, gen)).add(std::make_shared<nn::ReLU>());
  model->add(std::make_shared<nn::Linear>(3, 2, true, gen));
  return model;
}
}  // namespace

TEST_CASE("Linear computes x W^T + b and checks its input", "[nn][modules]") {
  nn::Linear layer(3, 2);
  {
    NoGradGuard no_grad;
    Tensor w = layer.weight(), b = layer.bias();
    w.copy_(tensor({{1.0, 2.0, 3.0}, {0.0, -1.0, 1.0}}));
    b.copy_(tensor({0.5, -0.5}));
  }
  check_values(layer(tensor({{1.0, 1.0, 1.0}, {2.0, 0.0, -1.0}})), {2, 2}, {6.5, -0.5, -0.5, -1.5});
  CHECK(layer.weight().shape() == Shape{2, 3});
  CHECK(layer.parameter_count() == 8);
  TINYNN_REQUIRE_THROWS_CONTAINING(layer(zeros({4, 5})), ShapeError, "Linear(3 -> 2): input of shape [4, 5] has 5 features, expected 3");
  nn::Linear no_bias(3, 2, false);
  CHECK_FALSE(no_bias.bias().defined());
  CHECK(no_bias.named_parameters().size() == 1);
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::Linear(0, 2), ValueError, "sizes must be positive");
}

TEST_CASE("default Linear init follows PyTorch's bounds and the seed", "[nn][init]") {
  Generator g1(3), g2(3);
  nn::Linear a(100, 50, true, &g1), b(100, 50, true, &g2);
  CHECK(equal(a.weight().detach(), b.weight().detach()));
  CHECK(amax(abs(a.weight())).item() <= 0.1);  // 1 / sqrt(100)
  CHECK(amax(abs(a.weight())).item() > 0.09);
  CHECK(std::abs(mean(a.weight()).item()) < 0.005);
}

TEST_CASE("initializers: fans, gains, bounds and moments", "[nn][init]") {
  Generator gen(4);
  Tensor w = empty({200, 300});
  CHECK(nn::init::fan_in_and_out(w) == std::pair<std::int64_t, std::int64_t>{300, 200});
  CHECK(nn::init::calculate_gain(nn::init::Nonlinearity::ReLU) == Approx(std::sqrt(2.0)));
  CHECK(nn::init::calculate_gain(nn::init::Nonlinearity::Tanh) == Approx(5.0 / 3.0));
  nn::init::xavier_uniform_(w, 1.0, &gen);
  CHECK(amax(abs(w)).item() <= std::sqrt(6.0 / 500.0));
  nn::init::xavier_normal_(w, 1.0, &gen);
  CHECK(tinynn::std(w).item() == Approx(std::sqrt(2.0 / 500.0)).epsilon(0.03));
  nn::init::kaiming_normal_(w, 0.0, nn::init::FanMode::FanIn, nn::init::Nonlinearity::ReLU, &gen);
  CHECK(tinynn::std(w).item() == Approx(std::sqrt(2.0 / 300.0)).epsilon(0.03));
  nn::init::kaiming_uniform_(w, 0.0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU, &gen);
  CHECK(amax(abs(w)).item() <= std::sqrt(6.0 / 200.0));
  CHECK(amax(abs(w)).item() > 0.95 * std::sqrt(6.0 / 200.0));
  nn::init::normal_(w, 2.0, 0.5, &gen);
  CHECK(mean(w).item() == Approx(2.0).epsilon(0.01));
  nn::init::uniform_(w, -3.0, -1.0, &gen);
  CHECK(amin(w).item() >= -3.0);
  CHECK(amax(w).item() < -1.0);
  nn::init::constant_(w, 0.25);
  CHECK(amin(w).item() == 0.25);
  nn::init::zeros_(w);
  CHECK(amax(abs(w)).item() == 0.0);
  Tensor v = empty({3});
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::init::xavier_uniform_(v), ShapeError, "at least 2 dimensions");
}

TEST_CASE("Sequential names children and walks parameters", "[nn][modules]") {
  Generator gen(5);
  auto model = small_mlp(&gen);
  const auto named = model->named_parameters();
  REQUIRE(named.size() == 4);
  CHECK(named[0].first == "0.weight");
  CHECK(named[1].first == "0.bias");
  CHECK(named[3].first == "2.bias");
  CHECK(model->parameter_count() == 4 * 3 + 3 + 3 * 2 + 2);
  CHECK((*model)(zeros({5, 4})).shape() == Shape{5, 2});
  model->eval();
  CHECK_FALSE((*model)[0]->is_training());
  model->train();
  CHECK((*model)[2]->is_training());
  const std::string s = model->summary({1, 4});
  CHECK(s.find("Linear(4 -> 3)") != std::string::npos);
  CHECK(s.find("[1, 2]") != std::string::npos);
  CHECK(s.find("total parameters: 23") != std::string::npos);
  INFO(s);
}

TEST_CASE("Sequential fuses Linear + pointwise activation without changing values or gradients", "[nn][modules]") {
  Generator gen(8);
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_shared<nn::Linear>(5, 4, true, &gen)).add(std::make_shared<nn::GELU>());
  model->add(std::make_shared<nn::Linear>(4, 3, true, &gen)).add(std::make_shared<nn::LeakyReLU>(0.3));
  model->add(std::make_shared<nn::Linear>(3, 3, true, &gen)).add(std::make_shared<nn::Softmax>());  // not fused
  const Tensor x = randn({7, 5}, {}, &gen);
  const auto fused_before = detail::recorded_op_count(detail::OpKind::BiasActivation);
  const Tensor y = (*model)(x);
  CHECK(detail::recorded_op_count(detail::OpKind::BiasActivation) == fused_before + 2);
  // The same layers one by one, as separate ops.
  const auto params = model->parameters();
  Tensor h = x;
  for (std::size_t i = 0; i < model->children().size(); ++i) h = model->children()[i].second->forward(h);
  CHECK(allclose(y, h, 1e-6, 1e-6));
  const auto g_fused = grad({sum(y * arange(0, 21, 1, {DType::Float32}).reshape({7, 3}))}, params);
  const auto g_plain = grad({sum(h * arange(0, 21, 1, {DType::Float32}).reshape({7, 3}))}, params);
  for (std::size_t i = 0; i < params.size(); ++i) CHECK(allclose(g_fused[i], g_plain[i], 1e-5, 1e-6));
}

TEST_CASE("zero_grad, state_dict round trip and load errors", "[nn][modules]") {
  Generator gen(6);
  auto a = small_mlp(&gen), b = small_mlp(&gen);
  sum((*a)(ones({2, 4}))).backward();
  CHECK(a->parameters()[0].grad().defined());
  a->zero_grad();
  CHECK_FALSE(a->parameters()[0].grad().defined());
  CHECK_FALSE(equal((*a)(ones({1, 4})), (*b)(ones({1, 4}))));
  const Tensor w_before = b->parameters()[0];
  b->load_state_dict(a->state_dict());
  CHECK(equal((*a)(ones({1, 4})), (*b)(ones({1, 4}))));
  CHECK(b->parameters()[0].shares_storage_with(w_before));  // loaded in place
  auto state = a->state_dict();
  state.erase("0.bias");
  state["extra"] = zeros({1});
  TINYNN_REQUIRE_THROWS_CONTAINING(b->load_state_dict(state), ValueError, "missing keys [0.bias]; unexpected keys [extra]");
  state = a->state_dict();
  state["2.weight"] = zeros({3, 3});
  TINYNN_REQUIRE_THROWS_CONTAINING(b->load_state_dict(state), ShapeError, "'2.weight' has shape [3, 3] in the state but [2, 3]");
  b->to(Device::cpu());
  if (!cuda_available()) TINYNN_REQUIRE_THROWS_CONTAINING(b->to(Device::cuda()), DeviceError, "no CUDA device");
}

TEST_CASE("activation modules, Flatten and Dropout", "[nn][modules]") {
  Tensor x = tensor({{-1.0, 0.5}, {2.0, -3.0}});
  check_values(nn::ReLU()(x), {2, 2}, {0, 0.5, 2, 0});
  check_values(nn::LeakyReLU(0.1)(x), {2, 2}, {-0.1, 0.5, 2, -0.3});
  CHECK(allclose(nn::Tanh()(x), tanh(x)));
  CHECK(allclose(nn::Sigmoid()(x), sigmoid(x)));
  CHECK(allclose(nn::GELU()(x), gelu(x)));
  CHECK(allclose(nn::Softmax(1)(x), softmax(x, 1)));
  CHECK(allclose(nn::LogSoftmax(0)(x), log_softmax(x, 0)));
  CHECK(nn::Flatten()(zeros({2, 1, 3, 3})).shape() == Shape{2, 9});
  Generator gen(7);
  nn::Dropout drop(0.25, &gen);
  Tensor ones_in = ones({200, 100});
  Tensor y = drop(ones_in);
  const double kept = mean(y != 0.0).item();
  CHECK(kept == Approx(0.75).epsilon(0.03));
  CHECK(amax(y).item() == Approx(1.0 / 0.75));  // survivors are scaled up
  drop.eval();
  CHECK(equal(drop(ones_in), ones_in));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::Dropout(1.0), ValueError, "p must be in [0, 1)");
}

TEST_CASE("BatchNorm1d: batch statistics in training, running ones in eval", "[nn][normalization]") {
  nn::BatchNorm1d bn(2, 1e-5, 0.1);
  Tensor x = tensor({{1.0, 10.0}, {3.0, 20.0}, {5.0, 30.0}});
  Tensor y = bn(x);
  // Column 0: mean 3, biased var 8/3.
  const double s0 = std::sqrt(8.0 / 3.0 + 1e-5), s1 = std::sqrt(200.0 / 3.0 + 1e-5);
  check_values(y, {3, 2}, {-2 / s0, -10 / s1, 0, 0, 2 / s0, 10 / s1}, 1e-5);
  // Running stats: 0.9 * init + 0.1 * batch (variance unbiased: 4 and 100).
  check_values(bn.running_mean(), {2}, {0.3, 2.0});
  check_values(bn.running_var(), {2}, {0.9 + 0.4, 0.9 + 10.0});
  bn.eval();
  check_values(bn(tensor({{0.3, 2.0}})), {1, 2}, {0, 0}, 1e-5);
  CHECK(bn(zeros({4, 2, 5})).shape() == Shape{4, 2, 5});
  TINYNN_REQUIRE_THROWS_CONTAINING(bn(zeros({3, 4})), ShapeError, "expected input [N, 2] or [N, 2, L], got [3, 4]");
  bn.train();
  TINYNN_REQUIRE_THROWS_CONTAINING(bn(zeros({1, 2})), ShapeError, "more than one value per channel");
  // PyTorch's buffers: running_mean, running_var and num_batches_tracked (one training batch ran).
  CHECK(bn.named_buffers().size() == 3);
  CHECK(bn.state_dict().at("num_batches_tracked").item<std::int64_t>() == 1);
}

TEST_CASE("LayerNorm normalizes the trailing axes", "[nn][normalization]") {
  nn::LayerNorm ln({3});
  Tensor y = ln(tensor({{1.0, 2.0, 3.0}, {-1.0, 0.0, 4.0}}));
  const double s = std::sqrt(2.0 / 3.0 + 1e-5);
  check_values(y.select(0, 0), {3}, {-1 / s, 0, 1 / s}, 1e-5);
  CHECK(mean(y, {1}).abs().max().item() < 1e-6);
  TINYNN_REQUIRE_THROWS_CONTAINING(ln(zeros({2, 4})), ShapeError, "does not end in [3]");
  Tensor x = randn({2, 3}, {DType::Float64}).requires_grad_();
  nn::LayerNorm ln64({3}, 1e-5, false);
  CHECK(gradcheck([&ln64](const std::vector<Tensor>& v) { return ln64(v[0]); }, {x}));
}
