// Learning-rate schedules. step() advances one epoch (or one step, as the caller chooses) and
// sets every group's lr from its base lr. Closed-form schedules (step, multi-step, exponential,
// cosine) can sit behind a linear warmup; reduce-on-plateau follows a metric instead.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "optim.h"

namespace tinynn::nn {

// The resumable state of any scheduler.
struct SchedulerState {
  std::map<std::string, double> scalars;
};

class Scheduler {
 public:
  explicit Scheduler(Optimizer& optimizer);
  virtual ~Scheduler() = default;
  virtual std::string name() const = 0;
  // Advances one epoch. `metric` is what a metric-driven schedule (plateau) follows; closed-form
  // schedules ignore it, and plateau skips an epoch without one.
  virtual void step(std::optional<double> metric = std::nullopt) = 0;
  std::int64_t last_epoch() const { return epoch_; }
  virtual SchedulerState state_dict() const;
  virtual void load_state_dict(const SchedulerState& state);

 protected:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::int64_t epoch_ = 0;
};

// A schedule given by a formula lr(epoch, base_lr).
class ClosedFormScheduler : public Scheduler {
 public:
  using Scheduler::Scheduler;
  void step(std::optional<double> metric = std::nullopt) override;  // epoch += 1, then lr = lr_at(epoch, base)
  virtual double lr_at(std::int64_t epoch, double base_lr) const = 0;
  void load_state_dict(const SchedulerState& state) override;  // also re-applies the lr
};

// base * gamma^(epoch / step_size)
class StepLR : public ClosedFormScheduler {
 public:
  StepLR(Optimizer& opt, std::int64_t step_size, double gamma = 0.1);
  std::string name() const override { return "step"; }
  double lr_at(std::int64_t epoch, double base) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

// base * gamma^(number of milestones <= epoch)
class MultiStepLR : public ClosedFormScheduler {
 public:
  MultiStepLR(Optimizer& opt, std::vector<std::int64_t> milestones, double gamma = 0.1);
  std::string name() const override { return "multi_step"; }
  double lr_at(std::int64_t epoch, double base) const override;

 private:
  std::vector<std::int64_t> milestones_;
  double gamma_;
};

// base * gamma^epoch
class ExponentialLR : public ClosedFormScheduler {
 public:
  ExponentialLR(Optimizer& opt, double gamma);
  std::string name() const override { return "exponential"; }
  double lr_at(std::int64_t epoch, double base) const override;

 private:
  double gamma_;
};

// eta_min + (base - eta_min) (1 + cos(pi epoch / t_max)) / 2
class CosineAnnealingLR : public ClosedFormScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, std::int64_t t_max, double eta_min = 0.0);
  std::string name() const override { return "cosine"; }
  double lr_at(std::int64_t epoch, double base) const override;

 private:
  std::int64_t t_max_;
  double eta_min_;
};

// For the first `warmup` epochs, base * (start_factor + (1 - start_factor) epoch / warmup);
// afterwards the wrapped schedule (counted from the end of warmup), or the base lr.
class LinearWarmup : public ClosedFormScheduler {
 public:
  LinearWarmup(Optimizer& opt, std::int64_t warmup, double start_factor = 0.1,
               std::unique_ptr<ClosedFormScheduler> then = nullptr);
  std::string name() const override { return "warmup"; }
  double lr_at(std::int64_t epoch, double base) const override;

 private:
  std::int64_t warmup_;
  double start_factor_;
  std::unique_ptr<ClosedFormScheduler> then_;
};

// Multiplies the lr by `factor` when the metric has not improved by more than `threshold`
// (relative) for `patience` epochs, then waits `cooldown` epochs; never below min_lr.
class ReduceLROnPlateau : public Scheduler {
 public:
  enum class Mode { Min, Max };
  ReduceLROnPlateau(Optimizer& opt, Mode mode = Mode::Min, double factor = 0.1, std::int64_t patience = 10,
                    double threshold = 1e-4, std::int64_t cooldown = 0, double min_lr = 0.0);
  std::string name() const override { return "plateau"; }
  void step(std::optional<double> metric = std::nullopt) override;
  SchedulerState state_dict() const override;
  void load_state_dict(const SchedulerState& state) override;

 private:
  bool improved(double metric) const;
  Mode mode_;
  double factor_, threshold_, min_lr_;
  std::int64_t patience_, cooldown_;
  double best_;
  std::int64_t bad_epochs_ = 0, cooldown_left_ = 0;
};

}  // namespace tinynn::nn
