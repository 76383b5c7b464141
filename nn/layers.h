// Layers: Linear (dense), activations as modules, Dropout, Flatten.
#pragma once
#include <optional>
#include <utility>

#include "../core/pointwise_table.h"
#include "../core/random.h"
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

// One implementation behind every activation module; the named classes below pick its kind.
class Activation : public Module {
 public:
  enum class Kind { ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax };
  // `param`: LeakyReLU's negative slope; `axis`: Softmax/LogSoftmax's axis.
  explicit Activation(Kind kind, double param = 0.01, std::int64_t axis = -1);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override;
  Kind kind() const { return kind_; }
  // The pointwise-table row this activation applies, if it is one (all but Softmax/LogSoftmax).
  std::optional<std::pair<UnaryOp, UnaryParams>> pointwise() const;

 private:
  Kind kind_;
  double param_;
  std::int64_t axis_;
};
struct ReLU : Activation { ReLU() : Activation(Kind::ReLU) {} };
struct LeakyReLU : Activation { explicit LeakyReLU(double slope = 0.01) : Activation(Kind::LeakyReLU, slope) {} };
struct Sigmoid : Activation { Sigmoid() : Activation(Kind::Sigmoid) {} };
struct Tanh : Activation { Tanh() : Activation(Kind::Tanh) {} };
struct GELU : Activation { GELU() : Activation(Kind::GELU) {} };
struct Softmax : Activation { explicit Softmax(std::int64_t axis = -1) : Activation(Kind::Softmax, 0, axis) {} };
struct LogSoftmax : Activation { explicit LogSoftmax(std::int64_t axis = -1) : Activation(Kind::LogSoftmax, 0, axis) {} };

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

 private:
  std::int64_t start_, end_;
};

}  // namespace tinynn::nn
