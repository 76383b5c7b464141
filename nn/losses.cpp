// Losses, composed from differentiable tensor ops (so their gradients come from autograd).
#include "losses.h"

#include <fmt/format.h>

#include <cmath>

#include "../core/creation.h"
#include "../core/error.h"
#include "../core/ops.h"
#include "../core/reduce.h"
#include "../core/shape_ops.h"

namespace tinynn::nn {

namespace {

Tensor reduce(const Tensor& losses, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return mean(losses);
    case Reduction::Sum: return sum(losses);
    case Reduction::None: return losses;
  }
  return losses;
}

void require_same_shape(const char* fn, const Tensor& input, const Tensor& target) {
  if (input.shape() != target.shape())
    throw ShapeError(fmt::format("tinynn::nn::{}: input {} and target {} must have the same shape", fn,
                                 shape_str(input.shape()), shape_str(target.shape())));
}

// logits/log-probs [N, C] and class ids [N]: checks shapes and dtype, and the class range unless
// the kernel that reads the ids checks it (check_range false).
void check_class_targets(const char* fn, const Tensor& scores, const Tensor& target, bool check_range = true) {
  if (scores.dim() != 2)
    throw ShapeError(fmt::format("tinynn::nn::{}: expected input [N, C], got {}", fn, shape_str(scores.shape())));
  if (target.dim() != 1 || target.shape()[0] != scores.shape()[0])
    throw ShapeError(fmt::format("tinynn::nn::{}: class targets must be [{}], got {}", fn, scores.shape()[0],
                                 shape_str(target.shape())));
  if (target.dtype() != DType::Int64)
    throw DTypeError(fmt::format("tinynn::nn::{}: class targets must be int64, got {}", fn, dtype_name(target.dtype())));
  if (target.numel() == 0 || !check_range) return;
  const auto lo = amin(target).item<std::int64_t>(), hi = amax(target).item<std::int64_t>();
  if (lo < 0 || hi >= scores.shape()[1])
    throw IndexError(fmt::format("tinynn::nn::{}: class targets must lie in [0, {}), found {}", fn, scores.shape()[1],
                                 lo < 0 ? lo : hi));
}

void check_weight(const char* fn, const Tensor& weight, std::int64_t classes) {
  if (weight.defined() && weight.shape() != Shape{classes})
    throw ShapeError(fmt::format("tinynn::nn::{}: class weights must be [{}], got {}", fn, classes,
                                 shape_str(weight.shape())));
}

// Weighted negative log-likelihood of class-id targets, with PyTorch's weighted mean.
Tensor weighted_nll(const Tensor& log_probs, const Tensor& target, const Tensor& weight, Reduction reduction) {
  Tensor picked = -gather(log_probs, 1, target.unsqueeze(1)).squeeze(1);  // [N]
  if (!weight.defined()) return reduce(picked, reduction);
  const Tensor w = index_select(weight.to(log_probs.dtype()), 0, target);
  picked = picked * w;
  return reduction == Reduction::Mean ? sum(picked) / sum(w) : reduce(picked, reduction);
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  require_same_shape("mse_loss", input, target);
  return reduce(square(input - target), reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  require_same_shape("l1_loss", input, target);
  return reduce(abs(input - target), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, double delta, Reduction reduction) {
  require_same_shape("huber_loss", input, target);
  if (!(delta > 0)) throw ValueError(fmt::format("tinynn::nn::huber_loss: delta must be positive, got {}", delta));
  const Tensor d = abs(input - target);
  return reduce(where(d < delta, square(d) * 0.5, (d - 0.5 * delta) * delta), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta, Reduction reduction) {
  require_same_shape("smooth_l1_loss", input, target);
  if (!(beta > 0)) throw ValueError(fmt::format("tinynn::nn::smooth_l1_loss: beta must be positive, got {}", beta));
  const Tensor d = abs(input - target);
  return reduce(where(d < beta, square(d) * (0.5 / beta), d - 0.5 * beta), reduction);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight, Reduction reduction) {
  check_class_targets("nll_loss", log_probs, target);
  check_weight("nll_loss", weight, log_probs.shape()[1]);
  return weighted_nll(log_probs, target, weight, reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o) {
  if (logits.dim() != 2)
    throw ShapeError(fmt::format("tinynn::nn::cross_entropy: expected logits [N, C], got {}", shape_str(logits.shape())));
  const std::int64_t classes = logits.shape()[1];
  check_weight("cross_entropy", o.weight, classes);
  if (!(o.label_smoothing >= 0.0 && o.label_smoothing < 1.0))
    throw ValueError(fmt::format("tinynn::nn::cross_entropy: label_smoothing must be in [0, 1), got {}", o.label_smoothing));
  const double eps = o.label_smoothing;
  if (!is_floating(target.dtype()) && !o.weight.defined()) {  // the common case: one fused op each way
    check_class_targets("cross_entropy", logits, target, false);
    const Tensor x = is_floating(logits.dtype()) ? logits : logits.to(DType::Float32);
    return reduce(softmax_cross_entropy(x, target, eps), o.reduction);
  }
  const Tensor log_probs = log_softmax(logits, 1);
  if (is_floating(target.dtype())) {  // probability targets
    require_same_shape("cross_entropy", logits, target);
    Tensor t = eps > 0 ? target * (1.0 - eps) + eps / static_cast<double>(classes) : target;
    Tensor terms = log_probs * t;
    if (o.weight.defined()) terms = terms * o.weight.to(logits.dtype());
    return reduce(-sum(terms, {1}), o.reduction);
  }
  check_class_targets("cross_entropy", logits, target);
  const Tensor nll = weighted_nll(log_probs, target, o.weight, o.reduction);
  if (eps == 0) return nll;
  // Smoothing term: -sum_c w_c log p_c / C per sample, reduced like the nll term.
  Tensor smooth = o.weight.defined() ? -sum(log_probs * o.weight.to(logits.dtype()), {1}) : -sum(log_probs, {1});
  if (o.reduction == Reduction::Mean && o.weight.defined())
    smooth = sum(smooth) / sum(index_select(o.weight.to(logits.dtype()), 0, target));
  else
    smooth = reduce(smooth, o.reduction);
  return nll * (1.0 - eps) + smooth * (eps / static_cast<double>(classes));
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, const Tensor& weight, Reduction reduction) {
  require_same_shape("binary_cross_entropy", probs, target);
  const auto lo = probs.numel() ? amin(probs).item() : 0.0, hi = probs.numel() ? amax(probs).item() : 0.0;
  if (lo < 0.0 || hi > 1.0)
    throw ValueError(fmt::format("tinynn::nn::binary_cross_entropy: inputs must be probabilities in [0, 1], found {}",
                                 lo < 0.0 ? lo : hi));
  Tensor losses = -(target * clamp(log(probs), -100.0, std::nullopt) + (1.0 - target) * clamp(log(1.0 - probs), -100.0, std::nullopt));
  if (weight.defined()) losses = losses * weight;
  return reduce(losses, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& pos_weight,
                                        Reduction reduction) {
  require_same_shape("binary_cross_entropy_with_logits", logits, target);
  // log(1 + exp(-|x|)) + max(-x, 0) = -log(sigmoid(x)), without overflow.
  const Tensor log_sigmoid_neg = softplus(-abs(logits)) + relu(-logits);  // -log sigmoid(x)
  const Tensor log_one_minus = log_sigmoid_neg + logits;                  // -log(1 - sigmoid(x))
  Tensor pos = target * log_sigmoid_neg;
  if (pos_weight.defined()) pos = pos * pos_weight;
  return reduce(pos + (1.0 - target) * log_one_minus, reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, KLReduction reduction, bool log_target) {
  require_same_shape("kl_div", input, target);
  // target * (log target - input), with 0 where target == 0 (the limit t log t -> 0).
  const Tensor terms = log_target ? exp(target) * (target - input)
                                  : where(target > 0.0, target * (log(where(target > 0.0, target, 1.0)) - input), 0.0);
  switch (reduction) {
    case KLReduction::Mean: return mean(terms);
    case KLReduction::Sum: return sum(terms);
    case KLReduction::None: return terms;
    case KLReduction::BatchMean: return sum(terms) / static_cast<double>(input.dim() > 0 ? input.shape()[0] : 1);
  }
  return terms;
}

}  // namespace tinynn::nn
