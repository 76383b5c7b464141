// The one training step (nn::TrainStep): loss + penalties -> backward -> clip -> optimizer step.
#include <cmath>

#include "test_helpers.h"

using namespace tinynn;

namespace {
// One weight w = 1.5 (no bias), penalized by 0.05 |w| + 0.1 w^2.
std::shared_ptr<nn::Linear> one_weight() {
  auto layer = std::make_shared<nn::Linear>(1, 1, false);
  NoGradGuard no_grad;
  Tensor w = layer->weight();
  w.copy_(tensor({{1.5}}));
  layer->set_penalty("weight", {0.05, 0.1});
  return layer;
}
const nn::LossFn kMse = [](const Tensor& out, const Tensor& target) { return nn::mse_loss(out, target); };
}  // namespace

TEST_CASE("a training step: loss + penalties -> backward -> clip -> optimizer step", "[nn][train_step]") {
  // Input 2, target 0: data loss (2w)^2 = 9, d/dw = 8w = 12, plus the penalty's 0.05 + 0.3.
  auto layer = one_weight();
  nn::SGD opt(layer->parameters(), {0.1});
  nn::StepOptions options;
  options.clip_max_norm = 1.0;
  nn::TrainStep step(*layer, opt, kMse, options);
  const nn::StepResult r = step(tensor({{2.0}}), tensor({{0.0}}));
  CHECK(r.stepped);
  CHECK(r.loss == Approx(9.0));                        // the data loss alone
  CHECK(r.penalty == Approx(0.05 * 1.5 + 0.1 * 2.25));  // reported on its own
  CHECK(r.grad_norm == Approx(12.35));                  // before clipping
  // Clipped to norm 1 before the update (unclipped it would be 1.5 - 1.235).
  CHECK(layer->weight().item() == Approx(1.5 - 0.1 * 12.35 / (12.35 + 1e-6)));
}

TEST_CASE("a training step: value clipping, global penalties and counted hits", "[nn][train_step]") {
  auto layer = one_weight();
  nn::SGD opt(layer->parameters(), {0.1});
  nn::StepOptions options;
  options.clip_value = 0.5;
  nn::TrainStep step(*layer, opt, kMse, options, nn::GlobalPenalty{{0.0, 1.0}, {}});  // per-layer wins over global
  const nn::StepResult r = step(tensor({{2.0}}), tensor({{0.0}}));
  CHECK(r.grad_norm == Approx(12.35));
  CHECK(layer->weight().item() == Approx(1.5 - 0.1 * 0.5));  // the gradient clamped to 0.5

  // Classification: the argmax hits of the batch.
  Generator gen(2);
  auto classifier = std::make_shared<nn::Linear>(2, 3, true, &gen);
  nn::SGD opt2(classifier->parameters(), {0.0});
  nn::StepOptions count;
  count.count_correct = true;
  nn::TrainStep classify(*classifier, opt2, [](const Tensor& o, const Tensor& t) { return nn::cross_entropy(o, t); }, count);
  const Tensor x = tensor({{1.0, 0.0}, {0.0, 1.0}, {-1.0, -1.0}});
  const Tensor predicted = argmax((*classifier)(x).detach(), 1);
  const Tensor labels = from_vector(std::vector<std::int64_t>{predicted.to_vector<std::int64_t>()[0], 0, 0}, {3});
  const double expected_hits = sum(predicted == labels).item();
  CHECK(classify(x, labels).correct == expected_hits);
}

TEST_CASE("a non-finite step updates nothing and drops its gradients", "[nn][train_step]") {
  auto layer = one_weight();
  nn::SGD opt(layer->parameters(), {0.1});
  nn::TrainStep step(*layer, opt, kMse);
  const nn::StepResult r = step(tensor({{NAN}}), tensor({{0.0}}));
  CHECK_FALSE(r.stepped);
  CHECK(std::isnan(r.loss));
  CHECK(layer->weight().item() == 1.5);
  const Tensor g = layer->weight().grad();
  CHECK((!g.defined() || sum(abs(g)).item() == 0.0));
}
