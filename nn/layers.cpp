// Linear, activations, Dropout.
#include "layers.h"

#include <fmt/format.h>

#include <cmath>

#include "../core/creation.h"
#include "../core/error.h"
#include "../core/linear.h"
#include "../core/ops.h"
#include "../core/reduce.h"
#include "batch_part.h"
#include "init.h"

namespace tinynn::nn {

Linear::Linear(std::int64_t in_features, std::int64_t out_features, bool bias, Generator* gen)
    : in_(in_features), out_(out_features) {
  if (in_features <= 0 || out_features <= 0)
    throw ValueError(fmt::format("tinynn::nn::Linear: sizes must be positive, got {} -> {}", in_features, out_features));
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  Tensor w = empty({out_features, in_features});
  init::uniform_(w, -bound, bound, gen);
  weight_ = register_parameter("weight", w);
  if (bias) {
    Tensor b = empty({out_features});
    init::uniform_(b, -bound, bound, gen);
    bias_ = register_parameter("bias", b);
  }
}

std::string Linear::describe() const {
  return fmt::format("Linear({} -> {}{})", in_, out_, bias_.defined() ? "" : ", no bias");
}

Tensor Linear::forward(const Tensor& input) {
  if (input.dim() == 0 || input.shape().back() != in_)
    throw ShapeError(fmt::format("tinynn::nn::{}: input of shape {} has {} features, expected {}", describe(),
                                 shape_str(input.shape()), input.dim() == 0 ? 0 : input.shape().back(), in_));
  Tensor y = matmul(input, weight_.t());
  return bias_.defined() ? y + bias_ : y;
}

Tensor Linear::forward_activated(const Tensor& input, UnaryOp op, const UnaryParams& params) {
  if (input.dim() == 0 || input.shape().back() != in_)
    return forward(input);  // forward() throws the shape error
  return bias_activation(matmul(input, weight_.t()), bias_, op, params);
}

Pointwise::Pointwise(UnaryOp op, UnaryParams params) : op_(op), params_(params) {
  if (!unary_op_activation(op).activation)
    throw ValueError(fmt::format("tinynn::nn::Pointwise: '{}' is not an activation of the pointwise table", unary_op_name(op)));
}

std::string Pointwise::describe() const {
  const ActivationTraits traits = unary_op_activation(op_);
  return traits.param ? fmt::format("{}({}={})", unary_op_name(op_), traits.param, params_.a) : type_name();
}

Dropout::Dropout(double p, Generator* gen) : p_(p), gen_(gen) {
  if (!(p >= 0.0 && p < 1.0)) throw ValueError(fmt::format("tinynn::nn::Dropout: p must be in [0, 1), got {}", p));
}

std::string Dropout::describe() const { return fmt::format("Dropout(p={})", p_); }

Tensor Dropout::forward(const Tensor& x) {
  if (!is_training() || p_ == 0.0) return x;
  // The mask holds 1 / (1 - p) where kept: one multiplication forward and one backward. For a
  // part of a data-parallel batch it is drawn for the whole global batch and cut to the part's
  // rows, so every process draws what a single process would.
  const BatchPart& part = current_batch_part();
  if (part.global_size > 0 && x.dim() > 0 && x.shape()[0] != part.global_size) {
    Shape whole = x.shape();
    whole[0] = part.global_size;
    return x * bernoulli(whole, 1.0 - p_, {x.dtype(), x.device()}, gen_, 1.0 / (1.0 - p_)).narrow(0, part.offset, x.shape()[0]);
  }
  return x * bernoulli(x.shape(), 1.0 - p_, {x.dtype(), x.device()}, gen_, 1.0 / (1.0 - p_));
}

}  // namespace tinynn::nn
