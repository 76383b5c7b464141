// Normalization layers: BatchNorm1d (batch statistics while training, running ones in eval)
// and LayerNorm (per-sample statistics over the trailing axes).
#pragma once
#include "module.h"

namespace tinynn::nn {

// Input [N, C] or [N, C, L]; normalizes each channel. Running mean/var are buffers updated
// with `momentum` while training (the variance with Bessel's correction, as PyTorch).
class BatchNorm1d : public Module {
 public:
  explicit BatchNorm1d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "BatchNorm1d"; }
  std::string describe() const override;
  Tensor running_mean() const { return running_mean_; }
  Tensor running_var() const { return running_var_; }

 private:
  std::int64_t features_;
  double eps_, momentum_;
  Tensor weight_, bias_, running_mean_, running_var_;
};

// Normalizes over the last normalized_shape.size() axes, whose sizes must equal normalized_shape.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "LayerNorm"; }
  std::string describe() const override;

 private:
  Shape shape_;
  double eps_;
  Tensor weight_, bias_;
};

}  // namespace tinynn::nn
