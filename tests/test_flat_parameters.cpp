// Flat parameter and gradient buffers (nn::FlatParameters), grad slots (set_grad_slot) and the
// backward writing weight gradients straight into them.
#include <tinynn/core/detail/forwarding_backend.h>

#include "test_helpers.h"

using namespace tinynn;

namespace {

std::shared_ptr<nn::Sequential> small_mlp(std::uint64_t seed) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_shared<nn::Linear>(5, 7, true, &gen));
  model->add(std::make_shared<nn::Pointwise>(UnaryOp::Relu));
  model->add(std::make_shared<nn::Linear>(7, 3, true, &gen));
  return model;
}

// Bit-for-bit equality of two tensors' values.
bool same_values(const Tensor& a, const Tensor& b) { return a.shape() == b.shape() && a.to_vector<float>() == b.to_vector<float>(); }

const nn::LossFn kCrossEntropy = [](const Tensor& out, const Tensor& target) { return nn::cross_entropy(out, target); };

}  // namespace

TEST_CASE("FlatParameters moves the values into one buffer and keeps every handle", "[nn][flat]") {
  auto model = small_mlp(1);
  const std::vector<Tensor> params = model->parameters();
  std::vector<std::vector<float>> before;
  for (const Tensor& p : params) before.push_back(p.to_vector<float>());
  REQUIRE(nn::FlatParameters::can_flatten(params));
  const nn::FlatParameters flat(params);
  CHECK(flat.values().numel() == 5 * 7 + 7 + 7 * 3 + 3);
  std::int64_t at = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    CHECK(params[i].to_vector<float>() == before[i]);  // values kept
    CHECK(params[i].shares_storage_with(flat.values()));
    CHECK(params[i].offset() == at);  // in order, adjacent
    at += params[i].numel();
  }
  // The model's own handles are the same tensors: writing through the buffer changes them.
  {
    NoGradGuard no_grad;
    Tensor(flat.values()).copy_(zeros({flat.values().numel()}));
  }
  for (const auto& [name, p] : model->named_parameters()) CHECK(sum(abs(p)).item() == 0.0);

  // Mixed dtypes cannot share a buffer.
  const Tensor a = ones({2}).requires_grad_(), b = ones({2}, {DType::Float64}).requires_grad_();
  CHECK_FALSE(nn::FlatParameters::can_flatten({a, b}));
  CHECK_THROWS_WITH(nn::FlatParameters({a, b}), Catch::Contains("one dtype and device"));
  // Nor tied parameters (two tensors over one memory): copies would untie them.
  const Tensor tied = a.detach().requires_grad_();
  CHECK_FALSE(nn::FlatParameters::can_flatten({a, tied}));
  CHECK(nn::FlatParameters::can_flatten({a, a}));  // one tensor listed twice counts once
}

TEST_CASE("backward writes gradients into their slots, equal to unflattened gradients", "[nn][flat][autograd]") {
  auto plain = small_mlp(3), flattened = small_mlp(3);
  const nn::FlatParameters flat(flattened->parameters());
  Generator gen(4);
  const Tensor x = randn({6, 5}, {}, &gen);
  const Tensor y = from_vector(std::vector<std::int64_t>{0, 1, 2, 0, 1, 2}, {6});
  nn::cross_entropy((*plain)(x), y).backward();
  nn::cross_entropy((*flattened)(x), y).backward();
  const auto p = plain->parameters(), f = flattened->parameters();
  std::int64_t at = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    INFO("parameter " << i);
    CHECK(same_values(p[i].grad(), f[i].grad()));
    // The gradient is the slot itself: a view of grads() at the parameter's place.
    CHECK(f[i].grad().shares_storage_with(flat.grads()));
    CHECK(f[i].grad().offset() == at);
    at += f[i].numel();
  }
  const Tensor view = nn::flat_gradient_view(f);
  REQUIRE(view.defined());
  CHECK(view.numel() == flat.grads().numel());
  CHECK(nn::total_grad_norm(f, 2.0) == Approx(nn::total_grad_norm(p, 2.0)).epsilon(1e-6));

  // A second backward without zero_grad adds, in place.
  nn::cross_entropy((*plain)(x), y).backward();
  nn::cross_entropy((*flattened)(x), y).backward();
  for (std::size_t i = 0; i < p.size(); ++i) {
    CHECK(same_values(p[i].grad(), f[i].grad()));
    CHECK(f[i].grad().shares_storage_with(flat.grads()));
  }

  // After zero_grad the grads are gone (no pass over memory); the view needs all of them.
  for (const Tensor& t : f) Tensor(t).zero_grad();
  CHECK_FALSE(nn::flat_gradient_view(f).defined());
  sum((*flattened)(x).narrow(1, 0, 1)).backward();  // reaches every parameter
  CHECK(nn::flat_gradient_view(f).defined());
}

TEST_CASE("grad slots: shared weights, partial graphs and create_graph", "[nn][flat][autograd]") {
  // A weight used twice receives two gradients: they are summed, then stored in the slot.
  const Tensor w = tensor({{1.0, 2.0}, {3.0, 4.0}}).requires_grad_();
  const Tensor slot = zeros({2, 2});
  set_grad_slot(w, slot);
  const Tensor x = tensor({{1.0, -1.0}});
  sum(matmul(matmul(x, w.t()), w.t())).backward();
  // d/dW sum(x W^T W^T): by hand, with x W^T = [-1, -1] and g = [1, 1]:
  // from the outer product: g^T (x W^T) = [[-1, -1], [-1, -1]]; from the inner: (g W)^T x = [[4, -4], [6, -6]].
  test::check_values(w.grad(), {2, 2}, {3, -5, 5, -7});
  CHECK(w.grad().shares_storage_with(slot));
  test::check_values(slot, {2, 2}, {3, -5, 5, -7});

  // Under create_graph the gradient stays differentiable: a new tensor, not the slot.
  Tensor(w).zero_grad();
  sum(matmul(x, w.t()) * matmul(x, w.t())).backward(Tensor(), false, true);
  CHECK_FALSE(w.grad().shares_storage_with(slot));
  CHECK(w.grad().requires_grad());

  CHECK_THROWS_WITH(set_grad_slot(w, zeros({3})), Catch::Contains("a slot float32 [3] on cpu for a tensor float32 [2, 2]"));
  CHECK_THROWS_WITH(set_grad_slot(w * 2.0, zeros({2, 2})), Catch::Contains("only a defined leaf"));
  set_grad_slot(w, Tensor());  // removed: gradients are new tensors again
  Tensor(w).zero_grad();
  sum(matmul(x, w.t())).backward();
  CHECK_FALSE(w.grad().shares_storage_with(slot));
}

TEST_CASE("TrainStep on flat buffers trains exactly like per-parameter tensors", "[nn][flat][train_step]") {
  // The reference: the same steps written out by hand on an unflattened copy of the model.
  auto stepped = small_mlp(7), by_hand = small_mlp(7);
  nn::SGDOptions sgd;
  sgd.lr = 0.1, sgd.momentum = 0.9;
  nn::SGD opt(stepped->parameters(), sgd), opt_hand(by_hand->parameters(), sgd);
  nn::TrainStep step(*stepped, opt, kCrossEntropy);
  CHECK(stepped->parameters().front().shares_storage_with(stepped->parameters().back()));  // flattened
  CHECK_FALSE(by_hand->parameters().front().shares_storage_with(by_hand->parameters().back()));
  Generator gen(8);
  for (int i = 0; i < 5; ++i) {
    const Tensor x = randn({4, 5}, {}, &gen), y = randint(0, 3, {4}, {DType::Int64}, &gen);
    const nn::StepResult r = step(x, y);
    opt_hand.zero_grad();
    const Tensor loss = nn::cross_entropy((*by_hand)(x), y);
    loss.backward();
    opt_hand.step();
    CHECK(r.loss == loss.item());
    CHECK(r.grad_norm == Approx(nn::total_grad_norm(by_hand->parameters(), 2.0)).epsilon(1e-6));
  }
  const auto a = stepped->parameters(), b = by_hand->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(same_values(a[i], b[i]));

  // Clipping scales the flat buffer in place: the gradients stay in their slots.
  nn::StepOptions clip;
  clip.clip_max_norm = 1e-3;
  nn::TrainStep clipped(*stepped, opt, kCrossEntropy, clip);
  const nn::StepResult r = clipped(randn({4, 5}, {}, &gen), randint(0, 3, {4}, {DType::Int64}, &gen));
  CHECK(r.grad_norm > 1e-3);
  CHECK(nn::total_grad_norm(stepped->parameters(), 2.0) == Approx(1e-3).epsilon(1e-3));
  CHECK(nn::flat_gradient_view(stepped->parameters()).defined());
}

TEST_CASE("matmul_into writes a product into a given tensor and checks it", "[matmul][flat]") {
  const Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}}), b = tensor({{1.0, 0.0, 2.0}, {0.0, 1.0, -1.0}});
  const Tensor out = full({2, 3}, 9.0);
  detail::matmul_into(out, a, b);
  test::check_values(out, {2, 3}, {1, 2, 0, 3, 4, 2});
  detail::matmul_into(out, b.t().t(), tensor({{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}}).narrow(1, 0, 3));
  test::check_values(out, {2, 3}, {1, 0, 2, 0, 1, -1});
  CHECK_THROWS_WITH(detail::matmul_into(zeros({3, 2}), a, b), Catch::Contains("cannot write float32 [2, 2] @ float32 [2, 3] into a float32 [3, 2]"));
  CHECK_THROWS_WITH(detail::matmul_into(zeros({3, 2}).t(), a, b), Catch::Contains("(not contiguous)"));
}

TEST_CASE("TrainStep adds L1/L2 penalty gradients in one pass, as the loss term would", "[nn][flat][train_step][regularization]") {
  // Per-layer penalties and global ones (biases excluded): the fused pass against the step written
  // out by hand with the penalty as a loss term, on an unflattened copy.
  auto stepped = small_mlp(21), by_hand = small_mlp(21);
  for (auto* m : {stepped.get(), by_hand.get()}) m->children()[0].second->set_penalty("weight", {1e-3, 1e-2});
  const nn::GlobalPenalty global{{0.0, 5e-3}, {}};
  nn::SGDOptions sgd;
  sgd.lr = 0.1, sgd.momentum = 0.9;
  nn::SGD opt(stepped->parameters(), sgd), opt_hand(by_hand->parameters(), sgd);
  nn::TrainStep step(*stepped, opt, kCrossEntropy, {}, global);
  const nn::PenaltyTerms terms = nn::resolve_penalties(*by_hand, global);
  REQUIRE(terms.size() == 2);  // 0.weight (its own) and 2.weight (the global one)
  Generator gen(22);
  for (int i = 0; i < 5; ++i) {
    const Tensor x = randn({4, 5}, {}, &gen), y = randint(0, 3, {4}, {DType::Int64}, &gen);
    const nn::StepResult r = step(x, y);
    opt_hand.zero_grad();
    const Tensor loss = nn::cross_entropy((*by_hand)(x), y), penalty = nn::regularization_penalty(terms);
    (loss + penalty).backward();
    opt_hand.step();
    CHECK(r.penalty == Approx(penalty.item()).epsilon(1e-6));
    CHECK(r.penalty > 0);
  }
  const auto a = stepped->parameters(), b = by_hand->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("parameter " << i);
    const auto u = a[i].to_vector<double>(), v = b[i].to_vector<double>();
    for (std::size_t j = 0; j < u.size(); ++j) CHECK(u[j] == Approx(v[j]).epsilon(1e-5).margin(1e-7));
  }
  CHECK(nn::flat_gradient_view(a).defined());  // the gradients stayed in their slots
  // One backend call did it.
  int penalty_calls = 0;
  detail::ForwardingBackend counting(detail::cpu_backend(), [&](const char* entry, const char*, double) {
    penalty_calls += std::string(entry) == "penalty_gradients";
  });
  detail::set_cpu_backend_override(&counting);
  step(randn({4, 5}, {}, &gen), randint(0, 3, {4}, {DType::Int64}, &gen));
  detail::set_cpu_backend_override(nullptr);
  CHECK(penalty_calls == 1);
}
