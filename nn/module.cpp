// Module bookkeeping: recursive parameter/buffer walks, device moves, state dicts, summaries.
#include "module.h"

#include <fmt/format.h>

#include <set>
#include <sstream>

#include "../autograd/autograd.h"
#include "../core/backend.h"
#include "../core/creation.h"
#include "../core/error.h"
#include "sequential.h"

namespace tinynn::nn {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Replaces t's storage with a copy on `device`, keeping the TensorImpl (and so every handle).
void move_in_place(const Tensor& t, Device device) {
  if (t.device() == device) return;
  const Tensor moved = t.detach().to(device);
  TensorImpl& impl = *t.impl();
  impl.storage = moved.impl()->storage;
  impl.strides = moved.strides();
  impl.offset = moved.offset();
}

}  // namespace

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  if (!value.is_floating_point())
    throw DTypeError(fmt::format("tinynn::nn::Module: parameter '{}' must be floating point", name));
  value = value.detach();
  value.requires_grad_();
  parameters_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  buffers_.emplace_back(name, value);
  return value;
}

NamedTensors Module::named_tensors(bool buffers) const {
  NamedTensors out = buffers ? buffers_ : parameters_;
  for (const auto& [name, child] : children_)
    for (const auto& [sub, t] : child->named_tensors(buffers)) out.emplace_back(name + "." + sub, t);
  return out;
}

NamedTensors Module::named_parameters() const { return named_tensors(false); }
NamedTensors Module::named_buffers() const { return named_tensors(true); }

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (const auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::int64_t Module::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& t : parameters()) n += t.numel();
  return n;
}

void Module::train(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->train(training);
}

void Module::zero_grad() {
  for (auto& p : parameters()) p.zero_grad();
}

void Module::to(Device device) {
  backend_for(device);  // a clear DeviceError before anything moves
  for (auto& [name, t] : named_parameters()) {
    t.zero_grad();
    move_in_place(t, device);
  }
  for (auto& [name, t] : named_buffers()) move_in_place(t, device);
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : named_parameters()) out[name] = t.detach();
  for (const auto& [name, t] : named_buffers()) out[name] = t;
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state) {
  const auto own = state_dict();
  std::vector<std::string> missing, unexpected;
  for (const auto& [name, t] : own)
    if (state.count(name) == 0) missing.push_back(name);
  for (const auto& [name, t] : state)
    if (own.count(name) == 0) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty())
    throw ValueError(fmt::format("tinynn::nn::load_state_dict: missing keys [{}]; unexpected keys [{}]", join(missing),
                                 join(unexpected)));
  for (const auto& [name, t] : own)
    if (state.at(name).shape() != t.shape())
      throw ShapeError(fmt::format("tinynn::nn::load_state_dict: '{}' has shape {} in the state but {} in the model", name,
                                   shape_str(state.at(name).shape()), shape_str(t.shape())));
  NoGradGuard no_grad;
  for (const auto& [name, t] : own) {
    Tensor target = t;
    target.copy_(state.at(name).to(t.device()));
  }
}

void Module::set_penalty(const std::string& parameter, Penalty penalty) {
  bool found = false;
  for (const auto& [name, t] : parameters_) found = found || name == parameter;
  if (!found) throw ValueError(fmt::format("tinynn::nn::{}: no parameter named '{}'", type_name(), parameter));
  penalties_[parameter] = penalty;
}

std::map<std::string, Penalty> Module::named_penalties() const {
  std::map<std::string, Penalty> out = penalties_;
  for (const auto& [name, child] : children_)
    for (const auto& [sub, p] : child->named_penalties()) out[name + "." + sub] = p;
  return out;
}

std::string Module::summary(const Shape& input_shape) {
  NoGradGuard no_grad;
  const bool was_training = training_;
  eval();
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> rows;
  if (auto* seq = dynamic_cast<Sequential*>(this)) rows = seq->children();
  Tensor x = zeros(input_shape, {DType::Float32, parameters().empty() ? Device::cpu() : parameters()[0].device()});
  std::ostringstream out;
  out << fmt::format("{:<4} {:<36} {:<18} {:>12}\n", "#", "layer", "output shape", "parameters");
  if (rows.empty()) {
    x = forward(x);
    out << fmt::format("{:<4} {:<36} {:<18} {:>12}\n", 0, describe(), shape_str(x.shape()), parameter_count());
  } else {
    for (const auto& [name, layer] : rows) {
      x = layer->forward(x);
      out << fmt::format("{:<4} {:<36} {:<18} {:>12}\n", name, layer->describe(), shape_str(x.shape()),
                         layer->parameter_count());
    }
  }
  out << fmt::format("total parameters: {}\n", parameter_count());
  train(was_training);
  return out.str();
}

}  // namespace tinynn::nn
