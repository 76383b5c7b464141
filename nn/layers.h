// Layers: Linear (dense), the pointwise activations and softmax as modules, Dropout, Flatten.
#pragma once
#include "../core/ops.h"
#include "../core/pointwise_table.h"
#include "../core/random.h"
#include "../core/reduce.h"
#include "module.h"

namespace tinynn::nn {

// y = x W^T + b with W of shape [out, in] (PyTorch's layout, so checkpoints map onto
// torch.nn.Linear). Default init as PyTorch: W and b ~ U(-1/sqrt(in), 1/sqrt(in)).
class Linear : public Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true, Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;
  // activation(forward(input)) with the bias add and the activation in one fused op (what
  // Sequential runs for a Linear followed by a pointwise activation).
  Tensor forward_activated(const Tensor& input, UnaryOp op, const UnaryParams& params);
  std::string type_name() const override { return "Linear"; }
  std::string describe() const override;
  Tensor weight() const { return weight_; }
  Tensor bias() const { return bias_; }  // undefined without bias
  std::int64_t in_features() const { return in_; }
  std::int64_t out_features() const { return out_; }

 private:
  std::int64_t in_, out_;
  Tensor weight_, bias_;
};

// Every activation of the pointwise table (relu, leaky_relu, tanh, sigmoid, gelu, softplus, ...)
// is this one module; the named structs below are shorthands for C++ users.
class Pointwise : public Module {
 public:
  explicit Pointwise(UnaryOp op, UnaryParams params = {});
  Tensor forward(const Tensor& input) override { return unary(op_, input, params_); }
  std::string type_name() const override { return unary_op_name(op_); }
  std::string describe() const override;  // "leaky_relu(slope=0.01)"
  UnaryOp op() const { return op_; }
  const UnaryParams& params() const { return params_; }

 private:
  UnaryOp op_;
  UnaryParams params_;
};
struct ReLU : Pointwise { ReLU() : Pointwise(UnaryOp::Relu) {} };
struct LeakyReLU : Pointwise { explicit LeakyReLU(double slope = 0.01) : Pointwise(UnaryOp::LeakyRelu, {slope, 0.0}) {} };
struct Sigmoid : Pointwise { Sigmoid() : Pointwise(UnaryOp::Sigmoid) {} };
struct Tanh : Pointwise { Tanh() : Pointwise(UnaryOp::Tanh) {} };
struct GELU : Pointwise { GELU() : Pointwise(UnaryOp::Gelu) {} };

// softmax / log_softmax over `axis`: one module, `log` picks which.
class Softmax : public Module {
 public:
  explicit Softmax(std::int64_t axis = -1, bool log = false) : axis_(axis), log_(log) {}
  Tensor forward(const Tensor& input) override { return log_ ? log_softmax(input, axis_) : softmax(input, axis_); }
  std::string type_name() const override { return log_ ? "LogSoftmax" : "Softmax"; }
  std::int64_t axis() const { return axis_; }
  bool is_log() const { return log_; }

 private:
  std::int64_t axis_;
  bool log_;
};
struct LogSoftmax : Softmax { explicit LogSoftmax(std::int64_t axis = -1) : Softmax(axis, true) {} };

// Zeroes each element with probability p while training and scales the rest by 1/(1-p);
// the identity in eval mode.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Dropout"; }
  std::string describe() const override;

 private:
  double p_;
  Generator* gen_;
};

// Flattens axes start..end into one ([N, 1, 28, 28] -> [N, 784] by default).
class Flatten : public Module {
 public:
  explicit Flatten(std::int64_t start = 1, std::int64_t end = -1) : start_(start), end_(end) {}
  Tensor forward(const Tensor& input) override { return input.flatten(start_, end_); }
  std::string type_name() const override { return "Flatten"; }
  std::int64_t start_axis() const { return start_; }
  std::int64_t end_axis() const { return end_; }

 private:
  std::int64_t start_, end_;
};

}  // namespace tinynn::nn
