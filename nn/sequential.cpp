// Sequential composition.
#include "sequential.h"

#include "layers.h"

namespace tinynn::nn {

Sequential::Sequential(std::vector<std::shared_ptr<Module>> layers) {
  for (auto& layer : layers) add(std::move(layer));
}

Sequential& Sequential::add(std::shared_ptr<Module> layer) {
  register_module(std::to_string(children().size()), std::move(layer));
  return *this;
}

// A Linear followed by a pointwise activation runs as matmul + one fused bias-activation op
// (the same values as the two layers one after the other, in fewer passes over memory).
Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  const auto& layers = children();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    auto* linear = dynamic_cast<Linear*>(layers[i].second.get());
    auto* next = linear != nullptr && i + 1 < layers.size() ? dynamic_cast<Pointwise*>(layers[i + 1].second.get()) : nullptr;
    if (next != nullptr) {
      x = linear->forward_activated(x, next->op(), next->params());
      ++i;  // the activation ran inside
    } else {
      x = layers[i].second->forward(x);
    }
  }
  return x;
}

}  // namespace tinynn::nn
