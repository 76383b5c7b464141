// TrainStep: the one training step.
#include "train_step.h"

#include "../core/creation.h"
#include "../core/ops.h"
#include "../core/reduce.h"
#include "../core/shape_ops.h"

namespace tinynn::nn {

TrainStep::TrainStep(Module& model, Optimizer& optimizer, LossFn loss, StepOptions options, const GlobalPenalty& global)
    : model_(model), optimizer_(optimizer), loss_(std::move(loss)), options_(options), params_(model.parameters()),
      penalties_(resolve_penalties(model, global)) {}

StepResult TrainStep::operator()(const Tensor& x, const Tensor& y) {
  optimizer_.zero_grad();
  const Tensor out = model_(x);
  const Tensor data_loss = loss_(out, y);
  const Tensor penalty = regularization_penalty(penalties_);
  (penalty.defined() ? data_loss + penalty : data_loss).backward();
  const Tensor norm = total_grad_norm_tensor(params_, options_.clip_max_norm ? options_.clip_norm_type : 2.0);
  const Tensor zero = zeros({}, {DType::Float64, out.device()});
  const std::vector<double> stats =
      stack({data_loss.detach().to(DType::Float64), norm, penalty.defined() ? penalty.detach().to(DType::Float64) : zero,
             options_.count_correct ? sum(argmax(out.detach(), 1) == y).to(DType::Float64) : zero})
          .to_vector<double>();
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
