// Optimizers with PyTorch's update rules: SGD (momentum, dampening, Nesterov), Adam and AdamW
// (amsgrad), RMSprop, Adagrad. Parameter groups carry their own lr and weight decay. Each step is
// fused: the parameters that share its hyperparameters, dtype and device are updated by one
// backend call (core/optimizer_math.h), one pass over them and their state.
// `weight_decay` is applied by the optimizer (Adam/SGD: added to the gradient, as PyTorch;
// AdamW: decoupled, p *= 1 - lr * wd); it is never part of the reported loss, unlike the
// L1/L2 penalties of nn/regularization.h.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "../core/backend.h"
#include "../core/tensor.h"

namespace tinynn::nn {

struct ParamGroup {
  std::vector<Tensor> params;
  double lr = 1e-3;
  double weight_decay = 0.0;
};

// An optimizer's resumable state: per-parameter tensors named "<param index>.<buffer>" and
// scalars (step counts, group hyperparameters) by name.
struct OptimizerState {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;
};

// scalars[key] of a saved state, or a ValueError naming `owner` and the missing key.
double required_scalar(const std::map<std::string, double>& scalars, const std::string& key, const std::string& owner);

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual std::string name() const = 0;
  // One update of every parameter that has a gradient (recording nothing).
  void step();
  void zero_grad();
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  double lr(std::size_t group = 0) const { return groups_.at(group).lr; }

  OptimizerState state_dict() const;
  // Restores buffers, step counts and group lr/weight decay; the parameter layout must match.
  void load_state_dict(const OptimizerState& state);

 protected:
  // Updates one parameter (its index among all parameters is `index`) given its gradient,
  // usually by handing it to fuse().
  virtual void update(std::size_t index, Tensor& param, const Tensor& grad, const ParamGroup& group) = 0;
  // Queues `param`'s update by `step` with its rule's state buffers (in the order of
  // OptimizerTensors; null where unused) into this step's batch of parameters that share the step,
  // dtype and device. A strided parameter is updated at once, through a contiguous copy.
  void fuse(Tensor& param, const Tensor& grad, const OptimizerStep& step, std::initializer_list<Tensor*> state);
  // Per-parameter buffers (momentum, exp_avg, ...) and step counts, by parameter index.
  std::vector<std::map<std::string, Tensor>> buffers_;
  std::vector<std::int64_t> steps_;

 private:
  // Runs the step's batches: one backend call each.
  void finish_step();
  struct Batch {
    OptimizerStep step;
    DType dtype = DType::Float32;
    Device device;
    std::vector<OptimizerTensors> tensors;
    std::vector<Tensor> params, grads;  // kept alive until the call; params get a version bump
  };
  std::vector<ParamGroup> groups_;
  std::vector<Batch> batches_;  // the first batches_used_ hold this step's updates
  std::size_t batches_used_ = 0;
};

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
};
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);
  SGD(std::vector<ParamGroup> groups, SGDOptions options);  // groups' lr/weight_decay override options'
  std::string name() const override { return "SGD"; }

 protected:
  void update(std::size_t index, Tensor& param, const Tensor& grad, const ParamGroup& group) override;

 private:
  SGDOptions o_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool decoupled_weight_decay = false;  // true is AdamW
};
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options);
  Adam(std::vector<ParamGroup> groups, AdamOptions options);
  std::string name() const override { return o_.decoupled_weight_decay ? "AdamW" : "Adam"; }

 protected:
  void update(std::size_t index, Tensor& param, const Tensor& grad, const ParamGroup& group) override;

 private:
  AdamOptions o_;
};
// Adam with decoupled weight decay (default 0.01, as torch.optim.AdamW).
AdamOptions adamw_options(double lr = 1e-3, double weight_decay = 1e-2);

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
};
class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options);
  RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options);
  std::string name() const override { return "RMSprop"; }

 protected:
  void update(std::size_t index, Tensor& param, const Tensor& grad, const ParamGroup& group) override;

 private:
  RMSpropOptions o_;
};

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
};
class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<Tensor> params, AdagradOptions options);
  Adagrad(std::vector<ParamGroup> groups, AdagradOptions options);
  std::string name() const override { return "Adagrad"; }

 protected:
  void update(std::size_t index, Tensor& param, const Tensor& grad, const ParamGroup& group) override;

 private:
  AdagradOptions o_;
};

}  // namespace tinynn::nn
