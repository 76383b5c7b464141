// Penalties and clipping.
#include "regularization.h"

#include <fmt/format.h>

#include <cmath>

#include "../autograd/autograd.h"
#include "../core/creation.h"
#include "../core/ops.h"
#include "../core/reduce.h"
#include "flat_parameters.h"

namespace tinynn::nn {

PenaltyTerms resolve_penalties(const Module& model, const GlobalPenalty& global) {
  const auto own = model.named_penalties();
  PenaltyTerms terms;
  for (const auto& [name, p] : model.named_parameters()) {
    const auto it = own.find(name);
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    const Penalty penalty = it != own.end() ? it->second : (is_bias ? global.bias : global.weight);
    if (penalty.active()) terms.emplace_back(p, penalty);
  }
  return terms;
}

Tensor regularization_penalty(const Module& model, const GlobalPenalty& global) {
  return regularization_penalty(resolve_penalties(model, global));
}

Tensor regularization_penalty(const PenaltyTerms& terms) {
  Tensor total;
  for (const auto& [p, penalty] : terms) {
    Tensor term;
    if (penalty.l1 != 0.0) term = sum(abs(p)) * penalty.l1;
    if (penalty.l2 != 0.0) term = term.defined() ? term + sum_of_squares(p) * penalty.l2 : sum_of_squares(p) * penalty.l2;
    total = total.defined() ? total + term : term;
  }
  return total;
}

// The norm of all gradients taken as one vector: (sum_i |g_i|_p^p)^(1/p), or the largest |g_i|_inf.
Tensor total_grad_norm_tensor(const std::vector<Tensor>& parameters, double norm_type) {
  NoGradGuard no_grad;
  const Device device = parameters.empty() ? Device::cpu() : parameters.front().device();
  if (norm_type != 1.0 && norm_type != 2.0) return scalar_tensor(total_grad_norm(parameters, norm_type), DType::Float64, device);
  // Per-parameter sums (of squares for the 2-norm: no square root per parameter and back) are
  // added where the gradients live. A NaN anywhere makes the total NaN.
  // Gradients in one flat buffer (FlatParameters) are summed in one pass.
  std::vector<Tensor> grads;
  if (Tensor flat = flat_gradient_view(parameters); flat.defined()) {
    grads.push_back(std::move(flat));
  } else {
    for (const Tensor& p : parameters)
      if (p.grad().defined()) grads.push_back(p.grad());
  }
  Tensor total;
  for (const Tensor& g : grads) {
    Tensor part = (norm_type == 2.0 ? sum_of_squares(g) : sum(abs(g))).to(DType::Float64);
    if (total.defined() && part.device() != total.device()) part = part.to(total.device());
    total = total.defined() ? total + part : part;
  }
  if (!total.defined()) return scalar_tensor(0.0, DType::Float64, device);
  return norm_type == 2.0 ? sqrt(total) : total;
}

double total_grad_norm(const std::vector<Tensor>& parameters, double norm_type) {
  NoGradGuard no_grad;
  if (norm_type == 1.0 || norm_type == 2.0) {
    const double t = total_grad_norm_tensor(parameters, norm_type).item();
    return std::isnan(t) ? std::nan("") : t;  // a plain NaN (the sums may carry a sign bit: "-nan")
  }
  double total = 0.0;
  bool nan = false;
  const bool max_norm = std::isinf(norm_type);
  for (const Tensor& p : parameters) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    const double n = norm(g, norm_type).item();
    nan = nan || std::isnan(n);
    total = max_norm ? std::max(total, n) : total + std::pow(n, norm_type);
  }
  if (nan) return std::nan("");
  return max_norm ? total : std::pow(total, 1.0 / norm_type);
}

double clip_grad_norm(const std::vector<Tensor>& parameters, double max_norm, double norm_type, bool error_if_nonfinite) {
  if (!(max_norm > 0)) throw ValueError(fmt::format("tinynn::nn::clip_grad_norm: max_norm must be positive, got {}", max_norm));
  if (!(norm_type == 1.0 || norm_type == 2.0 || std::isinf(norm_type)))
    throw ValueError(fmt::format("tinynn::nn::clip_grad_norm: norm_type must be 1, 2 or inf, got {}", norm_type));
  NoGradGuard no_grad;
  const double total = total_grad_norm(parameters, norm_type);
  if (!std::isfinite(total)) {
    if (error_if_nonfinite)
      throw NonFiniteError(fmt::format("tinynn::nn::clip_grad_norm: the total gradient norm is {}; the gradients contain "
                                       "NaN or infinite values", total));
    return total;
  }
  scale_grads_to_norm(parameters, total, max_norm);
  return total;
}

void scale_grads_to_norm(const std::vector<Tensor>& parameters, double total_norm, double max_norm) {
  NoGradGuard no_grad;
  const double scale = max_norm / (total_norm + 1e-6);
  if (!(scale < 1.0)) return;
  if (Tensor flat = flat_gradient_view(parameters); flat.defined()) {
    flat.copy_(flat * scale);  // in place: the gradients stay in their slots
    return;
  }
  for (const Tensor& p : parameters)
    if (p.grad().defined()) Tensor(p).set_grad(p.grad() * scale);
}

void clip_grad_value(const std::vector<Tensor>& parameters, double value) {
  if (!(value > 0)) throw ValueError(fmt::format("tinynn::nn::clip_grad_value: value must be positive, got {}", value));
  NoGradGuard no_grad;
  if (Tensor flat = flat_gradient_view(parameters); flat.defined()) {
    flat.copy_(clamp(flat, -value, value));
    return;
  }
  for (const Tensor& p : parameters)
    if (p.grad().defined()) Tensor(p).set_grad(clamp(p.grad(), -value, value));
}

}  // namespace tinynn::nn
