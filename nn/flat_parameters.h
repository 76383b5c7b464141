// One contiguous buffer for a model's parameters and one for their gradients, each parameter a
// view of the first with its grad slot a view of the second: the gradient norm, clipping, and
// the data-parallel all-reduce become single passes, and backward writes weight gradients
// straight into place (no copies).
#pragma once
#include <vector>

#include "../core/tensor.h"

namespace tinynn::nn {

class FlatParameters {
 public:
  // Moves the values of `parameters` (leaves of one dtype and device, none sharing memory with
  // another; a tensor listed twice counts once) into one buffer, in order, and gives each a grad
  // slot (autograd/autograd.h: set_grad_slot) in a second. Every handle to a parameter sees it
  // (optimizers, the model). Throws when the parameters do not qualify (can_flatten says so
  // beforehand). The parameters then share one storage, so writing one in place between a
  // forward and its backward makes that backward refuse every parameter it saved, not only it.
  explicit FlatParameters(const std::vector<Tensor>& parameters);
  FlatParameters(const FlatParameters&) = delete;
  FlatParameters& operator=(const FlatParameters&) = delete;

  static bool can_flatten(const std::vector<Tensor>& parameters);

  const Tensor& values() const { return values_; }  // [total], every parameter's elements in order
  const Tensor& grads() const { return grads_; }    // [total], the grad slots in the same order

 private:
  Tensor values_, grads_;
};

// The gradients of `parameters` as one 1-D view when they tile one buffer exactly (every grad
// defined, contiguous, of one storage, adjacent: the slots of a FlatParameters after a backward
// reached every parameter); undefined otherwise, and callers go parameter by parameter.
Tensor flat_gradient_view(const std::vector<Tensor>& parameters);

}  // namespace tinynn::nn
