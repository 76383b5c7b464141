// The seam between core and autograd. Core ops describe what they did in an OpRecord and hand
// it to record_op() when a graph must be recorded; autograd (which defines record_op) turns the
// record into a graph node with its backward formula. Core never sees a node or a formula.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "../backend.h"
#include "../tensor.h"

namespace tinynn::detail {

// Every differentiable structural op. Adding one here without a backward formula fails to
// compile (autograd switches over all of them) and without a gradcheck case fails a test.
enum class OpKind {
  Unary, Binary, Where,          // pointwise
  Reduce, CumSum, CumProd,       // reductions and scans (Reduce: Sum/Prod/Max/Min)
  Reshape, Permute, Expand,      // views
  Slice, Select, SliceBackward,  // slicing and its transpose
  Cat, Gather, ScatterAdd,       // assembling and picking
  Matmul, ToDType, ToDevice, Clone,
  Solve, Det, LogAbsDet, Cholesky,  // linear algebra (core/linalg.cpp)
  Svdvals, Eigvalsh, Pinv,
  SoftmaxCrossEntropy,  // fused loss (core/cross_entropy.cpp); params.a: label smoothing
  BiasActivation,       // fused dense-layer epilogue (core/bias_activation.cpp); unary, params
  Conv2d, Conv2dBackwardData, Conv2dBackwardWeight,  // core/conv.cpp; conv: the plan. Each one's
                                                     // gradients are the other two, to any order
  AvgPool2d, AvgPool2dBackward,                      // pool: the plan; each the other's gradient
  BatchNorm,  // fused batch norm (core/conv.cpp): batch_norm plan; saved mean, invstd; axes: where
              // weight and bias stand in the inputs (-1: absent)
  ConvBlock,  // fused conv -> batch norm -> ReLU -> max pool (core/conv_block.cpp): conv_block plan;
              // inputs x, w, bias, bn weight, bn bias; saved mean, var and the backend's buffers
  Count_  // number of kinds, not a kind
};
const char* op_kind_name(OpKind kind);

struct OpRecord {
  OpRecord() = default;
  OpRecord(OpKind k, std::vector<Tensor> in) : kind(k), inputs(std::move(in)) {}

  OpKind kind = OpKind::Clone;
  std::vector<Tensor> inputs;  // in the op's argument order; non-differentiable ones may be included
  UnaryOp unary = UnaryOp::Neg;
  BinaryOp binary = BinaryOp::Add;
  UnaryParams params;
  ReduceOp reduce = ReduceOp::Sum;
  Axes axes;                 // Reduce: reduced axes (normalized); Permute: the order
  bool keepdim = false;
  std::int64_t axis = 0, start = 0, end = 0, step = 1;  // Slice/Select/Cat/Gather/ScatterAdd/scans
  Shape shape;               // SliceBackward: the full shape; Cat: sizes along axis
  std::vector<Tensor> saved;  // other tensors the backward needs (Svdvals: U and Vh; Eigvalsh: vectors)
  ConvPlan conv;             // Conv2d*: the shapes, stride, padding, dilation and groups
  PoolPlan pool;             // AvgPool2d*
  BatchNormPlan batch_norm;  // BatchNorm
  ConvBlockPlan conv_block;  // ConvBlock
};

// True when grad mode is on, the output will be floating point, and some input requires grad.
bool should_record(std::initializer_list<const Tensor*> inputs);
bool should_record(const std::vector<Tensor>& inputs);
// Attaches a graph node to `output` (defined in autograd/).
void record_op(OpRecord record, const Tensor& output);

// Records `record` (its inputs already set) for a floating-point output when needed; returns output.
inline Tensor recorded(OpRecord record, const Tensor& output) {
  if (is_floating(output.dtype()) && should_record(record.inputs)) record_op(std::move(record), output);
  return output;
}

// The fused ops' backward passes as one kernel each (autograd composes ops instead under
// create_graph, where the gradient must itself be differentiable).
// softmax_cross_entropy: d logits.
Tensor softmax_cross_entropy_backward_kernel(const Tensor& logits, const Tensor& target, const Tensor& lse, const Tensor& g,
                                             double label_smoothing);
// unary: g * op'(x) from the table row's derivative, in one pass (x, y = op(x) and g of one
// shape and floating dtype).
Tensor unary_backward_kernel(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& y, const Tensor& g);
// bias_activation: {d x, d bias}; d bias is written into `bias_into` when that is a contiguous
// tensor of the bias's shape, dtype and device (a grad slot).
std::vector<Tensor> bias_activation_backward_kernel(const Tensor& x, const Tensor& bias, const Tensor& y, const Tensor& g,
                                                    UnaryOp op, const UnaryParams& params, const Tensor& bias_into = Tensor());

// conv_block (a training record): {d x (undefined unless need_gx), d w, d bias, d bn weight, d bn bias}.
std::vector<Tensor> conv_block_backward_kernel(const OpRecord& rec, const Tensor& g, bool need_gx);
// batch_norm: {d x, d weight, d bias} (weight may be undefined: 1; then d weight is undefined).
std::vector<Tensor> batch_norm_backward_kernel(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& invstd,
                                               const Tensor& g, const BatchNormPlan& plan);

// scatter_add(zeros_like(like), axis, index, src) without copying the zeros first (gather's
// backward, max pooling's among them).
Tensor scatter_add_to_zeros(const Tensor& like, std::int64_t axis, const Tensor& index, const Tensor& src);

// How many graph nodes of `kind` were recorded so far (tests check every kind is gradchecked).
std::int64_t recorded_op_count(OpKind kind);

// Counts of live TensorImpl objects and autograd nodes (tests check graphs are freed).
std::int64_t live_tensor_count();
std::int64_t live_node_count();

}  // namespace tinynn::detail
