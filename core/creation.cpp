// Creating tensors: from nested values, fills, ranges, identity, and Philox random draws.
// Listed values are produced on the host and copied to the device in one transfer; random draws
// run on the device (Backend::random).
#include "creation.h"

#include <algorithm>

#include <fmt/format.h>

#include <cmath>

#include "backend.h"
#include "detail/plan.h"
#include "error.h"
#include "ops.h"

namespace tinynn {

namespace {

void collect(const NestedValues& v, std::size_t depth, Shape& shape, std::vector<double>& values, bool& all_integral) {
  if (v.is_scalar()) {
    if (depth != shape.size())
      throw ShapeError(fmt::format("tinynn::tensor: ragged nesting: a number at depth {} where lists of depth {} were seen",
                                   depth, shape.size()));
    values.push_back(v.scalar().to_double());
    all_integral = all_integral && v.scalar().is_integral();
    return;
  }
  const auto n = static_cast<std::int64_t>(v.items().size());
  if (depth == shape.size()) {
    if (!values.empty())
      throw ShapeError(fmt::format("tinynn::tensor: ragged nesting: a list at depth {} where numbers were seen", depth));
    shape.resize(depth + 1, n);  // not push_back: g++ 12 warns -Warray-bounds on it here (a false positive)
  } else if (shape[depth] != n) {
    throw ShapeError(fmt::format("tinynn::tensor: ragged nesting: a list of {} items at depth {} where {} were seen", n,
                                 depth, shape[depth]));
  }
  for (const auto& item : v.items()) collect(item, depth + 1, shape, values, all_integral);
}

template <class T>
Tensor host_to_tensor(const std::vector<T>& values, const Shape& shape, Device device) {
  Tensor out = empty(shape, dtype_of<T>, Device::cpu());
  std::copy(values.begin(), values.end(), out.data_ptr<T>());
  return out.to(device);
}

Tensor from_doubles(const std::vector<double>& values, const Shape& shape, DType dtype, Device device) {
  Tensor host = host_to_tensor(values, shape, Device::cpu());
  return host.to(dtype).to(device);
}

// A new tensor of n Philox draws on its device (the backend's kernel); the generator advances
// past the blocks the draw uses.
Tensor random_tensor(const Shape& shape, TensorOptions options, Generator* gen, RandomPlan plan) {
  Generator& g = gen != nullptr ? *gen : default_generator();
  plan.n = numel_of(shape);
  plan.seed = g.seed();
  plan.counter = g.advance(plan.blocks());
  Tensor out = empty(shape, options.dtype, options.device);
  if (plan.n > 0) backend_for(options.device).random(plan, options.dtype, out.raw_data());
  return out;
}

}  // namespace

Tensor tensor(const NestedValues& values) {
  Shape shape;
  std::vector<double> flat;
  bool all_integral = true;
  collect(values, 0, shape, flat, all_integral);
  return from_doubles(flat, shape, all_integral ? DType::Int64 : DType::Float32, Device::cpu());
}

Tensor tensor(const NestedValues& values, DType dtype, Device device) {
  Shape shape;
  std::vector<double> flat;
  bool all_integral = true;
  collect(values, 0, shape, flat, all_integral);
  return from_doubles(flat, shape, dtype, device);
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  if (static_cast<std::int64_t>(values.size()) != numel_of(shape))
    throw ShapeError(fmt::format("tinynn::from_vector: {} values cannot fill shape {} ({} elements)", values.size(),
                                 shape_str(shape), numel_of(shape)));
  return host_to_tensor(values, shape, device);
}
template Tensor from_vector<bool>(const std::vector<bool>&, const Shape&, Device);
template Tensor from_vector<std::int64_t>(const std::vector<std::int64_t>&, const Shape&, Device);
template Tensor from_vector<float>(const std::vector<float>&, const Shape&, Device);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, Device);

Tensor full(const Shape& shape, Scalar value, TensorOptions options) {
  Tensor out = empty(shape, options.dtype, options.device);
  if (out.numel() == 0) return out;
  const auto plan = detail::make_elementwise_plan<1>(out.shape(), {out.strides()});
  backend_for(options.device).fill(plan, options.dtype, out.raw_data(), value.to_double());
  return out;
}
Tensor scalar_tensor(Scalar value, DType dtype, Device device) { return full({}, value, {dtype, device}); }
Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1, options); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {t.dtype(), t.device()}); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), {t.dtype(), t.device()}); }
Tensor full_like(const Tensor& t, Scalar value) { return full(t.shape(), value, {t.dtype(), t.device()}); }

Tensor arange(Scalar end) { return arange(0, end, 1); }
Tensor arange(Scalar start, Scalar end, Scalar step) {
  const bool integral = start.is_integral() && end.is_integral() && step.is_integral();
  return arange(start, end, step, {integral ? DType::Int64 : DType::Float32, Device::cpu()});
}
Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options) {
  const double s = start.to_double(), e = end.to_double(), st = step.to_double();
  if (st == 0 || !std::isfinite(s) || !std::isfinite(e) || !std::isfinite(st))
    throw ValueError(fmt::format("tinynn::arange: invalid range start={} end={} step={}", s, e, st));
  if ((e - s) / st < 0)
    throw ValueError(fmt::format("tinynn::arange: step {} moves away from end {} starting at {}", st, e, s));
  const auto n = static_cast<std::int64_t>(std::ceil((e - s) / st));
  std::vector<double> values(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = s + static_cast<double>(i) * st;
  return from_doubles(values, {n}, options.dtype, options.device);
}

Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options) {
  if (steps < 0) throw ValueError(fmt::format("tinynn::linspace: steps must be non-negative, got {}", steps));
  std::vector<double> values(static_cast<std::size_t>(steps));
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  // Fill from both ends so the last value is exactly `end`, as torch.linspace does.
  for (std::int64_t i = 0; i < steps; ++i)
    values[static_cast<std::size_t>(i)] = i < steps / 2 ? start + step * static_cast<double>(i)
                                                        : end - step * static_cast<double>(steps - 1 - i);
  return from_doubles(values, {steps}, options.dtype, options.device);
}

Tensor eye(std::int64_t n, std::optional<std::int64_t> m, TensorOptions options) {
  const std::int64_t cols = m.value_or(n);
  if (n < 0 || cols < 0) throw ValueError(fmt::format("tinynn::eye: sizes must be non-negative, got {} x {}", n, cols));
  std::vector<double> values(static_cast<std::size_t>(n * cols), 0.0);
  for (std::int64_t i = 0; i < std::min(n, cols); ++i) values[static_cast<std::size_t>(i * cols + i)] = 1.0;
  return from_doubles(values, {n, cols}, options.dtype, options.device);
}

Tensor rand(const Shape& shape, TensorOptions options, Generator* gen) {
  return random_tensor(shape, options, gen, {RandomDistribution::Uniform});
}

Tensor randn(const Shape& shape, TensorOptions options, Generator* gen) {
  return random_tensor(shape, options, gen, {RandomDistribution::Normal});
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, TensorOptions options, Generator* gen) {
  if (high <= low) throw ValueError(fmt::format("tinynn::randint: empty range [{}, {})", low, high));
  RandomPlan plan{RandomDistribution::Integers};
  plan.low = low;
  plan.span = static_cast<std::uint64_t>(high - low);
  return random_tensor(shape, options, gen, plan);
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  const auto probs = p.to_vector<double>();
  for (double q : probs)
    if (!(q >= 0.0 && q <= 1.0)) throw ValueError(fmt::format("tinynn::bernoulli: probability {} is outside [0, 1]", q));
  // u < p elementwise, with the same uniform words a rand() of p's shape would use.
  const DType t = is_floating(p.dtype()) ? p.dtype() : DType::Float32;
  return (rand(p.shape(), {DType::Float64, p.device()}, gen) < p.to(DType::Float64)).to(t);
}

Tensor bernoulli(const Shape& shape, double p, TensorOptions options, Generator* gen, double value) {
  if (!(p >= 0.0 && p <= 1.0)) throw ValueError(fmt::format("tinynn::bernoulli: probability {} is outside [0, 1]", p));
  RandomPlan plan{RandomDistribution::Bernoulli};
  plan.threshold = static_cast<std::uint64_t>(std::ceil(p * 4294967296.0));
  plan.value = value;
  return random_tensor(shape, options, gen, plan);
}

}  // namespace tinynn
