// Builds kernel plans from tensors: aligns every operand to a common shape (stride 0 on
// broadcast axes), drops size-1 axes and merges axes that are contiguous for every operand,
// so kernels see as few and as long inner runs as possible.
#pragma once
#include <array>
#include <string>

#include <fmt/format.h>

#include "../backend.h"
#include "../error.h"
#include "../tensor.h"

namespace tinynn::detail {

// Strides of `t` viewed at `shape` (t's shape must broadcast to it).
inline Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  Shape out(shape.size(), 0);
  const std::size_t lead = shape.size() - static_cast<std::size_t>(t.dim());
  for (std::size_t i = 0; i < static_cast<std::size_t>(t.dim()); ++i)
    out[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return out;
}

template <int N>
ElementwisePlan<N> make_elementwise_plan(const Shape& shape, const std::array<Shape, N>& strides) {
  ElementwisePlan<N> plan;
  // Walk from the innermost axis outwards, merging into the current axis when possible.
  std::array<Shape, N> merged_strides;
  Shape merged_shape;
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    bool can_merge = !merged_shape.empty();
    for (int k = 0; k < N && can_merge; ++k)
      can_merge = strides[k][i] == merged_strides[k].back() * merged_shape.back();
    if (can_merge) {
      merged_shape.back() *= shape[i];
    } else {
      merged_shape.push_back(shape[i]);
      for (int k = 0; k < N; ++k) merged_strides[k].push_back(strides[k][i]);
    }
  }
  if (merged_shape.size() > static_cast<std::size_t>(kMaxDims))
    throw ShapeError(fmt::format("tinynn: {} has more than {} non-mergeable dimensions", shape_str(shape), kMaxDims));
  plan.ndim = static_cast<int>(merged_shape.size());
  for (int d = 0; d < plan.ndim; ++d) {
    const int src = plan.ndim - 1 - d;  // merged lists run innermost first
    plan.shape[d] = merged_shape[src];
    for (int k = 0; k < N; ++k) plan.strides[k][d] = merged_strides[k][src];
  }
  if (numel_of(shape) == 0) {  // an empty iteration: one zero-size axis is enough
    plan.ndim = 1;
    plan.shape[0] = 0;
  }
  return plan;
}

// Plan over `out`'s shape with each operand broadcast to it.
template <int N>
ElementwisePlan<N> plan_for(const Tensor& out, const std::array<const Tensor*, N - 1>& inputs) {
  std::array<Shape, N> strides;
  strides[0] = out.strides();
  for (int k = 1; k < N; ++k) strides[k] = broadcast_strides(*inputs[k - 1], out.shape());
  return make_elementwise_plan<N>(out.shape(), strides);
}

void check_same_device(const char* fn, const Tensor& a, const Tensor& b);
// Copies src (any layout and dtype, broadcast to dst's shape) into dst's memory; records nothing.
void copy_tensor(const Tensor& dst, const Tensor& src);

}  // namespace tinynn::detail
