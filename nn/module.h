// Module: the base of every layer and model. Owns named parameters, buffers and child modules;
// gives parameters(), train()/eval(), to(device), state_dict()/load_state_dict(), a summary,
// and per-parameter L1/L2 penalties (see nn/regularization.h).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.h"

namespace tinynn::nn {

// An L1/L2 penalty on one parameter: l1 * sum|p| + l2 * sum p^2 (Keras' convention).
struct Penalty {
  double l1 = 0.0;
  double l2 = 0.0;
  bool active() const { return l1 != 0.0 || l2 != 0.0; }
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Tensor forward(const Tensor& input) = 0;
  Tensor operator()(const Tensor& input) { return forward(input); }
  virtual std::string type_name() const = 0;   // "Linear"
  virtual std::string describe() const { return type_name(); }  // "Linear(784 -> 256)"

  // Parameters and buffers of this module and its children, named "child.param" ("0.weight").
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  std::int64_t parameter_count() const;

  void train(bool training = true);  // this module and its children
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();
  // Moves parameters and buffers to `device` in place: every handle to them stays valid.
  void to(Device device);

  // Parameters and buffers by name. Loading copies values into the existing tensors and
  // throws ValueError listing missing and unexpected keys, or ShapeError for a shape mismatch.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& state);

  // A table of layers with output shapes (from a forward pass on zeros of `input_shape`,
  // recording nothing) and parameter counts.
  std::string summary(const Shape& input_shape);

  // L1/L2 penalty for one of this module's own parameters ("weight", "bias").
  void set_penalty(const std::string& parameter, Penalty penalty);
  // Penalties of this module and its children, keyed like named_parameters().
  std::map<std::string, Penalty> named_penalties() const;

 protected:
  // Registers a parameter (made a leaf that requires grad) and returns the same tensor.
  Tensor register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.emplace_back(name, module);
    return module;
  }

 private:
  NamedTensors named_tensors(bool buffers) const;  // own then children's, prefixed "child."
  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::map<std::string, Penalty> penalties_;
  bool training_ = true;
};

}  // namespace tinynn::nn
