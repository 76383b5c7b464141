// Sequential: runs child modules in order; children are named "0", "1", ...
#pragma once
#include "module.h"

namespace tinynn::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Module>> layers);
  // Appends a layer; returns this for chaining.
  Sequential& add(std::shared_ptr<Module> layer);
  std::size_t size() const { return children().size(); }
  std::shared_ptr<Module> operator[](std::size_t i) const { return children().at(i).second; }

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Sequential"; }
};

}  // namespace tinynn::nn
