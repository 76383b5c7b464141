// The dense layer's epilogue, activation(x + bias), as one structural op: one pass forward
// instead of an add and an activation, and one backward pass that writes the input's gradient
// and sums the bias's, instead of four (activation gradient, add's broadcast, bias-gradient sum).
#include <fmt/format.h>

#include "backend.h"
#include "creation.h"
#include "detail/autograd_hooks.h"
#include "detail/plan.h"
#include "error.h"
#include "linear.h"
#include "ops.h"
#include "storage.h"

namespace tinynn {

namespace {

BiasActivationPlan bias_activation_plan(const Tensor& x, UnaryOp op, const UnaryParams& params) {
  BiasActivationPlan plan;
  plan.features = x.shape().back();
  plan.rows = plan.features == 0 ? 0 : x.numel() / plan.features;
  plan.op = op;
  plan.params = params;
  return plan;
}

}  // namespace

Tensor bias_activation(const Tensor& x, const Tensor& bias, UnaryOp op, UnaryParams params) {
  if (!bias.defined()) return unary(op, x, params);
  if (x.dim() == 0 || bias.shape() != Shape{x.shape().back()})
    throw ShapeError(fmt::format("tinynn::bias_activation: bias {} does not match the last axis of input {}",
                                 shape_str(bias.shape()), shape_str(x.shape())));
  detail::check_same_device("bias_activation", x, bias);
  // The fused kernels cover floating inputs of one dtype; anything else takes the two-op road.
  if (!is_floating(x.dtype()) || bias.dtype() != x.dtype()) return unary(op, x + bias, params);
  const Tensor xc = x.contiguous(), bc = bias.contiguous();
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  if (y.numel() > 0)
    backend_for(x.device()).bias_activation(bias_activation_plan(xc, op, params), x.dtype(), y.raw_data(), xc.raw_data(),
                                            bc.raw_data());
  detail::OpRecord rec{detail::OpKind::BiasActivation, {x, bias}};
  rec.unary = op;
  rec.params = params;
  return detail::recorded(std::move(rec), y);
}

namespace detail {

// x, y, g [.., F], bias [F] -> {d x [.., F], d bias [F]}
std::vector<Tensor> bias_activation_backward_kernel(const Tensor& x, const Tensor& bias, const Tensor& y, const Tensor& g,
                                                    UnaryOp op, const UnaryParams& params, const Tensor& bias_into) {
  const Tensor xc = x.contiguous(), bc = bias.contiguous(), yc = y.contiguous(), gc = g.to(x.dtype()).contiguous();
  const bool into = bias_into.defined() && bias_into.is_contiguous() && bias_into.shape() == bias.shape() &&
                    bias_into.dtype() == x.dtype() && bias_into.device() == x.device();
  Tensor gx = empty(x.shape(), x.dtype(), x.device()), gb = into ? bias_into : empty(bias.shape(), x.dtype(), x.device());
  if (into) gb.impl()->storage->bump_version();
  if (gx.numel() == 0) return {gx, zeros_like(gb)};
  backend_for(x.device())
      .bias_activation_backward(bias_activation_plan(xc, op, params), x.dtype(), gx.raw_data(), gb.raw_data(), gc.raw_data(),
                                xc.raw_data(), bc.raw_data(), yc.raw_data());
  return {gx, gb};
}

}  // namespace detail

}  // namespace tinynn
