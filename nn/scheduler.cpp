// Learning-rate schedules.
#include "scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "../core/error.h"

namespace tinynn::nn {

Scheduler::Scheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (const auto& g : optimizer.param_groups()) base_lrs_.push_back(g.lr);
}

SchedulerState Scheduler::state_dict() const {
  SchedulerState s;
  s.scalars["last_epoch"] = static_cast<double>(epoch_);
  for (std::size_t i = 0; i < base_lrs_.size(); ++i) s.scalars[fmt::format("base_lr.{}", i)] = base_lrs_[i];
  return s;
}

namespace {
double scalar(const SchedulerState& s, const std::string& key) { return required_scalar(s.scalars, key, "Scheduler"); }
}  // namespace

void Scheduler::load_state_dict(const SchedulerState& s) {
  epoch_ = static_cast<std::int64_t>(scalar(s, "last_epoch"));
  for (std::size_t i = 0; i < base_lrs_.size(); ++i) base_lrs_[i] = scalar(s, fmt::format("base_lr.{}", i));
}

void ClosedFormScheduler::step(std::optional<double>) {
  ++epoch_;
  auto& groups = optimizer_.param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].lr = lr_at(epoch_, base_lrs_[i]);
}

void ClosedFormScheduler::load_state_dict(const SchedulerState& s) {
  Scheduler::load_state_dict(s);
  auto& groups = optimizer_.param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].lr = lr_at(epoch_, base_lrs_[i]);
}

StepLR::StepLR(Optimizer& opt, std::int64_t step_size, double gamma)
    : ClosedFormScheduler(opt), step_size_(step_size), gamma_(gamma) {
  if (step_size <= 0) throw ValueError(fmt::format("tinynn::nn::StepLR: step_size must be positive, got {}", step_size));
}
double StepLR::lr_at(std::int64_t epoch, double base) const {
  return base * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<std::int64_t> milestones, double gamma)
    : ClosedFormScheduler(opt), milestones_(std::move(milestones)), gamma_(gamma) {
  if (!std::is_sorted(milestones_.begin(), milestones_.end()))
    throw ValueError("tinynn::nn::MultiStepLR: milestones must be increasing");
}
double MultiStepLR::lr_at(std::int64_t epoch, double base) const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), epoch) - milestones_.begin();
  return base * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer& opt, double gamma) : ClosedFormScheduler(opt), gamma_(gamma) {}
double ExponentialLR::lr_at(std::int64_t epoch, double base) const { return base * std::pow(gamma_, static_cast<double>(epoch)); }

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, std::int64_t t_max, double eta_min)
    : ClosedFormScheduler(opt), t_max_(t_max), eta_min_(eta_min) {
  if (t_max <= 0) throw ValueError(fmt::format("tinynn::nn::CosineAnnealingLR: t_max must be positive, got {}", t_max));
}
double CosineAnnealingLR::lr_at(std::int64_t epoch, double base) const {
  const double kPi = 3.14159265358979323846;
  return eta_min_ + (base - eta_min_) * (1.0 + std::cos(kPi * static_cast<double>(epoch) / static_cast<double>(t_max_))) / 2.0;
}

LinearWarmup::LinearWarmup(Optimizer& opt, std::int64_t warmup, double start_factor, std::unique_ptr<ClosedFormScheduler> then)
    : ClosedFormScheduler(opt), warmup_(warmup), start_factor_(start_factor), then_(std::move(then)) {
  if (warmup <= 0) throw ValueError(fmt::format("tinynn::nn::LinearWarmup: warmup must be positive, got {}", warmup));
  if (!(start_factor > 0 && start_factor <= 1))
    throw ValueError(fmt::format("tinynn::nn::LinearWarmup: start_factor must be in (0, 1], got {}", start_factor));
  auto& groups = optimizer_.param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].lr = lr_at(0, base_lrs_[i]);
}
double LinearWarmup::lr_at(std::int64_t epoch, double base) const {
  if (epoch < warmup_)
    return base * (start_factor_ + (1.0 - start_factor_) * static_cast<double>(epoch) / static_cast<double>(warmup_));
  return then_ ? then_->lr_at(epoch - warmup_, base) : base;
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& opt, Mode mode, double factor, std::int64_t patience, double threshold,
                                     std::int64_t cooldown, double min_lr)
    : Scheduler(opt), mode_(mode), factor_(factor), threshold_(threshold), min_lr_(min_lr), patience_(patience),
      cooldown_(cooldown), best_(mode == Mode::Min ? std::numeric_limits<double>::infinity()
                                                   : -std::numeric_limits<double>::infinity()) {
  if (!(factor > 0 && factor < 1))
    throw ValueError(fmt::format("tinynn::nn::ReduceLROnPlateau: factor must be in (0, 1), got {}", factor));
}

bool ReduceLROnPlateau::improved(double metric) const {
  return mode_ == Mode::Min ? metric < best_ * (1.0 - threshold_) : metric > best_ * (1.0 + threshold_);
}

void ReduceLROnPlateau::step(std::optional<double> metric) {
  if (!metric) return;  // nothing measured this epoch
  ++epoch_;
  if (improved(*metric)) {
    best_ = *metric;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;
  }
  if (bad_epochs_ > patience_) {
    for (auto& g : optimizer_.param_groups()) g.lr = std::max(g.lr * factor_, min_lr_);
    cooldown_left_ = cooldown_;
    bad_epochs_ = 0;
  }
}

SchedulerState ReduceLROnPlateau::state_dict() const {
  SchedulerState s = Scheduler::state_dict();
  s.scalars["best"] = best_;
  s.scalars["bad_epochs"] = static_cast<double>(bad_epochs_);
  s.scalars["cooldown_left"] = static_cast<double>(cooldown_left_);
  return s;
}

void ReduceLROnPlateau::load_state_dict(const SchedulerState& s) {
  Scheduler::load_state_dict(s);
  best_ = scalar(s, "best");
  bad_epochs_ = static_cast<std::int64_t>(scalar(s, "bad_epochs"));
  cooldown_left_ = static_cast<std::int64_t>(scalar(s, "cooldown_left"));
}

}  // namespace tinynn::nn
