// conv2d, the pools and batch_norm: argument checks (each error prints the shapes and the rule),
// plans, and the records autograd turns into nodes. conv2d and avg_pool2d are structural ops with
// backward ops of their own (core/detail/window_ops.h); max_pool2d is recorded as the gather of
// the winners, so its gradient is a scatter_add; adaptive pooling and batch_norm are composites.
#include "conv.h"

#include <fmt/format.h>

#include <cmath>

#include "backend.h"
#include "creation.h"
#include "detail/autograd_hooks.h"
#include "detail/channel_blocked.h"
#include "detail/plan.h"
#include "detail/window_ops.h"
#include "error.h"
#include "grad_mode.h"
#include "ops.h"
#include "reduce.h"
#include "shape_ops.h"

namespace tinynn {

namespace {

std::string size2_str(Size2 v) { return fmt::format("({}, {})", v[0], v[1]); }

void check_image_input(const char* fn, const Tensor& x) {
  if (x.dim() != 4)
    throw ShapeError(fmt::format("tinynn::{}: expected a 4-D input [N, C, H, W], got {}", fn, shape_str(x.shape())));
  if (!is_floating(x.dtype()))
    throw DTypeError(fmt::format("tinynn::{}: expected a float32 or float64 input, got {}", fn, dtype_name(x.dtype())));
}

void check_positive(const char* fn, const char* what, Size2 v) {
  if (v[0] < 1 || v[1] < 1) throw ValueError(fmt::format("tinynn::{}: {} must be positive, got {}", fn, what, size2_str(v)));
}

void check_non_negative(const char* fn, const char* what, Size2 v) {
  if (v[0] < 0 || v[1] < 0) throw ValueError(fmt::format("tinynn::{}: {} must not be negative, got {}", fn, what, size2_str(v)));
}

// PyTorch's pooling output size: floor (or ceil) of the windows that fit, and with ceil_mode no
// window that starts past the input and its left padding.
std::int64_t pooled_size(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad, std::int64_t dil, bool ceil) {
  const std::int64_t span = in + 2 * pad - dil * (k - 1) - 1;
  if (span < 0) return 0;
  std::int64_t out = (span + (ceil ? stride - 1 : 0)) / stride + 1;
  if (ceil && (out - 1) * stride >= in + pad) --out;
  return out;
}

}  // namespace

PoolPlan detail::pool_plan(const char* fn, const Tensor& x, Size2 kernel, std::optional<Size2> stride_opt, Size2 padding,
                           Size2 dilation, bool ceil_mode) {
  check_image_input(fn, x);
  const Size2 stride = stride_opt.value_or(kernel);
  check_positive(fn, "kernel_size", kernel);
  check_positive(fn, "stride", stride);
  check_positive(fn, "dilation", dilation);
  check_non_negative(fn, "padding", padding);
  if (2 * padding[0] > kernel[0] || 2 * padding[1] > kernel[1])
    throw ValueError(fmt::format("tinynn::{}: padding {} must be at most half the kernel size {}", fn, size2_str(padding),
                                 size2_str(kernel)));
  PoolPlan pl;
  pl.n = x.shape()[0], pl.c = x.shape()[1], pl.h = x.shape()[2], pl.w = x.shape()[3];
  pl.kh = kernel[0], pl.kw = kernel[1], pl.stride_h = stride[0], pl.stride_w = stride[1];
  pl.pad_h = padding[0], pl.pad_w = padding[1], pl.dil_h = dilation[0], pl.dil_w = dilation[1];
  pl.p = pooled_size(pl.h, pl.kh, pl.stride_h, pl.pad_h, pl.dil_h, ceil_mode);
  pl.q = pooled_size(pl.w, pl.kw, pl.stride_w, pl.pad_w, pl.dil_w, ceil_mode);
  if (pl.p < 1 || pl.q < 1)
    throw ShapeError(fmt::format("tinynn::{}: input {} is too small for kernel {} with padding {} and dilation {} "
                                 "(the window must fit in the padded input)",
                                 fn, shape_str(x.shape()), size2_str(kernel), size2_str(padding), size2_str(dilation)));
  return pl;
}

namespace detail {

namespace {

// A convolution pass's tensors in the channel-blocked layout (channel_blocked.h) where the backend
// takes them so (Backend::conv2d_layouts): an input whose storage holds them (its twin, which the
// convolution before wrote) goes as that, with no reorder; an output the backend writes so becomes
// its tensor's twin, the plain values written only when something reads them (a convolution after
// does not).
Tensor blocked_input(const Tensor& t, bool taken, int lanes) { return taken ? channel_blocked_of(t, lanes) : Tensor(); }
Tensor blocked_output(const Tensor& t, bool written, int lanes) {
  return written ? channel_blocked_buffer(t.shape(), lanes, t.device()) : Tensor();
}
void* data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }
// The plain values of t as the pass reads them: none when it reads the blocked ones.
Tensor plain_unless(const Tensor& t, const Tensor& blocked) { return blocked.defined() ? Tensor() : t.contiguous(); }

}  // namespace

// x [N, C, H, W], w [K, C/G, R, S], bias [K] or undefined -> y [N, K, P, Q]
Tensor conv2d_planned(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvPlan& plan) {
  Backend& backend = backend_for(x.device());
  const Tensor wc = w.to(x.dtype()).contiguous();
  const Tensor bc = bias.defined() ? bias.to(x.dtype()).contiguous() : Tensor();
  Tensor y = empty({plan.n, plan.k, plan.p, plan.q}, x.dtype(), x.device());
  if (y.numel() > 0) {
    if (plan.c == 0) {
      y = bias.defined() ? (zeros_like(y) + bc.reshape({1, plan.k, 1, 1})).contiguous() : zeros_like(y);
    } else {
      const ConvLayouts l = backend.conv2d_layouts(plan, x.dtype(), ConvPass::Forward, bias.defined());
      const Tensor x_blocked = blocked_input(x, l.x, l.lanes), y_blocked = blocked_output(y, l.y, l.lanes);
      const Tensor xc = plain_unless(x, x_blocked);
      backend.conv2d(plan, x.dtype(), y_blocked.defined() ? nullptr : y.raw_data(), data_or_null(xc), wc.raw_data(),
                     data_or_null(bc), {data_or_null(x_blocked), data_or_null(y_blocked), nullptr, nullptr});
      if (y_blocked.defined()) set_channel_blocked(y, y_blocked, false);
    }
  }
  OpRecord rec{OpKind::Conv2d, bias.defined() ? std::vector<Tensor>{x, w, bias} : std::vector<Tensor>{x, w}};
  rec.conv = plan;
  return recorded(std::move(rec), y);
}

// gy [N, K, P, Q], w [K, C/G, R, S] -> gx [N, C, H, W]
Tensor conv2d_backward_data(const Tensor& gy, const Tensor& w, const ConvPlan& plan) {
  Backend& backend = backend_for(gy.device());
  const Tensor wc = w.to(gy.dtype()).contiguous();
  Tensor gx = empty({plan.n, plan.c, plan.h, plan.w}, gy.dtype(), gy.device());
  if (gx.numel() > 0) {
    if (plan.k == 0 || gy.numel() == 0) {
      gx = zeros_like(gx);
    } else {
      const ConvLayouts l = backend.conv2d_layouts(plan, gy.dtype(), ConvPass::BackwardData, false);
      const Tensor gy_blocked = blocked_input(gy, l.gy, l.lanes), gx_blocked = blocked_output(gx, l.gx, l.lanes);
      const Tensor gc = plain_unless(gy, gy_blocked);
      backend.conv2d_backward_data(plan, gy.dtype(), gx_blocked.defined() ? nullptr : gx.raw_data(), data_or_null(gc),
                                   wc.raw_data(), {nullptr, nullptr, data_or_null(gy_blocked), data_or_null(gx_blocked)});
      if (gx_blocked.defined()) set_channel_blocked(gx, gx_blocked, false);
    }
  }
  OpRecord rec{OpKind::Conv2dBackwardData, {gy, w}};
  rec.conv = plan;
  return recorded(std::move(rec), gx);
}

// x [N, C, H, W], gy [N, K, P, Q] -> gw [K, C/G, R, S]
Tensor conv2d_backward_weight(const Tensor& x, const Tensor& gy, const ConvPlan& plan) {
  Backend& backend = backend_for(x.device());
  Tensor gw = empty({plan.k, plan.c / plan.groups, plan.r, plan.s}, x.dtype(), x.device());
  if (gw.numel() > 0) {
    if (plan.n == 0 || gy.numel() == 0) {
      gw = zeros_like(gw);
    } else {
      // Asked only when an input comes blocked: the pass writes nothing blocked, and the question may
      // cost a primitive (the first layer's weight gradient runs tinynn's own loop on plain inputs).
      const bool blocked = (has_twin(x) || has_twin(gy)) && gy.dtype() == x.dtype();
      const ConvLayouts l = blocked ? backend.conv2d_layouts(plan, x.dtype(), ConvPass::BackwardWeight, false) : ConvLayouts{};
      const Tensor x_blocked = blocked_input(x, l.x, l.lanes), gy_blocked = blocked_input(gy, l.gy, l.lanes);
      const Tensor xc = plain_unless(x, x_blocked), gc = gy_blocked.defined() ? Tensor() : gy.to(x.dtype()).contiguous();
      backend.conv2d_backward_weight(plan, x.dtype(), gw.raw_data(), data_or_null(xc), data_or_null(gc),
                                     {data_or_null(x_blocked), nullptr, data_or_null(gy_blocked), nullptr});
    }
  }
  OpRecord rec{OpKind::Conv2dBackwardWeight, {x, gy}};
  rec.conv = plan;
  return recorded(std::move(rec), gw);
}

// x [N, C, H, W] -> [N, C, P, Q]
Tensor avg_pool2d_planned(const Tensor& x, const PoolPlan& plan) {
  const Tensor xc = x.contiguous();
  Tensor y = empty({plan.n, plan.c, plan.p, plan.q}, x.dtype(), x.device());
  if (y.numel() > 0) backend_for(x.device()).avg_pool2d(plan, x.dtype(), y.raw_data(), xc.raw_data());
  OpRecord rec{OpKind::AvgPool2d, {x}};
  rec.pool = plan;
  return recorded(std::move(rec), y);
}

// gy [N, C, P, Q] -> gx [N, C, H, W]
Tensor avg_pool2d_backward(const Tensor& gy, const PoolPlan& plan) {
  const Tensor gc = gy.contiguous();
  Tensor gx = empty({plan.n, plan.c, plan.h, plan.w}, gy.dtype(), gy.device());
  if (gx.numel() > 0) backend_for(gy.device()).avg_pool2d_backward(plan, gy.dtype(), gx.raw_data(), gc.raw_data());
  OpRecord rec{OpKind::AvgPool2dBackward, {gy}};
  rec.pool = plan;
  return recorded(std::move(rec), gx);
}

}  // namespace detail

ConvPlan detail::conv_plan(const Tensor& x, const Tensor& w, const Tensor& bias, Size2 stride, Size2 padding, Size2 dilation,
                           std::int64_t groups) {
  const char* fn = "conv2d";
  check_image_input(fn, x);
  if (w.dim() != 4)
    throw ShapeError(fmt::format("tinynn::conv2d: expected a 4-D weight [out_channels, in_channels / groups, kH, kW], got {}",
                                 shape_str(w.shape())));
  detail::check_same_device(fn, x, w);
  if (w.dtype() != x.dtype())
    throw DTypeError(fmt::format("tinynn::conv2d: input is {} but weight is {}", dtype_name(x.dtype()), dtype_name(w.dtype())));
  check_positive(fn, "stride", stride);
  check_positive(fn, "dilation", dilation);
  check_non_negative(fn, "padding", padding);
  if (groups < 1) throw ValueError(fmt::format("tinynn::conv2d: groups must be positive, got {}", groups));
  const std::int64_t c = x.shape()[1], k = w.shape()[0];
  if (c % groups != 0 || k % groups != 0)
    throw ShapeError(fmt::format("tinynn::conv2d: input channels ({}) and output channels ({}) must both be divisible by "
                                 "groups ({}); input {}, weight {}",
                                 c, k, groups, shape_str(x.shape()), shape_str(w.shape())));
  if (w.shape()[1] != c / groups)
    throw ShapeError(fmt::format("tinynn::conv2d: weight {} expects {} input channels per group, but input {} has {} channels "
                                 "in {} group(s), {} per group",
                                 shape_str(w.shape()), w.shape()[1], shape_str(x.shape()), c, groups, c / groups));
  if (bias.defined()) {
    detail::check_same_device(fn, x, bias);
    if (bias.shape() != Shape{k})
      throw ShapeError(fmt::format("tinynn::conv2d: bias {} must be [{}], one value per output channel of weight {}",
                                   shape_str(bias.shape()), k, shape_str(w.shape())));
  }
  ConvPlan pl;
  pl.n = x.shape()[0], pl.c = c, pl.h = x.shape()[2], pl.w = x.shape()[3];
  pl.k = k, pl.r = w.shape()[2], pl.s = w.shape()[3];
  pl.stride_h = stride[0], pl.stride_w = stride[1], pl.pad_h = padding[0], pl.pad_w = padding[1];
  pl.dil_h = dilation[0], pl.dil_w = dilation[1], pl.groups = groups;
  const std::int64_t span_h = pl.h + 2 * pl.pad_h - pl.dil_h * (pl.r - 1) - 1, span_w = pl.w + 2 * pl.pad_w - pl.dil_w * (pl.s - 1) - 1;
  if (span_h < 0 || span_w < 0)
    throw ShapeError(fmt::format("tinynn::conv2d: kernel {}x{} (dilation {}) is larger than the padded input {}x{} (input {}, "
                                 "padding {})",
                                 pl.dil_h * (pl.r - 1) + 1, pl.dil_w * (pl.s - 1) + 1, size2_str(dilation), pl.h + 2 * pl.pad_h,
                                 pl.w + 2 * pl.pad_w, shape_str(x.shape()), size2_str(padding)));
  pl.p = span_h / pl.stride_h + 1, pl.q = span_w / pl.stride_w + 1;
  return pl;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, Size2 stride, Size2 padding, Size2 dilation,
              std::int64_t groups) {
  return detail::conv2d_planned(x, w, bias, detail::conv_plan(x, w, bias, stride, padding, dilation, groups));
}

Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding, Size2 dilation, bool ceil_mode) {
  const PoolPlan pl = detail::pool_plan("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode);
  const Tensor xc = x.contiguous();
  Tensor y = empty({pl.n, pl.c, pl.p, pl.q}, x.dtype(), x.device());
  Tensor indices = empty({pl.n, pl.c, pl.p, pl.q}, DType::Int64, x.device());
  if (y.numel() > 0)
    backend_for(x.device()).max_pool2d(pl, x.dtype(), y.raw_data(), indices.data_ptr<std::int64_t>(), xc.raw_data());
  if (!detail::should_record({&x})) return y;
  // The output is the gather of the winners from each plane, so the gradient goes back by a
  // scatter_add (and the second-order gradient by a gather) with no formula of its own.
  const Tensor planes = x.reshape({pl.n, pl.c, pl.h * pl.w});
  detail::OpRecord rec{detail::OpKind::Gather, {planes, indices.reshape({pl.n, pl.c, pl.p * pl.q})}};
  rec.axis = 2;
  return detail::recorded(std::move(rec), y.reshape({pl.n, pl.c, pl.p * pl.q})).reshape({pl.n, pl.c, pl.p, pl.q});
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding, bool ceil_mode,
                  bool count_include_pad) {
  PoolPlan pl = detail::pool_plan("avg_pool2d", x, kernel_size, stride, padding, {1, 1}, ceil_mode);
  pl.count_include_pad = count_include_pad;
  return detail::avg_pool2d_planned(x, pl);
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  check_image_input("adaptive_avg_pool2d", x);
  check_positive("adaptive_avg_pool2d", "output_size", output_size);
  const std::int64_t h = x.shape()[2], w = x.shape()[3], p = output_size[0], q = output_size[1];
  if (h < 1 || w < 1)
    throw ShapeError(fmt::format("tinynn::adaptive_avg_pool2d: input {} has an empty plane", shape_str(x.shape())));
  // Windows of one size at one stride: one average pool.
  if (h % p == 0 && w % q == 0) return avg_pool2d(x, {h / p, w / q});
  // Otherwise each output row (column) has its own window, floor(i H / P) .. ceil((i + 1) H / P).
  std::vector<Tensor> rows;
  for (std::int64_t i = 0; i < p; ++i) {
    const std::int64_t h0 = i * h / p, h1 = ((i + 1) * h + p - 1) / p;
    std::vector<Tensor> cells;
    for (std::int64_t j = 0; j < q; ++j) {
      const std::int64_t w0 = j * w / q, w1 = ((j + 1) * w + q - 1) / q;
      cells.push_back(mean(x.slice(2, h0, h1).slice(3, w0, w1), {2, 3}, true));
    }
    rows.push_back(cat(cells, 3));
  }
  return cat(rows, 2);
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight, const Tensor& bias,
                  bool training, double momentum, double eps) {
  if (x.dim() < 2)
    throw ShapeError(fmt::format("tinynn::batch_norm: expected an input [N, C, ...], got {}", shape_str(x.shape())));
  if (!is_floating(x.dtype()))
    throw DTypeError(fmt::format("tinynn::batch_norm: expected a float32 or float64 input, got {}", dtype_name(x.dtype())));
  const std::int64_t c = x.shape()[1];
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"running_mean", &running_mean},
                                {"running_var", &running_var}, {"weight", &weight}, {"bias", &bias}})
    if (t->defined()) {
      if (t->shape() != Shape{c})
        throw ShapeError(fmt::format("tinynn::batch_norm: {} {} must be [{}], one value per channel of input {}", name,
                                     shape_str(t->shape()), c, shape_str(x.shape())));
      detail::check_same_device("batch_norm", x, *t);
    }
  BatchNormPlan plan;
  plan.n = x.shape()[0], plan.c = c, plan.inner = plan.n * c == 0 ? 0 : x.numel() / (plan.n * c);
  plan.eps = eps, plan.batch_statistics = training;
  const std::int64_t count = plan.n * plan.inner;
  Backend& backend = backend_for(x.device());
  const Tensor xc = x.contiguous();
  Tensor mean_c, invstd;
  if (training) {
    if (count < 2)
      throw ShapeError(fmt::format("tinynn::batch_norm: training needs more than one value per channel, got input {}",
                                   shape_str(x.shape())));
    mean_c = empty({c}, x.dtype(), x.device()), invstd = empty({c}, x.dtype(), x.device());
    Tensor var_c = empty({c}, x.dtype(), x.device());
    backend.batch_norm_stats(plan, x.dtype(), mean_c.raw_data(), var_c.raw_data(), invstd.raw_data(), xc.raw_data());
    // The running statistics move in place (a Tensor is a handle: this writes the caller's
    // storage), the variance with Bessel's correction, as PyTorch. Nothing here records a graph.
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    if (Tensor rm = running_mean; rm.defined()) rm.copy_(rm * (1.0 - momentum) + mean_c * momentum);
    if (Tensor rv = running_var; rv.defined()) rv.copy_(rv * (1.0 - momentum) + var_c * (momentum * unbias));
  } else {
    if (!running_mean.defined() || !running_var.defined())
      throw ValueError("tinynn::batch_norm: eval mode needs running_mean and running_var");
    mean_c = running_mean.to(x.dtype()).contiguous();
    invstd = rsqrt(running_var.to(x.dtype()) + eps).contiguous();
  }
  const Tensor wc = weight.defined() ? weight.to(x.dtype()).contiguous() : Tensor();
  const Tensor bc = bias.defined() ? bias.to(x.dtype()).contiguous() : Tensor();
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  if (y.numel() > 0)
    backend.batch_norm_apply(plan, x.dtype(), y.raw_data(), xc.raw_data(), mean_c.raw_data(), invstd.raw_data(),
                             wc.defined() ? wc.raw_data() : nullptr, bc.defined() ? bc.raw_data() : nullptr);
  detail::OpRecord rec{detail::OpKind::BatchNorm, {x}};
  rec.axes = {-1, -1};
  if (weight.defined()) rec.axes[0] = static_cast<std::int64_t>(rec.inputs.size()), rec.inputs.push_back(weight);
  if (bias.defined()) rec.axes[1] = static_cast<std::int64_t>(rec.inputs.size()), rec.inputs.push_back(bias);
  rec.batch_norm = plan;
  rec.saved = {mean_c, invstd};
  return detail::recorded(std::move(rec), y);
}

namespace detail {

// x, g [N, C, ...], weight [C] or undefined, mean and invstd [C] -> {d x, d weight, d bias}
std::vector<Tensor> batch_norm_backward_kernel(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& invstd,
                                               const Tensor& g, const BatchNormPlan& plan) {
  const Tensor xc = x.contiguous(), gc = g.to(x.dtype()).contiguous();
  const Tensor wc = weight.defined() ? weight.to(x.dtype()).contiguous() : Tensor();
  Tensor gx = empty(x.shape(), x.dtype(), x.device()), gw = empty({plan.c}, x.dtype(), x.device()),
         gb = empty({plan.c}, x.dtype(), x.device());
  backend_for(x.device())
      .batch_norm_backward(plan, x.dtype(), gx.raw_data(), gw.raw_data(), gb.raw_data(), gc.raw_data(), xc.raw_data(),
                           mean.raw_data(), invstd.raw_data(), wc.defined() ? wc.raw_data() : nullptr);
  return {gx, weight.defined() ? gw : Tensor(), gb};
}

}  // namespace detail

}  // namespace tinynn
