// L1/L2 penalties and gradient clipping. A penalty is a differentiable term added to the data
// loss (reported separately); decoupled weight decay is an optimizer option, never this.
#pragma once
#include <vector>

#include "../core/error.h"
#include "module.h"

namespace tinynn::nn {

// Defaults for parameters that have no penalty of their own (Module::set_penalty): one for
// biases (names ending in "bias"), one for every other parameter.
struct GlobalPenalty {
  Penalty weight;
  Penalty bias;
};

// Each parameter with an active penalty (its own, else the global default), in model order.
// Resolve once and reuse: the set does not change while a model trains.
using PenaltyTerms = std::vector<std::pair<Tensor, Penalty>>;
PenaltyTerms resolve_penalties(const Module& model, const GlobalPenalty& global = {});

// sum over parameters of l1 * sum|p| + l2 * sum p^2: a scalar that requires grad when any
// penalty is active, else an undefined Tensor (nothing to add).
Tensor regularization_penalty(const PenaltyTerms& terms);
Tensor regularization_penalty(const Module& model, const GlobalPenalty& global = {});

// The `norm_type` norm (2, 1 or inf) of all gradients taken together (0 when none exist).
double total_grad_norm(const std::vector<Tensor>& parameters, double norm_type = 2.0);
// The same as a float64 scalar on the gradients' device, not read back: for norm types 1 and 2 it
// is computed where the gradients live, so a GPU training step can queue it and read it together
// with the loss (one wait per step). NaN when a gradient holds NaN.
Tensor total_grad_norm_tensor(const std::vector<Tensor>& parameters, double norm_type = 2.0);

// Scales all gradients by one factor so their global `norm_type` norm (2, 1 or inf) is at most
// max_norm; returns the norm before clipping. A non-finite norm throws (the step is poisoned)
// unless error_if_nonfinite is false, in which case the gradients are left as they are.
double clip_grad_norm(const std::vector<Tensor>& parameters, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = true);
// clip_grad_norm's second half, for a norm already known: scales every gradient by
// max_norm / (total_norm + 1e-6) when that is below 1.
void scale_grads_to_norm(const std::vector<Tensor>& parameters, double total_norm, double max_norm);
// Clamps every gradient element to [-value, value].
void clip_grad_value(const std::vector<Tensor>& parameters, double value);

// Thrown for a NaN or infinite loss, gradient or norm.
class NonFiniteError : public Error {
  using Error::Error;
};

}  // namespace tinynn::nn
