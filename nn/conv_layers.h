// Image layers over NCHW batches: Conv2d and the pools, with PyTorch's argument names, parameter
// layout (weight [out, in / groups, kH, kW]) and default init, so checkpoints map onto torch.nn.
#pragma once
#include <optional>

#include "../core/conv.h"
#include "../core/random.h"
#include "module.h"

namespace tinynn::nn {

class Conv2d : public Module {
 public:
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Size2 stride = {1, 1}, Size2 padding = {0, 0},
         Size2 dilation = {1, 1}, std::int64_t groups = 1, bool bias = true, Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Conv2d"; }
  std::string describe() const override;  // "Conv2d(1 -> 32, 3x3, padding 1)"
  Tensor weight() const { return weight_; }
  Tensor bias() const { return bias_; }  // undefined without bias
  Size2 kernel_size() const { return kernel_; }
  Size2 stride() const { return stride_; }
  Size2 padding() const { return padding_; }
  Size2 dilation() const { return dilation_; }
  std::int64_t groups() const { return groups_; }

 private:
  std::int64_t in_, out_, groups_;
  Size2 kernel_, stride_, padding_, dilation_;
  Tensor weight_, bias_;
};

// max_pool2d (max) or avg_pool2d (!max) as a layer; stride defaults to the kernel size.
class Pool2d : public Module {
 public:
  Pool2d(bool max, Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = {0, 0},
         Size2 dilation = {1, 1}, bool ceil_mode = false, bool count_include_pad = true);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return max_ ? "MaxPool2d" : "AvgPool2d"; }
  std::string describe() const override;  // "MaxPool2d(2x2)"
  bool is_max() const { return max_; }
  Size2 kernel_size() const { return kernel_; }
  Size2 stride() const { return stride_.value_or(kernel_); }
  Size2 padding() const { return padding_; }
  Size2 dilation() const { return dilation_; }
  bool ceil_mode() const { return ceil_mode_; }
  bool count_include_pad() const { return count_include_pad_; }

 private:
  bool max_;
  Size2 kernel_;
  std::optional<Size2> stride_;
  Size2 padding_, dilation_;
  bool ceil_mode_, count_include_pad_;
};
struct MaxPool2d : Pool2d {
  explicit MaxPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = {0, 0}, Size2 dilation = {1, 1},
                     bool ceil_mode = false)
      : Pool2d(true, kernel_size, stride, padding, dilation, ceil_mode) {}
};
struct AvgPool2d : Pool2d {
  explicit AvgPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = {0, 0}, bool ceil_mode = false,
                     bool count_include_pad = true)
      : Pool2d(false, kernel_size, stride, padding, {1, 1}, ceil_mode, count_include_pad) {}
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size) : output_(output_size) {}
  Tensor forward(const Tensor& input) override { return adaptive_avg_pool2d(input, output_); }
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::string describe() const override;
  Size2 output_size() const { return output_; }

 private:
  Size2 output_;
};

}  // namespace tinynn::nn
