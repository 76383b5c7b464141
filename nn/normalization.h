// Normalization layers: BatchNorm1d/2d (batch statistics while training, running ones in eval)
// and LayerNorm (per-sample statistics over the trailing axes).
#pragma once
#include "conv_layers.h"
#include "module.h"

namespace tinynn::nn {

// Normalizes each channel (axis 1) over the batch and the other axes: BatchNorm1d takes [N, C] or
// [N, C, L], BatchNorm2d [N, C, H, W]. Running mean/var are buffers updated with `momentum` while
// training (the variance with Bessel's correction) and used in eval; num_batches_tracked counts
// training batches. The buffers are named as PyTorch's, so a state_dict loads into torch.nn.
class BatchNorm : public Module {
 public:
  BatchNorm(int spatial_dims, std::int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return spatial_dims_ == 2 ? "BatchNorm2d" : "BatchNorm1d"; }
  std::string describe() const override;
  Tensor running_mean() const { return running_mean_; }
  Tensor running_var() const { return running_var_; }
  Tensor weight() const { return weight_; }  // undefined without affine, as bias()
  Tensor bias() const { return bias_; }
  double eps() const { return eps_; }
  double momentum() const { return momentum_; }
  // conv -> this -> ReLU (-> pool, a max pool; null: none) as one conv_block op: what the layers
  // give one after the other (Sequential runs that pattern so). Falls back to the layers when the
  // block does not apply (a 1d norm, no conv bias, no affine parameters). feeds_conv_block: the
  // output goes straight to another such block (ConvBlockOptions).
  Tensor forward_block(Conv2d& conv, Pool2d* pool, const Tensor& input, bool feeds_conv_block = false);

 private:
  int spatial_dims_;  // 1: [N, C] or [N, C, L]; 2: [N, C, H, W]
  std::int64_t features_;
  double eps_, momentum_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};
struct BatchNorm1d : BatchNorm {
  explicit BatchNorm1d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true)
      : BatchNorm(1, num_features, eps, momentum, affine) {}
};
struct BatchNorm2d : BatchNorm {
  explicit BatchNorm2d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true)
      : BatchNorm(2, num_features, eps, momentum, affine) {}
};

// Normalizes over the last normalized_shape.size() axes, whose sizes must equal normalized_shape.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "LayerNorm"; }
  std::string describe() const override;
  const Shape& normalized_shape() const { return shape_; }
  Tensor weight() const { return weight_; }  // undefined without elementwise_affine, as bias()
  Tensor bias() const { return bias_; }
  double eps() const { return eps_; }

 private:
  Shape shape_;
  double eps_;
  Tensor weight_, bias_;
};

}  // namespace tinynn::nn
