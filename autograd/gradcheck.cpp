// gradcheck: analytic Jacobians (one backward pass per output element) against central finite
// differences (two forward passes per input element), in float64.
#include <fmt/format.h>

#include <cmath>

#include "../core/creation.h"
#include "../core/ops.h"
#include "../core/shape_ops.h"
#include "autograd.h"

namespace tinynn {

namespace {

// fn's output flattened to float64 values, evaluated without recording a graph.
std::vector<double> evaluate(const DifferentiableFn& fn, const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  return fn(inputs).to_vector<double>();
}

}  // namespace

bool gradcheck(const DifferentiableFn& fn, const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
  std::vector<std::size_t> checked;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    if (inputs[i].dtype() != DType::Float64)
      throw DTypeError(fmt::format("tinynn::gradcheck: input {} is {}; use float64 for finite differences", i,
                                   dtype_name(inputs[i].dtype())));
    checked.push_back(i);
  }
  if (checked.empty()) throw ValueError("tinynn::gradcheck: no input requires grad");

  // Analytic Jacobian rows: d out[j] / d input, for every output element j.
  Tensor out;
  {
    EnableGradGuard grad_on;
    out = fn(inputs);
  }
  const std::int64_t n_out = out.numel();
  std::vector<Tensor> diff_inputs;
  for (auto i : checked) diff_inputs.push_back(inputs[i]);
  std::vector<std::vector<std::vector<double>>> analytic(checked.size(), std::vector<std::vector<double>>(n_out));
  if (out.requires_grad()) {
    for (std::int64_t j = 0; j < n_out; ++j) {
      const Tensor seed = one_hot(tensor({j}), n_out, out.dtype()).reshape(out.shape()).to(out.device());
      const auto grads = grad({out}, diff_inputs, {seed}, /*retain_graph=*/true, false, /*allow_unused=*/true);
      for (std::size_t c = 0; c < checked.size(); ++c)
        analytic[c][j] = grads[c].defined() ? grads[c].to_vector<double>()
                                            : std::vector<double>(static_cast<std::size_t>(inputs[checked[c]].numel()), 0.0);
    }
  } else {
    for (std::size_t c = 0; c < checked.size(); ++c)
      for (auto& row : analytic[c]) row.assign(static_cast<std::size_t>(inputs[checked[c]].numel()), 0.0);
  }

  // Numeric columns: perturb one element of a copy of each input at a time.
  for (std::size_t c = 0; c < checked.size(); ++c) {
    const std::size_t i = checked[c];
    std::vector<Tensor> probe = inputs;
    const Tensor base = inputs[i].detach().contiguous();
    std::vector<double> values = base.to_vector<double>();
    for (std::size_t k = 0; k < values.size(); ++k) {
      const double original = values[k];
      // Probes keep requires_grad: fn may itself differentiate (gradgradcheck).
      values[k] = original + eps;
      probe[i] = from_vector(values, base.shape(), base.device()).requires_grad_();
      const auto plus = evaluate(fn, probe);
      values[k] = original - eps;
      probe[i] = from_vector(values, base.shape(), base.device()).requires_grad_();
      const auto minus = evaluate(fn, probe);
      values[k] = original;
      for (std::int64_t j = 0; j < n_out; ++j) {
        const double numeric = (plus[j] - minus[j]) / (2 * eps);
        const double a = analytic[c][j][k];
        if (!(std::abs(a - numeric) <= atol + rtol * std::abs(numeric)))
          throw GradcheckError(fmt::format(
              "tinynn::gradcheck: Jacobian mismatch for input {} (shape {}), element {}, output element {}: "
              "analytic {:.10g}, numeric {:.10g}", i, shape_str(inputs[i].shape()), k, j, a, numeric));
      }
    }
  }
  return true;
}

bool gradgradcheck(const DifferentiableFn& fn, const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
  Tensor probe_out;
  {
    NoGradGuard no_grad;
    probe_out = fn(inputs);
  }
  // Fixed weights for the vector-Jacobian product; not a function of the inputs.
  Generator gen(1234);
  const Tensor weights = randn(probe_out.shape(), {probe_out.dtype(), probe_out.device()}, &gen);
  auto first_derivative = [&fn, &weights](const std::vector<Tensor>& xs) {
    EnableGradGuard grad_on;
    std::vector<Tensor> diff;
    for (const Tensor& x : xs)
      if (x.requires_grad()) diff.push_back(x);
    const auto grads = grad({fn(xs)}, diff, {weights}, true, /*create_graph=*/true, /*allow_unused=*/true);
    std::vector<Tensor> flat;
    for (std::size_t i = 0; i < grads.size(); ++i)
      flat.push_back(grads[i].defined() ? grads[i].reshape({-1}) : zeros({diff[i].numel()}, {DType::Float64}));
    return cat(flat);
  };
  return gradcheck(first_derivative, inputs, eps, atol, rtol);
}

}  // namespace tinynn
