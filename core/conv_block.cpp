// conv_block: conv2d -> batch_norm -> relu -> max_pool2d as one op where the backend fuses it,
// else (and for its gradients under create_graph) the four ops. The four ops check the arguments,
// so a bad block fails with the same messages as its layers one by one.
#include <fmt/format.h>

#include "backend.h"
#include "conv.h"
#include "creation.h"
#include "detail/channel_blocked.h"
#include "detail/autograd_hooks.h"
#include "detail/window_ops.h"
#include "error.h"
#include "grad_mode.h"
#include "ops.h"

namespace tinynn {

namespace detail {

Tensor conv_block_composed(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& running_mean, const Tensor& running_var,
                const Tensor& bn_weight, const Tensor& bn_bias, const ConvBlockOptions& o) {
  Tensor y = conv2d(x, w, bias, o.stride, o.padding, o.dilation, o.groups);
  y = relu(batch_norm(y, running_mean, running_var, bn_weight, bn_bias, o.training, o.momentum, o.eps));
  if (o.pool_kernel) y = max_pool2d(y, *o.pool_kernel, o.pool_stride, o.pool_padding, {1, 1}, o.pool_ceil_mode);
  return y;
}

ConvBlockOptions conv_block_options(const ConvBlockPlan& plan) {
  const ConvPlan& c = plan.conv;
  ConvBlockOptions o;
  o.stride = {c.stride_h, c.stride_w}, o.padding = {c.pad_h, c.pad_w}, o.dilation = {c.dil_h, c.dil_w}, o.groups = c.groups;
  o.training = plan.training, o.eps = plan.eps;
  if (plan.pool.kh > 0) {
    o.pool_kernel = Size2{plan.pool.kh, plan.pool.kw}, o.pool_stride = Size2{plan.pool.stride_h, plan.pool.stride_w};
    o.pool_padding = {plan.pool.pad_h, plan.pool.pad_w}, o.pool_ceil_mode = plan.pool_ceil_mode;
  }
  return o;
}

}  // namespace detail

using detail::conv_block_composed;

Tensor conv_block(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& bn_weight, const Tensor& bn_bias, const ConvBlockOptions& o) {
  // Fused: float32 throughout, one device, every tensor present and contiguous.
  bool uniform = x.defined() && x.dim() == 4 && x.dtype() == DType::Float32;
  for (const Tensor* t : {&w, &bias, &running_mean, &running_var, &bn_weight, &bn_bias})
    uniform = uniform && t->defined() && t->dtype() == DType::Float32 && t->device() == x.device();
  if (!uniform) return conv_block_composed(x, w, bias, running_mean, running_var, bn_weight, bn_bias, o);
  ConvBlockPlan plan;
  plan.conv = detail::conv_plan(x, w, bias, o.stride, o.padding, o.dilation, o.groups);
  plan.eps = o.eps, plan.training = o.training, plan.pool_ceil_mode = o.pool_ceil_mode;
  plan.input_gradient = x.requires_grad();  // an image batch does not: a backend may keep less
  const ConvPlan& c = plan.conv;
  const std::int64_t count = c.n * c.p * c.q;
  // Batch norm's own checks (a channel of one value cannot be normalized) stay with batch_norm.
  if (running_mean.shape() != Shape{c.k} || running_var.shape() != Shape{c.k} || bn_weight.shape() != Shape{c.k} ||
      bn_bias.shape() != Shape{c.k} || (o.training && count < 2))
    return conv_block_composed(x, w, bias, running_mean, running_var, bn_weight, bn_bias, o);
  plan.pool.kh = plan.pool.kw = 0;  // no pool unless one is asked for
  if (o.pool_kernel) {
    const Tensor conv_shaped = zeros({1, 1, 1, 1}).expand({c.n, c.k, c.p, c.q});  // a view: shape only
    plan.pool = detail::pool_plan("max_pool2d", conv_shaped, *o.pool_kernel, o.pool_stride, o.pool_padding, {1, 1},
                                  o.pool_ceil_mode);
  }
  Backend& backend = backend_for(x.device());
  const ConvBlockSizes sizes = backend.conv_block_sizes(plan);
  if (!sizes.fused) return conv_block_composed(x, w, bias, running_mean, running_var, bn_weight, bn_bias, o);

  const Tensor xc = x.contiguous(), wc = w.contiguous(), bc = bias.contiguous();
  const Tensor gamma = bn_weight.contiguous(), beta = bn_bias.contiguous();
  const std::int64_t out_h = o.pool_kernel ? plan.pool.p : c.p, out_w = o.pool_kernel ? plan.pool.q : c.q;
  Tensor y = empty({c.n, c.k, out_h, out_w}, x.dtype(), x.device());
  // In eval the running statistics are read, and kept (cloned: training may move them) for the backward.
  Tensor mean = o.training ? empty({c.k}, x.dtype(), x.device()) : running_mean.clone();
  Tensor var = o.training ? empty({c.k}, x.dtype(), x.device()) : running_var.clone();
  // The channel-blocked layout (detail/channel_blocked.h) in place of reorders: x's where the block
  // before left it (then the backend keeps no copy of x), y's for the block after.
  ChannelBlockedArgs blocked;
  const Tensor x_blocked = o.training && sizes.blocked_x ? detail::channel_blocked_of(x, sizes.lanes) : Tensor();
  if (x_blocked.defined()) blocked.x = x_blocked.raw_data();
  std::vector<Tensor> saved;
  void* saved_data[kConvBlockSaved] = {};
  for (int i = 0; i < kConvBlockSaved && o.training; ++i) {
    const std::int64_t bytes = i == 0 && x_blocked.defined() ? 0 : sizes.saved[i];
    saved.push_back(empty({(bytes + 3) / 4}, DType::Float32, x.device()));  // bytes, in floats
    saved_data[i] = saved.back().numel() > 0 ? saved.back().raw_data() : nullptr;
  }
  Tensor y_blocked;
  if (o.training && sizes.blocked_y && o.feeds_conv_block) {
    y_blocked = detail::channel_blocked_buffer(y.shape(), sizes.lanes, y.device());
    blocked.y = y_blocked.raw_data();
  }
  // Blocked x and y take the place of the plain ones: y's plain values are written only if someone
  // reads them (the next block does not), and x's are not read (when x came so, they are pending too).
  backend.conv_block_forward(plan, y_blocked.defined() ? nullptr : y.raw_data(), mean.raw_data(), var.raw_data(), saved_data,
                             x_blocked.defined() ? nullptr : xc.raw_data(), wc.raw_data(), bc.raw_data(), gamma.raw_data(),
                             beta.raw_data(), blocked);
  if (y_blocked.defined()) detail::set_channel_blocked(y, y_blocked, false);
  if (o.training) {
    // The running statistics move in place, the variance with Bessel's correction (as batch_norm).
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    Tensor rm = running_mean, rv = running_var;
    rm.copy_(rm * (1.0 - o.momentum) + mean * o.momentum);
    rv.copy_(rv * (1.0 - o.momentum) + var * (o.momentum * unbias));
  }
  detail::OpRecord rec{detail::OpKind::ConvBlock, {x, w, bias, bn_weight, bn_bias}};
  rec.conv_block = plan;
  rec.saved = {mean, var};
  for (Tensor& t : saved) rec.saved.push_back(std::move(t));
  if (o.training) rec.saved.push_back(x_blocked);  // [2 + kConvBlockSaved]: undefined unless the forward read it
  // In eval the block is a function of fixed statistics; its gradient still comes from the four ops.
  return detail::recorded(std::move(rec), y);
}

namespace detail {

// x [N, C, H, W], w [K, C/G, R, S], bias, bn weight, bn bias [K], g the block's output's gradient
// -> {d x (when needs[0]), d w, d bias, d bn weight, d bn bias}: one backend call on the forward's
// buffers (a training record).
std::vector<Tensor> conv_block_backward_kernel(const OpRecord& rec, const Tensor& g, bool need_gx) {
  const auto& in = rec.inputs;
  const ConvBlockPlan& plan = rec.conv_block;
  const std::int64_t k = plan.conv.k;
  Tensor gx = need_gx ? empty(in[0].shape(), in[0].dtype(), in[0].device()) : Tensor();
  // The channel-blocked layout as in the forward: gy's where the block after left it; gx's for the
  // block before when that block left x so (its backward reads it).
  Backend& backend = backend_for(g.device());
  const ConvBlockSizes sizes = backend.conv_block_sizes(plan);
  ChannelBlockedArgs blocked;
  const Tensor& x_blocked = rec.saved[2 + kConvBlockSaved];
  if (x_blocked.defined()) blocked.x = x_blocked.raw_data();
  const Tensor gy_blocked = sizes.blocked_gy ? channel_blocked_of(g, sizes.lanes) : Tensor();
  if (gy_blocked.defined()) blocked.gy = gy_blocked.raw_data();
  const Tensor gc = gy_blocked.defined() ? Tensor() : g.contiguous();  // g's plain values are not read
  Tensor gx_blocked;
  if (need_gx && sizes.blocked_gx && x_blocked.defined()) {
    gx_blocked = channel_blocked_buffer(gx.shape(), sizes.lanes, gx.device());
    blocked.gx = gx_blocked.raw_data();
  }
  Tensor gw = empty(in[1].shape(), in[1].dtype(), in[1].device()), gb = empty({k}, in[0].dtype(), in[0].device());
  Tensor ggamma = empty({k}, in[0].dtype(), in[0].device()), gbeta = empty({k}, in[0].dtype(), in[0].device());
  const void* saved[kConvBlockSaved];
  for (int i = 0; i < kConvBlockSaved; ++i) saved[i] = rec.saved[2 + i].numel() > 0 ? rec.saved[2 + i].raw_data() : nullptr;
  const Tensor xc = in[0].contiguous(), wc = in[1].contiguous(), gamma = in[3].contiguous();
  backend.conv_block_backward(plan, gx.defined() && !gx_blocked.defined() ? gx.raw_data() : nullptr, gw.raw_data(),
                              gb.raw_data(), ggamma.raw_data(), gbeta.raw_data(), gc.defined() ? gc.raw_data() : nullptr, saved,
                              rec.saved[0].raw_data(), rec.saved[1].raw_data(), x_blocked.defined() ? nullptr : xc.raw_data(),
                              wc.raw_data(), gamma.raw_data(), in[4].raw_data(), blocked);
  if (gx_blocked.defined()) set_channel_blocked(gx, gx_blocked, false);
  return {gx, gw, gb, ggamma, gbeta};
}

}  // namespace detail

}  // namespace tinynn
