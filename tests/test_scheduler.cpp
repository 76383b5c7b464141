// Learning-rate schedules: closed forms, warmup, plateau, and their argument checks.
#include "test_helpers.h"

using namespace tinynn;

TEST_CASE("warmup composes with another schedule; schedulers check their arguments", "[nn][scheduler]") {
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
}

TEST_CASE("step takes an optional metric: plateau follows it, closed forms ignore it", "[nn][scheduler]") {
  Tensor p = zeros({1}).requires_grad_();
  nn::SGD opt({p}, {1.0});
  nn::ReduceLROnPlateau plateau(opt, nn::ReduceLROnPlateau::Mode::Min, 0.5, 0);
  std::unique_ptr<nn::Scheduler> as_base = std::make_unique<nn::StepLR>(opt, 1, 0.1);
  plateau.step(1.0);       // the first metric is an improvement
  CHECK(opt.lr() == 1.0);
  plateau.step();          // no metric this epoch: nothing changes, not even the epoch count
  CHECK(plateau.last_epoch() == 1);
  plateau.step(2.0);       // worse with patience 0: halve
  CHECK(opt.lr() == 0.5);
  as_base->step(123.0);    // a closed form ignores the metric: one epoch of StepLR from base 1.0
  CHECK(opt.lr() == Approx(0.1));
}
