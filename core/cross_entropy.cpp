// The fused softmax cross-entropy: one backend pass forward, one backward. The composite
// (log_softmax, gather, means) costs about fifteen small ops each way, which dominated the loss
// phase of a training step.
#include <fmt/format.h>

#include "backend.h"
#include "creation.h"
#include "detail/autograd_hooks.h"
#include "detail/plan.h"
#include "error.h"

namespace tinynn {

namespace {

CrossEntropyPlan cross_entropy_plan(const Tensor& logits, double label_smoothing) {
  CrossEntropyPlan plan;
  plan.rows = logits.shape()[0];
  plan.classes = logits.shape()[1];
  plan.label_smoothing = label_smoothing;
  return plan;
}

}  // namespace

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& target, double label_smoothing) {
  if (logits.dim() != 2 || !is_floating(logits.dtype()))
    throw ShapeError(fmt::format("tinynn::softmax_cross_entropy: expected floating logits [N, C], got {} {}",
                                 dtype_name(logits.dtype()), shape_str(logits.shape())));
  if (target.dtype() != DType::Int64 || target.dim() != 1 || target.shape()[0] != logits.shape()[0])
    throw ShapeError(fmt::format("tinynn::softmax_cross_entropy: class targets must be int64 [{}], got {} {}",
                                 logits.shape()[0], dtype_name(target.dtype()), shape_str(target.shape())));
  if (!(label_smoothing >= 0.0 && label_smoothing < 1.0))
    throw ValueError(fmt::format("tinynn::softmax_cross_entropy: label_smoothing must be in [0, 1), got {}", label_smoothing));
  detail::check_same_device("softmax_cross_entropy", logits, target);
  const Tensor x = logits.contiguous(), t = target.contiguous();
  const std::int64_t rows = x.shape()[0];
  Tensor loss = empty({rows}, x.dtype(), x.device()), lse = empty({rows}, x.dtype(), x.device());
  if (rows > 0 && x.shape()[1] == 0)
    throw ShapeError("tinynn::softmax_cross_entropy: logits have no classes (shape [N, 0])");
  if (rows > 0)
    backend_for(x.device())
        .cross_entropy(cross_entropy_plan(x, label_smoothing), x.dtype(), loss.raw_data(), lse.raw_data(), x.raw_data(),
                       static_cast<const std::int64_t*>(t.raw_data()));
  detail::OpRecord rec{detail::OpKind::SoftmaxCrossEntropy, {logits, target}};
  rec.params.a = label_smoothing;
  rec.saved = {lse};
  return detail::recorded(std::move(rec), loss);
}

namespace detail {

// logits [N, C], target [N], lse [N] (saved by the forward), g [N] -> d logits [N, C]
Tensor softmax_cross_entropy_backward_kernel(const Tensor& logits, const Tensor& target, const Tensor& lse, const Tensor& g,
                                             double label_smoothing) {
  const Tensor x = logits.contiguous(), t = target.contiguous();
  const Tensor gl = g.to(x.dtype());
  Tensor grad = empty(x.shape(), x.dtype(), x.device());
  if (grad.numel() == 0) return grad;
  CrossEntropyPlan plan = cross_entropy_plan(x, label_smoothing);
  plan.grad_stride = gl.strides()[0];
  backend_for(x.device())
      .cross_entropy_backward(plan, x.dtype(), grad.raw_data(), gl.raw_data(), x.raw_data(), lse.raw_data(),
                              static_cast<const std::int64_t*>(t.raw_data()));
  return grad;
}

}  // namespace detail

}  // namespace tinynn
