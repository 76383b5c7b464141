// BatchNorm1d and LayerNorm, composed from differentiable tensor ops.
#include "normalization.h"

#include <fmt/format.h>

#include "../autograd/autograd.h"
#include "../core/creation.h"
#include "../core/error.h"
#include "../core/ops.h"
#include "../core/reduce.h"

namespace tinynn::nn {

BatchNorm1d::BatchNorm1d(std::int64_t num_features, double eps, double momentum, bool affine)
    : features_(num_features), eps_(eps), momentum_(momentum) {
  if (num_features <= 0) throw ValueError(fmt::format("tinynn::nn::BatchNorm1d: num_features must be positive, got {}", num_features));
  if (affine) {
    weight_ = register_parameter("weight", ones({num_features}));
    bias_ = register_parameter("bias", zeros({num_features}));
  }
  running_mean_ = register_buffer("running_mean", zeros({num_features}));
  running_var_ = register_buffer("running_var", ones({num_features}));
}

std::string BatchNorm1d::describe() const { return fmt::format("BatchNorm1d({})", features_); }

// x: [N, C] or [N, C, L] -> same shape
Tensor BatchNorm1d::forward(const Tensor& x) {
  if ((x.dim() != 2 && x.dim() != 3) || x.shape()[1] != features_)
    throw ShapeError(fmt::format("tinynn::nn::{}: expected input [N, {}] or [N, {}, L], got {}", describe(), features_,
                                 features_, shape_str(x.shape())));
  const Axes axes = x.dim() == 2 ? Axes{0} : Axes{0, 2};
  const Shape channel_shape = x.dim() == 2 ? Shape{1, features_} : Shape{1, features_, 1};
  Tensor mean_c, var_c;
  if (is_training()) {
    const std::int64_t n = x.numel() / features_;
    if (n < 2)
      throw ShapeError(fmt::format("tinynn::nn::{}: training needs more than one value per channel, got input {}",
                                   describe(), shape_str(x.shape())));
    mean_c = mean(x, axes, true);
    var_c = var(x, axes, true, 0);
    NoGradGuard no_grad;
    const double unbias = static_cast<double>(n) / static_cast<double>(n - 1);
    running_mean_.copy_(running_mean_ * (1.0 - momentum_) + mean_c.detach().reshape({features_}) * momentum_);
    running_var_.copy_(running_var_ * (1.0 - momentum_) + var_c.detach().reshape({features_}) * (momentum_ * unbias));
  } else {
    mean_c = running_mean_.reshape(channel_shape);
    var_c = running_var_.reshape(channel_shape);
  }
  Tensor y = (x - mean_c) * rsqrt(var_c + eps_);
  if (weight_.defined()) y = y * weight_.reshape(channel_shape) + bias_.reshape(channel_shape);
  return y;
}

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine)
    : shape_(std::move(normalized_shape)), eps_(eps) {
  if (shape_.empty()) throw ValueError("tinynn::nn::LayerNorm: normalized_shape must not be empty");
  if (elementwise_affine) {
    weight_ = register_parameter("weight", ones(shape_));
    bias_ = register_parameter("bias", zeros(shape_));
  }
}

std::string LayerNorm::describe() const { return fmt::format("LayerNorm({})", shape_str(shape_)); }

Tensor LayerNorm::forward(const Tensor& x) {
  const auto k = static_cast<int>(shape_.size());
  if (x.dim() < k || Shape(x.shape().end() - k, x.shape().end()) != shape_)
    throw ShapeError(fmt::format("tinynn::nn::{}: input of shape {} does not end in {}", describe(),
                                 shape_str(x.shape()), shape_str(shape_)));
  Axes axes;
  for (int d = x.dim() - k; d < x.dim(); ++d) axes.push_back(d);
  Tensor y = (x - mean(x, axes, true)) * rsqrt(var(x, axes, true, 0) + eps_);
  if (weight_.defined()) y = y * weight_ + bias_;
  return y;
}

}  // namespace tinynn::nn
