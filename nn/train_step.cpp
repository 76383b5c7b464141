// TrainStep: the one training step.
#include "train_step.h"

#include "../core/creation.h"
#include "../core/ops.h"
#include "../core/reduce.h"
#include "../core/shape_ops.h"
#include "../autograd/autograd.h"
#include "../core/backend.h"

namespace tinynn::nn {

TrainStep::TrainStep(Module& model, Optimizer& optimizer, LossFn loss, StepOptions options, const GlobalPenalty& global)
    : model_(model), optimizer_(optimizer), loss_(std::move(loss)), options_(options), params_(model.parameters()),
      penalties_(resolve_penalties(model, global)) {
  std::vector<Tensor> trainable;
  for (const Tensor& p : params_)
    if (p.requires_grad()) trainable.push_back(p);
  if (FlatParameters::can_flatten(trainable)) flat_ = std::make_unique<FlatParameters>(trainable);
  // With flat buffers on the CPU the penalties skip autograd: after backward one pass adds their
  // gradients (and sums their value), the same arithmetic as the loss term's gradient.
  fused_penalties_ = flat_ != nullptr && !penalties_.empty() && flat_->values().device().is_cpu();
  for (const auto& [p, penalty] : penalties_)
    fused_penalties_ = fused_penalties_ && p.requires_grad() && p.shares_storage_with(flat_->values());
}

// Adds each penalized parameter's penalty gradient, times `scale`, to its gradient; returns the
// penalties' value as a float64 scalar.
Tensor TrainStep::add_penalty_gradients(double scale) {
  NoGradGuard no_grad;
  penalty_tensors_.clear();
  for (const auto& [p, penalty] : penalties_) {
    if (!p.grad().defined()) Tensor(p).set_grad(zeros_like(p));  // no data gradient reached it
    penalty_tensors_.push_back({p.numel(), p.raw_data(), p.grad().raw_data(), penalty.l1, penalty.l2});
  }
  const DType t = flat_->values().dtype();
  const double value = backend_for(flat_->values().device()).penalty_gradients(t, penalty_tensors_.data(), penalty_tensors_.size(), scale);
  return scalar_tensor(value, DType::Float64, flat_->values().device());
}

StepResult TrainStep::operator()(const Tensor& x, const Tensor& y, const BatchPart& part) {
  optimizer_.zero_grad();
  const std::int64_t rows = x.shape()[0];
  const double share = part.global_size > 0 ? static_cast<double>(rows) / static_cast<double>(part.global_size) : 1.0;
  const BatchPartGuard in_part(part);
  const Tensor zero = zeros({}, {DType::Float64, x.device()});
  Tensor data_loss = zero, penalty, correct = zero;
  // A process may hold no rows of a last, small global batch: it adds zeros to the sums.
  if (rows > 0) {
    const Tensor out = model_(x);
    data_loss = loss_(out, y);
    if (!fused_penalties_) penalty = regularization_penalty(penalties_);
    const Tensor objective = penalty.defined() ? data_loss + penalty : data_loss;
    (share == 1.0 ? objective : objective * share).backward();
    if (fused_penalties_) penalty = add_penalty_gradients(share);
    if (options_.count_correct) correct = sum(argmax(out.detach(), 1) == y).to(DType::Float64);
  }
  if (options_.reducer) options_.reducer->sum_gradients(params_);
  const Tensor norm = total_grad_norm_tensor(params_, options_.clip_max_norm ? options_.clip_norm_type : 2.0);
  std::vector<double> stats =
      stack({data_loss.detach().to(DType::Float64), norm, penalty.defined() ? penalty.detach().to(DType::Float64) : zero, correct})
          .to_vector<double>();
  if (options_.reducer) {  // the global batch's loss (each part weighted by its share) and hits
    std::vector<double> sums = {stats[0] * share, stats[3]};
    options_.reducer->sum(sums);
    stats[0] = sums[0], stats[3] = sums[1];
  }
  StepResult r;
  r.loss = stats[0];
  r.grad_norm = std::isnan(stats[1]) ? std::nan("") : stats[1];  // a device's NaN may print as -nan
  r.penalty = stats[2];
  r.correct = stats[3];
  if (!std::isfinite(r.loss) || !std::isfinite(r.grad_norm)) {
    optimizer_.zero_grad();
    return r;
  }
  if (options_.clip_max_norm) scale_grads_to_norm(params_, r.grad_norm, *options_.clip_max_norm);
  if (options_.clip_value) clip_grad_value(params_, *options_.clip_value);
  optimizer_.step();
  r.stepped = true;
  return r;
}

}  // namespace tinynn::nn
