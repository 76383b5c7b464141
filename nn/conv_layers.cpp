// Conv2d and the pooling layers.
#include "conv_layers.h"

#include <fmt/format.h>

#include <cmath>

#include "../core/creation.h"
#include "../core/error.h"
#include "init.h"

namespace tinynn::nn {

namespace {

std::string size_text(Size2 v) { return v[0] == v[1] ? std::to_string(v[0]) : fmt::format("{}x{}", v[0], v[1]); }

}  // namespace

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Size2 stride, Size2 padding,
               Size2 dilation, std::int64_t groups, bool bias, Generator* gen)
    : in_(in_channels), out_(out_channels), groups_(groups), kernel_(kernel_size), stride_(stride), padding_(padding),
      dilation_(dilation) {
  if (in_channels <= 0 || out_channels <= 0 || groups <= 0 || kernel_size[0] <= 0 || kernel_size[1] <= 0)
    throw ValueError(fmt::format("tinynn::nn::Conv2d: channels, groups and kernel size must be positive, got {} -> {}, "
                                 "groups {}, kernel {}x{}",
                                 in_channels, out_channels, groups, kernel_size[0], kernel_size[1]));
  if (in_channels % groups != 0 || out_channels % groups != 0)
    throw ValueError(fmt::format("tinynn::nn::Conv2d: in_channels ({}) and out_channels ({}) must be divisible by groups ({})",
                                 in_channels, out_channels, groups));
  // PyTorch's default: kaiming_uniform(a = sqrt(5)) for the weight, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias.
  const std::int64_t fan_in = in_channels / groups * kernel_size[0] * kernel_size[1];
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  Tensor w = empty({out_channels, in_channels / groups, kernel_size[0], kernel_size[1]});
  init::uniform_(w, -bound, bound, gen);
  weight_ = register_parameter("weight", w);
  if (bias) {
    Tensor b = empty({out_channels});
    init::uniform_(b, -bound, bound, gen);
    bias_ = register_parameter("bias", b);
  }
}

std::string Conv2d::describe() const {
  std::string s = fmt::format("Conv2d({} -> {}, {}x{}", in_, out_, kernel_[0], kernel_[1]);
  if (stride_ != Size2{1, 1}) s += ", stride " + size_text(stride_);
  if (padding_ != Size2{0, 0}) s += ", padding " + size_text(padding_);
  if (dilation_ != Size2{1, 1}) s += ", dilation " + size_text(dilation_);
  if (groups_ != 1) s += fmt::format(", groups {}", groups_);
  if (!bias_.defined()) s += ", no bias";
  return s + ")";
}

// [N, in, H, W] -> [N, out, P, Q]
Tensor Conv2d::forward(const Tensor& x) {
  if (x.dim() != 4 || x.shape()[1] != in_)
    throw ShapeError(fmt::format("tinynn::nn::{}: expected input [N, {}, H, W], got {}", describe(), in_, shape_str(x.shape())));
  return conv2d(x, weight_, bias_, stride_, padding_, dilation_, groups_);
}

Pool2d::Pool2d(bool max, Size2 kernel_size, std::optional<Size2> stride, Size2 padding, Size2 dilation, bool ceil_mode,
               bool count_include_pad)
    : max_(max), kernel_(kernel_size), stride_(stride), padding_(padding), dilation_(dilation), ceil_mode_(ceil_mode),
      count_include_pad_(count_include_pad) {}

std::string Pool2d::describe() const {
  std::string s = fmt::format("{}({}x{}", type_name(), kernel_[0], kernel_[1]);
  if (stride_ && *stride_ != kernel_) s += ", stride " + size_text(*stride_);
  if (padding_ != Size2{0, 0}) s += ", padding " + size_text(padding_);
  if (dilation_ != Size2{1, 1}) s += ", dilation " + size_text(dilation_);
  if (ceil_mode_) s += ", ceil_mode";
  return s + ")";
}

Tensor Pool2d::forward(const Tensor& x) {
  return max_ ? max_pool2d(x, kernel_, stride_, padding_, dilation_, ceil_mode_)
              : avg_pool2d(x, kernel_, stride_, padding_, ceil_mode_, count_include_pad_);
}

std::string AdaptiveAvgPool2d::describe() const { return fmt::format("AdaptiveAvgPool2d({}x{})", output_[0], output_[1]); }

}  // namespace tinynn::nn
