// Backward formulas of the structural ops (reductions, scans, views, indexing, matmul,
// conversions) and the dispatch over every OpKind. Each formula is differentiable tensor code.
#include <fmt/format.h>

#include "../core/creation.h"
#include "../core/error.h"
#include "../core/linear.h"
#include "../core/ops.h"
#include "../core/reduce.h"
#include "../core/shape_ops.h"
#include "autograd.h"
#include "detail/formulas.h"
#include "detail/node.h"

namespace tinynn {

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const std::size_t lead = g.shape().size() - shape.size();
  Axes axes;
  for (std::size_t i = 0; i < g.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(static_cast<std::int64_t>(i));
  return (axes.empty() ? g : sum(g, axes, true)).reshape(shape);
}

namespace detail {

namespace {

// g reshaped so it broadcasts against the reduction's input: reduced axes become size 1.
Tensor with_reduced_axes_kept(const Tensor& g, const OpRecord& rec) {
  if (rec.keepdim) return g;
  Tensor out = g;
  for (auto axis : rec.axes) out = out.unsqueeze(axis);  // axes ascend, so positions line up
  return out;
}

// x: input; g: reduced shape -> dL/dx
Tensor reduce_backward(const OpRecord& rec, const Tensor& x, const Tensor& out, const Tensor& g) {
  const Tensor gk = with_reduced_axes_kept(g, rec);
  switch (rec.reduce) {
    case ReduceOp::Sum: return gk.expand(x.shape());
    case ReduceOp::SumSquares: return x * (gk * 2.0);
    case ReduceOp::Max:
    case ReduceOp::Min: {
      // Ties share the gradient evenly, as torch.amax/amin do.
      const Tensor winners = (x == with_reduced_axes_kept(out, rec)).to(x.dtype());
      return winners * gk / sum(winners, rec.axes, true);
    }
    case ReduceOp::Prod: {
      // d prod / d x_i = product of the others, from exclusive running products in both
      // directions: exact with zeros (no division), and differentiable again.
      Axes perm, kept;
      Shape kept_shape;
      std::int64_t length = 1;
      for (int d = 0; d < x.dim(); ++d)
        if (std::find(rec.axes.begin(), rec.axes.end(), d) == rec.axes.end()) {
          perm.push_back(d);
          kept_shape.push_back(x.shape()[d]);
        }
      for (auto a : rec.axes) {
        perm.push_back(a);
        length *= x.shape()[a];
      }
      if (length == 0) return zeros_like(x);
      Shape flat_shape = kept_shape;
      flat_shape.push_back(length);
      const Tensor xp = x.permute(perm).reshape(flat_shape);
      Shape one_shape = kept_shape;
      one_shape.push_back(1);
      const Tensor one = ones(one_shape, {x.dtype(), x.device()});
      const Tensor before = cat({one, cumprod(xp, -1).narrow(-1, 0, length - 1)}, -1);
      const Tensor after = flip(cat({one, cumprod(flip(xp, -1), -1).narrow(-1, 0, length - 1)}, -1), -1);
      const Tensor gx = (before * after * g.reshape(one_shape));
      Shape permuted_shape;
      for (auto d : perm) permuted_shape.push_back(x.shape()[d]);
      Axes inverse(perm.size());
      for (std::size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<std::int64_t>(i);
      return gx.reshape(permuted_shape).permute(inverse);
    }
    default: break;
  }
  throw Error("tinynn::backward: argmax/argmin have no gradient");
}

// x: input; out and g: x's shape -> dL/dx, where dL/dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k
Tensor cumprod_backward(const Tensor& x, const Tensor& out, const Tensor& g, std::int64_t axis) {
  if (sum(x == 0.0).item<std::int64_t>() == 0) {
    // No zeros: prod_{k <= j, k != i} x_k = out_j / x_i, so a reversed running sum suffices.
    const Tensor y = is_grad_enabled() ? cumprod(x, axis) : out;
    return flip(cumsum(flip(g * y, axis), axis), axis) / x;
  }
  // With zeros: build every "running product without x_i" explicitly, O(L^2) along the axis.
  const Tensor xt = x.transpose(axis, -1), gt = g.transpose(axis, -1);  // [.., L]
  const std::int64_t length = xt.size(-1);
  const Tensor positions = arange(0, length, 1, {DType::Int64, x.device()});
  const Tensor diagonal = positions.unsqueeze(1) == positions.unsqueeze(0);           // [L(i), L(k)]
  const Tensor without_i = cumprod(where(diagonal, 1.0, xt.unsqueeze(-2)), -1);       // [.., L(i), L(j)]
  const Tensor j_at_least_i = (positions.unsqueeze(0) >= positions.unsqueeze(1)).to(x.dtype());
  return sum(without_i * gt.unsqueeze(-2) * j_at_least_i, {-1}).transpose(axis, -1);
}

Axes inverse_permutation(const Axes& order) {
  Axes inverse(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) inverse[static_cast<std::size_t>(order[i])] = static_cast<std::int64_t>(i);
  return inverse;
}

// src (scatter_add's source) has shape >= index's; the gradient is gathered at the index and
// zero beyond it.
Tensor scatter_source_backward(const Tensor& g, const Tensor& index, const Shape& src_shape, std::int64_t axis) {
  Tensor gs = gather(g, axis, index);
  for (int d = 0; d < gs.dim(); ++d)
    if (gs.shape()[d] != src_shape[d]) {
      Shape full = gs.shape();
      full[d] = src_shape[d];
      gs = slice_backward(gs, full, d, 0, gs.shape()[d], 1);
    }
  return gs;
}

// a: [.., m, k], b: [.., k, n], g: [batch, m, n] -> a^T g summed to b's shape. When b is the
// transposed view of a contiguous matrix (Linear's W^T), the gradient is computed as (g^T a)^T:
// the same product, laid out so that W's gradient comes out contiguous and needs no copy in the
// optimizer or the gradient norm.
// `into` (may be undefined): where the gradient may be written (b's grad slot, seen as b).
Tensor matmul_rhs_backward(const Tensor& a, const Tensor& b, const Tensor& g, const Tensor& into) {
  const bool matrices = b.dim() == 2 && a.dim() == 2;
  const bool transposed_matrix = matrices && b.strides()[0] == 1 && b.strides()[1] == b.shape()[0];
  const bool write_into = matrices && !is_grad_enabled() && into.defined() && into.dtype() == g.dtype() &&
                          into.device() == g.device() && into.shape() == b.shape();
  if (transposed_matrix) {
    if (write_into && into.t().is_contiguous()) {
      matmul_into(into.t(), g.t(), a);
      return into;
    }
    return matmul(g.t(), a).t();
  }
  if (write_into && into.is_contiguous()) {
    matmul_into(into, a.t(), g);
    return into;
  }
  return sum_to_shape(matmul(a.transpose(-1, -2), g), b.shape());
}

// logits [N, C], target [N], lse [N] (saved), g [N] -> d logits [N, C]: one kernel, or under
// create_graph ops (softmax recomputed from the logits) so the gradient is differentiable again.
Tensor softmax_cross_entropy_backward(const OpRecord& rec, const Tensor& g) {
  const Tensor &logits = rec.inputs[0], &target = rec.inputs[1];
  const double eps = rec.params.a;
  if (!is_grad_enabled()) return softmax_cross_entropy_backward_kernel(logits, target, rec.saved[0], g, eps);
  const std::int64_t classes = logits.shape()[1];
  const Tensor coeff = one_hot(target, classes, logits.dtype()) * (1.0 - eps) + eps / static_cast<double>(classes);
  return (softmax(logits, 1) - coeff) * g.unsqueeze(1);
}

// x [.., F], bias [F], y = op(x + bias) [.., F], g [.., F] -> {d x, d bias}. Under create_graph
// the gradient must itself be differentiable, so it comes from ops; otherwise from one kernel.
std::vector<Tensor> bias_activation_backward(const OpRecord& rec, const Tensor& y, const Tensor& g, const Tensor& bias_into) {
  const Tensor &x = rec.inputs[0], &bias = rec.inputs[1];
  if (!is_grad_enabled()) return bias_activation_backward_kernel(x, bias, y, g, rec.unary, rec.params, bias_into);
  const Tensor gx = unary_backward(rec.unary, rec.params, x + bias, y, g);
  return {gx, sum_to_shape(gx, bias.shape())};
}

}  // namespace

std::vector<Tensor> backward_formula(const OpRecord& rec, const Tensor& out, const Tensor& g, const std::vector<bool>& needs,
                                     const std::vector<Tensor>& into) {
  const auto& in = rec.inputs;
  auto into_of = [&into](std::size_t i) { return i < into.size() ? into[i] : Tensor(); };
  switch (rec.kind) {
    case OpKind::Unary: return {unary_backward(rec.unary, rec.params, in[0], out, g)};
    case OpKind::Binary: return binary_backward(rec.binary, in[0], in[1], g, needs);
    case OpKind::Where: return where_backward(in[0], in[1], in[2], g, needs);
    case OpKind::Reduce: return {reduce_backward(rec, in[0], out, g)};
    // cumsum: x, g of one shape -> reversed running sum of g
    case OpKind::CumSum: return {flip(cumsum(flip(g, rec.axis), rec.axis), rec.axis)};
    case OpKind::CumProd: return {cumprod_backward(in[0], out, g, rec.axis)};
    case OpKind::Reshape: return {g.reshape(in[0].shape())};
    case OpKind::Permute: return {g.permute(inverse_permutation(rec.axes))};
    case OpKind::Expand: return {sum_to_shape(g, in[0].shape())};
    case OpKind::Slice: return {slice_backward(g, in[0].shape(), rec.axis, rec.start, rec.end, rec.step)};
    case OpKind::Select: return {slice_backward(g.unsqueeze(rec.axis), in[0].shape(), rec.axis, rec.start, rec.start + 1, 1)};
    case OpKind::SliceBackward: return {g.slice(rec.axis, rec.start, rec.end, rec.step)};
    case OpKind::Cat: {
      // g: the joined shape -> one narrow window per input, back in that input's dtype
      std::vector<Tensor> grads(in.size());
      std::int64_t at = 0;
      for (std::size_t i = 0; i < in.size(); ++i) {
        if (needs[i]) grads[i] = g.narrow(rec.axis, at, rec.shape[i]).to(in[i].dtype());
        at += rec.shape[i];
      }
      return grads;
    }
    // x: [..], index: [..] (int64) -> dL/dx by adding g at the gathered places
    case OpKind::Gather: return {scatter_add_to_zeros(in[0], rec.axis, in[1], g), Tensor()};
    // x, index, src -> {g, none, g gathered at the index}
    case OpKind::ScatterAdd:
      return {needs[0] ? g : Tensor(), Tensor(),
              needs[2] ? scatter_source_backward(g, in[1], in[2].shape(), rec.axis) : Tensor()};
    // a: [.., m, k], b: [.., k, n], g: [batch, m, n] -> {g b^T summed to a, a^T g summed to b}
    case OpKind::Matmul:
      return {needs[0] ? sum_to_shape(matmul(g, in[1].transpose(-1, -2)), in[0].shape()) : Tensor(),
              needs[1] ? matmul_rhs_backward(in[0], in[1], g, into_of(1)) : Tensor()};
    case OpKind::ToDType: return {g.to(in[0].dtype())};
    case OpKind::ToDevice: return {g.to(in[0].device())};
    case OpKind::Clone: return {g};
    case OpKind::Solve:
    case OpKind::Det:
    case OpKind::LogAbsDet:
    case OpKind::Cholesky:
    case OpKind::Svdvals:
    case OpKind::Eigvalsh:
    case OpKind::Pinv: return linalg_backward(rec, out, g, needs);
    case OpKind::SoftmaxCrossEntropy: return {softmax_cross_entropy_backward(rec, g), Tensor()};
    case OpKind::BiasActivation: return bias_activation_backward(rec, out, g, into_of(1));
    case OpKind::Conv2d:
    case OpKind::Conv2dBackwardData:
    case OpKind::Conv2dBackwardWeight:
    case OpKind::AvgPool2d:
    case OpKind::AvgPool2dBackward:
    case OpKind::BatchNorm:
    case OpKind::ConvBlock: return window_backward(rec, g, needs);
    case OpKind::Count_: break;
  }
  throw Error(fmt::format("tinynn::backward: no formula for op kind {}", op_kind_name(rec.kind)));
}

}  // namespace detail
}  // namespace tinynn
