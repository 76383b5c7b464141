// Backward formulas of the convolution and average-pool ops. The three convolution ops are one
// closed family (each one's gradients are the other two), and so are the two pooling ops, so every
// gradient is made of recorded ops and can be differentiated again, to any order.
#include <fmt/format.h>

#include "../core/detail/window_ops.h"
#include "../core/error.h"
#include "../core/reduce.h"
#include "detail/formulas.h"

namespace tinynn::detail {

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
    default: break;
  }
  throw Error(fmt::format("tinynn::backward: {} is not a convolution or pooling op", op_kind_name(rec.kind)));
}

}  // namespace tinynn::detail
