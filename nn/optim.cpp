// Optimizer updates, written as tensor expressions (device independent) applied in place
// under NoGradGuard, in the order PyTorch's single-tensor implementations use.
#include "optim.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "../autograd/autograd.h"
#include "../core/backend.h"
#include "../core/creation.h"
#include "../core/error.h"
#include "../core/ops.h"

namespace tinynn::nn {

namespace {

std::vector<ParamGroup> single_group(std::vector<Tensor> params, double lr, double weight_decay) {
  return {ParamGroup{std::move(params), lr, weight_decay}};
}

void check_hyper(const char* opt, const char* what, double value, bool allow_zero = true) {
  if (!(allow_zero ? value >= 0.0 : value > 0.0) || !std::isfinite(value))
    throw ValueError(fmt::format("tinynn::nn::{}: {} must be {}, got {}", opt, what, allow_zero ? "non-negative" : "positive",
                                 value));
}

// The buffer `name` of a parameter, created from `init()` on first use.
template <class Init>
Tensor& buffer(std::map<std::string, Tensor>& buffers, const std::string& name, Init init) {
  auto it = buffers.find(name);
  if (it == buffers.end()) it = buffers.emplace(name, init()).first;
  return it->second;
}

// Steps that may share one backend call. (No defaulted operator== on OptimizerStep: nvcc compiles
// that header as C++17.)
bool same_step(const OptimizerStep& a, const OptimizerStep& b) {
  return a.rule == b.rule && a.lr == b.lr && a.weight_decay == b.weight_decay && a.beta1 == b.beta1 && a.beta2 == b.beta2 &&
         a.eps == b.eps && a.decoupled == b.decoupled && a.amsgrad == b.amsgrad && a.bias1 == b.bias1 &&
         a.bias2_sqrt == b.bias2_sqrt && a.momentum == b.momentum && a.dampening == b.dampening && a.alpha == b.alpha &&
         a.nesterov == b.nesterov && a.first == b.first && a.centered == b.centered;
}

}  // namespace

double required_scalar(const std::map<std::string, double>& scalars, const std::string& key, const std::string& owner) {
  const auto it = scalars.find(key);
  if (it == scalars.end()) throw ValueError(fmt::format("tinynn::nn::{}::load_state_dict: '{}' is missing", owner, key));
  return it->second;
}

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  std::size_t count = 0;
  for (const auto& g : groups_) {
    check_hyper("Optimizer", "lr", g.lr);
    check_hyper("Optimizer", "weight_decay", g.weight_decay);
    for (const auto& p : g.params)
      if (!p.requires_grad())
        throw ValueError("tinynn::nn::Optimizer: every parameter must require grad (use Module::parameters())");
    count += g.params.size();
  }
  buffers_.resize(count);
  steps_.assign(count, 0);
}

void Optimizer::step() {
  NoGradGuard no_grad;
  std::size_t index = 0;
  for (const auto& group : groups_)
    for (const auto& p : group.params) {
      const Tensor g = p.grad();
      if (g.defined()) {
        Tensor param = p;
        ++steps_[index];
        update(index, param, g, group);
      }
      ++index;
    }
  finish_step();
}

void Optimizer::fuse(Tensor& param, const Tensor& grad, const OptimizerStep& step, std::initializer_list<Tensor*> state) {
  const Tensor g = grad.to(param.dtype()).contiguous();
  const bool contiguous = param.is_contiguous();
  Tensor target = contiguous ? param : param.contiguous();
  OptimizerTensors tensors;
  tensors.n = param.numel(), tensors.param = target.raw_data(), tensors.grad = g.raw_data();
  std::size_t k = 0;
  for (Tensor* t : state) tensors.state[k++] = t != nullptr ? t->raw_data() : nullptr;
  if (!contiguous) {
    backend_for(param.device()).optimizer_step(step, param.dtype(), &tensors, 1);
    param.copy_(target);
    return;
  }
  auto same = [&](const Batch& b) { return b.dtype == param.dtype() && b.device == param.device() && same_step(b.step, step); };
  const auto used_end = batches_.begin() + static_cast<std::ptrdiff_t>(batches_used_);
  auto it = std::find_if(batches_.begin(), used_end, same);
  if (it == used_end) {  // a new batch, in a slot kept from earlier steps when there is one
    if (batches_used_ == batches_.size()) batches_.emplace_back();
    it = batches_.begin() + static_cast<std::ptrdiff_t>(batches_used_++);
    it->step = step;
    it->dtype = param.dtype();
    it->device = param.device();
  }
  it->tensors.push_back(tensors);
  it->params.push_back(param);
  it->grads.push_back(g);
}

void Optimizer::finish_step() {
  for (std::size_t i = 0; i < batches_used_; ++i) {
    Batch& b = batches_[i];
    backend_for(b.device).optimizer_step(b.step, b.dtype, b.tensors.data(), b.tensors.size());
    for (Tensor& p : b.params) p.impl()->storage->bump_version();  // an in-place write, like copy_
    // Emptied but not freed: the next step refills the same vectors without allocating.
    b.tensors.clear();
    b.params.clear();
    b.grads.clear();
  }
  batches_used_ = 0;
}

void Optimizer::zero_grad() {
  for (auto& group : groups_)
    for (auto& p : group.params) p.zero_grad();
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState s;
  for (std::size_t i = 0; i < buffers_.size(); ++i) {
    for (const auto& [name, t] : buffers_[i]) s.tensors[fmt::format("{}.{}", i, name)] = t;
    s.scalars[fmt::format("step.{}", i)] = static_cast<double>(steps_[i]);
  }
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    s.scalars[fmt::format("group.{}.lr", g)] = groups_[g].lr;
    s.scalars[fmt::format("group.{}.weight_decay", g)] = groups_[g].weight_decay;
  }
  s.scalars["parameters"] = static_cast<double>(buffers_.size());
  return s;
}

void Optimizer::load_state_dict(const OptimizerState& s) {
  const auto count = s.scalars.find("parameters");
  if (count == s.scalars.end() || static_cast<std::size_t>(count->second) != buffers_.size())
    throw ValueError(fmt::format("tinynn::nn::{}::load_state_dict: the state is for {} parameters, this optimizer has {}",
                                 name(), count == s.scalars.end() ? 0.0 : count->second, buffers_.size()));
  std::vector<std::map<std::string, Tensor>> buffers(buffers_.size());
  std::vector<const Tensor*> params;
  for (const auto& g : groups_)
    for (const auto& p : g.params) params.push_back(&p);
  for (const auto& [key, t] : s.tensors) {
    const auto dot = key.find('.');
    std::size_t i = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + std::min(dot, key.size()), i);
    if (dot == std::string::npos || ec != std::errc() || end != key.data() + dot)
      throw ValueError(fmt::format("tinynn::nn::{}::load_state_dict: '{}' is not a '<parameter>.<buffer>' name", name(), key));
    if (i >= buffers.size() || t.shape() != params[i]->shape())
      throw ShapeError(fmt::format("tinynn::nn::{}::load_state_dict: buffer '{}' does not match parameter {}", name(), key, i));
    buffers[i][key.substr(dot + 1)] = t.to(params[i]->device()).to(params[i]->dtype());
  }
  const std::string owner = name();
  auto scalar = [&](const std::string& key) { return required_scalar(s.scalars, key, owner); };
  for (std::size_t i = 0; i < steps_.size(); ++i) steps_[i] = static_cast<std::int64_t>(scalar(fmt::format("step.{}", i)));
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].lr = scalar(fmt::format("group.{}.lr", g));
    groups_[g].weight_decay = scalar(fmt::format("group.{}.weight_decay", g));
  }
  buffers_ = std::move(buffers);
}

// ---- SGD ------------------------------------------------------------------------------------

SGD::SGD(std::vector<Tensor> params, SGDOptions o) : SGD(single_group(std::move(params), o.lr, o.weight_decay), o) {}
SGD::SGD(std::vector<ParamGroup> groups, SGDOptions o) : Optimizer(std::move(groups)), o_(o) {
  check_hyper("SGD", "momentum", o.momentum);
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw ValueError("tinynn::nn::SGD: Nesterov momentum needs momentum > 0 and dampening 0");
}

// A momentum buffer starts as the first step's direction, as PyTorch's (the fused rule copies it
// in on that step).
void SGD::update(std::size_t index, Tensor& param, const Tensor& grad, const ParamGroup& group) {
  OptimizerStep s;
  s.rule = OptimizerRule::SGD;
  s.lr = group.lr, s.weight_decay = group.weight_decay;
  s.momentum = o_.momentum, s.dampening = o_.dampening, s.nesterov = o_.nesterov;
  Tensor* momentum = nullptr;
  if (o_.momentum != 0) {
    s.first = buffers_[index].count("momentum") == 0;
    momentum = &buffer(buffers_[index], "momentum", [&] { return zeros_like(param); });
  }
  fuse(param, grad, s, {momentum});
}

// ---- Adam / AdamW -------------------------------------------------------------------------

AdamOptions adamw_options(double lr, double weight_decay) {
  AdamOptions o;
  o.lr = lr;
  o.weight_decay = weight_decay;
  o.decoupled_weight_decay = true;
  return o;
}

Adam::Adam(std::vector<Tensor> params, AdamOptions o) : Adam(single_group(std::move(params), o.lr, o.weight_decay), o) {}
Adam::Adam(std::vector<ParamGroup> groups, AdamOptions o) : Optimizer(std::move(groups)), o_(o) {
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
    throw ValueError(fmt::format("tinynn::nn::Adam: betas must be in [0, 1), got ({}, {})", o.beta1, o.beta2));
  check_hyper("Adam", "eps", o.eps);
}

void Adam::update(std::size_t index, Tensor& param, const Tensor& grad, const ParamGroup& group) {
  const auto step = static_cast<double>(steps_[index]);
  auto& bufs = buffers_[index];
  Tensor& m = buffer(bufs, "exp_avg", [&] { return zeros_like(param); });
  Tensor& v = buffer(bufs, "exp_avg_sq", [&] { return zeros_like(param); });
  Tensor* vmax = o_.amsgrad ? &buffer(bufs, "max_exp_avg_sq", [&] { return zeros_like(param); }) : nullptr;
  OptimizerStep s;
  s.rule = OptimizerRule::Adam;
  s.lr = group.lr, s.beta1 = o_.beta1, s.beta2 = o_.beta2, s.eps = o_.eps, s.weight_decay = group.weight_decay;
  s.decoupled = o_.decoupled_weight_decay, s.amsgrad = o_.amsgrad;
  s.bias1 = 1.0 - std::pow(o_.beta1, step);
  s.bias2_sqrt = std::sqrt(1.0 - std::pow(o_.beta2, step));
  fuse(param, grad, s, {&m, &v, vmax});
}

// ---- RMSprop ----------------------------------------------------------------------------------

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions o)
    : RMSprop(single_group(std::move(params), o.lr, o.weight_decay), o) {}
RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions o) : Optimizer(std::move(groups)), o_(o) {
  check_hyper("RMSprop", "alpha", o.alpha);
  check_hyper("RMSprop", "eps", o.eps);
  check_hyper("RMSprop", "momentum", o.momentum);
}

void RMSprop::update(std::size_t index, Tensor& param, const Tensor& grad, const ParamGroup& group) {
  auto& bufs = buffers_[index];
  OptimizerStep s;
  s.rule = OptimizerRule::RMSprop;
  s.lr = group.lr, s.weight_decay = group.weight_decay;
  s.alpha = o_.alpha, s.eps = o_.eps, s.momentum = o_.momentum, s.centered = o_.centered;
  Tensor& sq = buffer(bufs, "square_avg", [&] { return zeros_like(param); });
  Tensor* ga = o_.centered ? &buffer(bufs, "grad_avg", [&] { return zeros_like(param); }) : nullptr;
  Tensor* buf = o_.momentum > 0 ? &buffer(bufs, "momentum_buffer", [&] { return zeros_like(param); }) : nullptr;
  fuse(param, grad, s, {&sq, ga, buf});
}

// ---- Adagrad ----------------------------------------------------------------------------------

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions o)
    : Adagrad(single_group(std::move(params), o.lr, o.weight_decay), o) {}
Adagrad::Adagrad(std::vector<ParamGroup> groups, AdagradOptions o) : Optimizer(std::move(groups)), o_(o) {
  check_hyper("Adagrad", "lr_decay", o.lr_decay);
  check_hyper("Adagrad", "initial_accumulator_value", o.initial_accumulator_value);
  check_hyper("Adagrad", "eps", o.eps);
}

void Adagrad::update(std::size_t index, Tensor& param, const Tensor& grad, const ParamGroup& group) {
  const auto step = static_cast<double>(steps_[index]);
  OptimizerStep s;
  s.rule = OptimizerRule::Adagrad;
  s.lr = group.lr / (1.0 + (step - 1.0) * o_.lr_decay), s.weight_decay = group.weight_decay, s.eps = o_.eps;
  Tensor& sum_sq = buffer(buffers_[index], "sum", [&] { return full_like(param, o_.initial_accumulator_value); });
  fuse(param, grad, s, {&sum_sq});
}

}  // namespace tinynn::nn
