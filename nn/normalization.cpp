// BatchNorm (on core's batch_norm) and LayerNorm, composed from differentiable tensor ops.
#include "normalization.h"

#include <fmt/format.h>

#include "../autograd/autograd.h"
#include "../core/conv.h"
#include "../core/creation.h"
#include "../core/error.h"
#include "../core/ops.h"
#include "../core/reduce.h"

namespace tinynn::nn {

BatchNorm::BatchNorm(int spatial_dims, std::int64_t num_features, double eps, double momentum, bool affine)
    : spatial_dims_(spatial_dims), features_(num_features), eps_(eps), momentum_(momentum) {
  if (num_features <= 0)
    throw ValueError(fmt::format("tinynn::nn::{}: num_features must be positive, got {}", type_name(), num_features));
  if (affine) {
    weight_ = register_parameter("weight", ones({num_features}));
    bias_ = register_parameter("bias", zeros({num_features}));
  }
  running_mean_ = register_buffer("running_mean", zeros({num_features}));
  running_var_ = register_buffer("running_var", ones({num_features}));
  num_batches_tracked_ = register_buffer("num_batches_tracked", zeros({}, {DType::Int64}));
}

std::string BatchNorm::describe() const { return fmt::format("{}({})", type_name(), features_); }

// x: [N, C] or [N, C, L] (1d), [N, C, H, W] (2d) -> same shape
Tensor BatchNorm::forward(const Tensor& x) {
  const bool fits = spatial_dims_ == 2 ? x.dim() == 4 : (x.dim() == 2 || x.dim() == 3);
  if (!fits || x.shape()[1] != features_)
    throw ShapeError(fmt::format("tinynn::nn::{}: expected input {}, got {}", describe(),
                                 spatial_dims_ == 2 ? fmt::format("[N, {}, H, W]", features_)
                                                    : fmt::format("[N, {}] or [N, {}, L]", features_, features_),
                                 shape_str(x.shape())));
  Tensor y = batch_norm(x, running_mean_, running_var_, weight_, bias_, is_training(), momentum_, eps_);
  if (is_training()) num_batches_tracked_.copy_(num_batches_tracked_ + 1);  // a batch that failed is not counted
  return y;
}

Tensor BatchNorm::forward_block(Conv2d& conv, Pool2d* pool, const Tensor& x, bool feeds_conv_block) {
  const bool applies = spatial_dims_ == 2 && weight_.defined() && conv.bias().defined() && (pool == nullptr || pool->is_max()) &&
                       (pool == nullptr || pool->dilation() == Size2{1, 1}) && conv.weight().shape()[0] == features_;
  if (!applies) {
    Tensor y = relu(forward(conv(x)));
    return pool != nullptr ? (*pool)(y) : y;
  }
  ConvBlockOptions o;
  o.stride = conv.stride(), o.padding = conv.padding(), o.dilation = conv.dilation(), o.groups = conv.groups();
  o.training = is_training(), o.momentum = momentum_, o.eps = eps_, o.feeds_conv_block = feeds_conv_block;
  if (pool != nullptr) {
    o.pool_kernel = pool->kernel_size(), o.pool_stride = pool->stride(), o.pool_padding = pool->padding();
    o.pool_ceil_mode = pool->ceil_mode();
  }
  Tensor y = conv_block(x, conv.weight(), conv.bias(), running_mean_, running_var_, weight_, bias_, o);
  if (is_training()) num_batches_tracked_.copy_(num_batches_tracked_ + 1);
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
