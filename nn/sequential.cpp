// Sequential composition.
#include "sequential.h"

#include "conv_layers.h"
#include "layers.h"
#include "normalization.h"

namespace tinynn::nn {

Sequential::Sequential(std::vector<std::shared_ptr<Module>> layers) {
  for (auto& layer : layers) add(std::move(layer));
}

Sequential& Sequential::add(std::shared_ptr<Module> layer) {
  register_module(std::to_string(children().size()), std::move(layer));
  return *this;
}

namespace {

template <class T>
T* layer_at(const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& layers, std::size_t i) {
  return i < layers.size() ? dynamic_cast<T*>(layers[i].second.get()) : nullptr;
}

}  // namespace

// A Linear followed by a pointwise activation runs as matmul + one fused bias-activation op, and
// Conv2d -> BatchNorm2d -> ReLU (-> MaxPool2d) as one conv_block (the same values as the layers
// one after the other, in fewer passes over memory and, on the CPU, no reorders between them nor
// between two such blocks in a row).
Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  const auto& layers = children();
  auto block_at = [&](std::size_t i) -> BatchNorm* {  // the block's batch norm when a conv block starts at i
    auto* norm = layer_at<Conv2d>(layers, i) != nullptr ? layer_at<BatchNorm>(layers, i + 1) : nullptr;
    auto* relu = norm != nullptr ? layer_at<Pointwise>(layers, i + 2) : nullptr;
    return relu != nullptr && relu->op() == UnaryOp::Relu ? norm : nullptr;
  };
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (auto* norm = block_at(i)) {
      auto* pool = layer_at<Pool2d>(layers, i + 3);
      if (pool != nullptr && !pool->is_max()) pool = nullptr;
      const std::size_t next = i + (pool != nullptr ? 4 : 3);
      x = norm->forward_block(*layer_at<Conv2d>(layers, i), pool, x, block_at(next) != nullptr);
      i = next - 1;  // the block ran them
      continue;
    }
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
