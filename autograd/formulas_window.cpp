// Backward formulas of the convolution and average-pool ops. The three convolution ops are one
// closed family (each one's gradients are the other two), and so are the two pooling ops, so every
// gradient is made of recorded ops and can be differentiated again, to any order.
#include <fmt/format.h>

#include "../core/detail/window_ops.h"
#include "../core/error.h"
#include "../core/ops.h"
#include "../core/reduce.h"
#include "../core/grad_mode.h"
#include "autograd.h"
#include "detail/formulas.h"

namespace tinynn::detail {

namespace {

// x, g [N, C, ...], weight and bias [C] (each optional) -> {d x, d weight, d bias} (only the inputs
// present). One kernel; under create_graph the same formulas from ops, with the batch statistics
// recomputed from x (in training they depend on it), so the gradient is differentiable again.
std::vector<Tensor> batch_norm_backward(const OpRecord& rec, const Tensor& g, const std::vector<bool>& needs) {
  const auto& in = rec.inputs;
  const Tensor& x = in[0];
  const Tensor weight = rec.axes[0] >= 0 ? in[static_cast<std::size_t>(rec.axes[0])] : Tensor();
  const BatchNormPlan& plan = rec.batch_norm;
  Tensor gx, gw, gb;
  if (!is_grad_enabled()) {
    const auto grads = batch_norm_backward_kernel(x, weight, rec.saved[0], rec.saved[1], g, plan);
    gx = grads[0], gw = grads[1], gb = grads[2];
  } else {
    Axes axes{0};
    for (std::int64_t d = 2; d < x.dim(); ++d) axes.push_back(d);
    Shape channel(static_cast<std::size_t>(x.dim()), 1);
    channel[1] = plan.c;
    const double count = static_cast<double>(plan.n * plan.inner);
    Tensor invstd = rec.saved[1].reshape(channel), centered = x - rec.saved[0].reshape(channel);
    if (plan.batch_statistics) {
      centered = x - mean(x, axes, true);
      invstd = rsqrt(mean(centered * centered, axes, true) + plan.eps);
    }
    const Tensor xhat = centered * invstd;
    const Tensor sum_g = sum(g, axes, true), sum_gxhat = sum(g * xhat, axes, true);
    const Tensor scale = weight.defined() ? invstd * weight.reshape(channel) : invstd;
    gx = plan.batch_statistics ? scale * (g - sum_g / count - xhat * (sum_gxhat / count)) : scale * g;
    gw = weight.defined() ? sum_gxhat.reshape({plan.c}) : Tensor();
    gb = sum_g.reshape({plan.c});
  }
  std::vector<Tensor> out{needs[0] ? gx : Tensor()};
  if (rec.axes[0] >= 0) out.push_back(needs[out.size()] ? gw : Tensor());
  if (rec.axes[1] >= 0) out.push_back(needs[out.size()] ? gb : Tensor());
  return out;
}

// The conv block: x, w, bias, bn weight, bn bias -> their gradients. One kernel on the forward's
// buffers; under create_graph (and for an eval-mode record, which saved none) the four ops are run
// again on the inputs and differentiated, so the gradient is differentiable again.
std::vector<Tensor> conv_block_backward(const OpRecord& rec, const Tensor& g, const std::vector<bool>& needs) {
  const ConvBlockPlan& plan = rec.conv_block;
  std::vector<Tensor> grads;
  if (!is_grad_enabled() && plan.training) {
    grads = conv_block_backward_kernel(rec, g, needs[0]);
  } else {
    std::vector<Tensor> leaves;
    for (const Tensor& t : rec.inputs) leaves.push_back(is_grad_enabled() ? t : t.detach().requires_grad_());
    const EnableGradGuard recording;
    const Tensor mean = plan.training ? Tensor() : rec.saved[0], var = plan.training ? Tensor() : rec.saved[1];
    const Tensor y = conv_block_composed(leaves[0], leaves[1], leaves[2], mean, var, leaves[3], leaves[4], conv_block_options(plan));
    std::vector<Tensor> wanted;
    for (std::size_t i = 0; i < leaves.size(); ++i)
      if (needs[i] && leaves[i].requires_grad()) wanted.push_back(leaves[i]);
    const std::vector<Tensor> found = grad({y}, wanted, {g}, is_grad_enabled(), is_grad_enabled(), true);
    grads.assign(leaves.size(), Tensor());
    for (std::size_t i = 0, j = 0; i < leaves.size(); ++i)
      if (needs[i] && leaves[i].requires_grad()) grads[i] = found[j++];
  }
  for (std::size_t i = 0; i < grads.size(); ++i)
    if (!needs[i]) grads[i] = Tensor();
  return grads;
}

}  // namespace

std::vector<Tensor> window_backward(const OpRecord& rec, const Tensor& g, const std::vector<bool>& needs) {
  const auto& in = rec.inputs;
  const ConvPlan& plan = rec.conv;
  switch (rec.kind) {
    // y = conv(x, w) + bias: x [N, C, H, W], w [K, C/G, R, S], bias [K], g [N, K, P, Q]
    //   -> {convT(g, w) [N, C, H, W], convW(x, g) [K, C/G, R, S], sum of g over N, P, Q [K]}
    case OpKind::Conv2d:
      return {needs[0] ? conv2d_backward_data(g, in[1], plan) : Tensor(),
              needs[1] ? conv2d_backward_weight(in[0], g, plan) : Tensor(),
              in.size() > 2 && needs[2] ? sum(g, {0, 2, 3}).to(in[2].dtype()) : Tensor()};
    // z = convT(gy, w): gy [N, K, P, Q], w [K, C/G, R, S], g [N, C, H, W] -> {conv(g, w), convW(g, gy)}
    case OpKind::Conv2dBackwardData:
      return {needs[0] ? conv2d_planned(g, in[1], Tensor(), plan) : Tensor(),
              needs[1] ? conv2d_backward_weight(g, in[0], plan) : Tensor()};
    // v = convW(x, gy): x [N, C, H, W], gy [N, K, P, Q], g [K, C/G, R, S] -> {convT(gy, g), conv(x, g)}
    case OpKind::Conv2dBackwardWeight:
      return {needs[0] ? conv2d_backward_data(in[1], g, plan) : Tensor(),
              needs[1] ? conv2d_planned(in[0], g, Tensor(), plan) : Tensor()};
    // y = avgpool(x): g [N, C, P, Q] -> [N, C, H, W]; and its transpose back
    case OpKind::AvgPool2d: return {avg_pool2d_backward(g, rec.pool)};
    case OpKind::AvgPool2dBackward: return {avg_pool2d_planned(g, rec.pool)};
    case OpKind::BatchNorm: return batch_norm_backward(rec, g, needs);
    case OpKind::ConvBlock: return conv_block_backward(rec, g, needs);
    default: break;
  }
  throw Error(fmt::format("tinynn::backward: {} is not a convolution, pooling or normalization op", op_kind_name(rec.kind)));
}

}  // namespace tinynn::detail
