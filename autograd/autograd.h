// Reverse-mode autograd for users: grad() like torch.autograd.grad, grad-mode guards,
// gradcheck/gradgradcheck, and the helper that sums a broadcast gradient back to a shape.
// Tensor::backward(), grad(), requires_grad_() and detach() are declared on Tensor itself.
#pragma once
#include <functional>
#include <optional>
#include <vector>

#include "../core/error.h"
#include "../core/grad_mode.h"
#include "../core/tensor.h"

namespace tinynn {

// Gradients of `outputs` with respect to `inputs`, without touching any grad(). grad_outputs
// may be empty for scalar outputs. retain_graph defaults to create_graph. An input the outputs
// do not depend on throws unless allow_unused, which returns an undefined Tensor for it.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, std::optional<bool> retain_graph = std::nullopt,
                         bool create_graph = false, bool allow_unused = false);

// Sets grad mode for its lifetime and restores the previous mode after.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// No graph is recorded while one of these is alive (inference, optimizer updates).
struct NoGradGuard : GradModeGuard {
  NoGradGuard() : GradModeGuard(false) {}
};

// Recording is on while one of these is alive, even inside a NoGradGuard.
struct EnableGradGuard : GradModeGuard {
  EnableGradGuard() : GradModeGuard(true) {}
};

// Gives a leaf variable a fixed home for its gradient: from then on a plain backward() writes
// (or adds) grad() into `slot`, a tensor of the leaf's shape, dtype and device (typically a view
// of one flat buffer holding every parameter's gradient: nn::FlatParameters), and grad() is
// `slot` itself. The next backward after zero_grad() overwrites it in place, as PyTorch does with
// zero_grad(set_to_none=False). A backward with create_graph keeps allocating (its gradients
// stay differentiable). Tensor() removes the slot.
void set_grad_slot(const Tensor& leaf, const Tensor& slot);

// Sums `g` over the axes along which a tensor of `shape` was broadcast to g's shape: the
// gradient of a broadcast input. Every broadcasting backward goes through this one helper.
Tensor sum_to_shape(const Tensor& g, const Shape& shape);

// Thrown by gradcheck/gradgradcheck with the first mismatching element described.
class GradcheckError : public Error {
  using Error::Error;
};

using DifferentiableFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Compares the analytic Jacobian of fn (by backward passes) with central finite differences,
// element by element: |analytic - numeric| <= atol + rtol * |numeric|. Inputs must be float64
// (finite differences in float32 are too coarse); those that require grad are checked.
// Returns true, or throws GradcheckError naming the input, element, and both values.
bool gradcheck(const DifferentiableFn& fn, const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-5,
               double rtol = 1e-3);
// gradcheck of the first derivative itself (a vector-Jacobian product with fixed random
// weights, computed with create_graph): checks second-order gradients.
bool gradgradcheck(const DifferentiableFn& fn, const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-5,
                   double rtol = 1e-3);

}  // namespace tinynn
