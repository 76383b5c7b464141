// Creating tensors: from nested values, fills, ranges, identity, and Philox random draws.
// Values are produced on the host and copied to the target device in one transfer.
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
    shape.push_back(n);
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

// Fills a new tensor with per-element values drawn from Philox blocks, written straight into a
// host buffer of the target dtype (no intermediate copies), then moved to the device.
// draw(words, count, start, out) turns `count` random words into elements start.. of the
// tensor, written to out[0..count).
template <class Draw>
Tensor random_tensor(const Shape& shape, TensorOptions options, Generator* gen, Draw draw) {
  Generator& g = gen != nullptr ? *gen : default_generator();
  const std::int64_t n = numel_of(shape);
  Tensor host = empty(shape, options.dtype, Device::cpu());
  const std::uint64_t first = g.advance(static_cast<std::uint64_t>((n + 3) / 4));
  const std::uint64_t seed = g.seed();
  auto fill = [&](auto* out) {
    // Words in chunks of 256 blocks (a 4 KiB buffer on the stack): element i uses word i % 4
    // of block i / 4.
    constexpr std::int64_t kChunkBlocks = 256;
    std::uint32_t words[4 * kChunkBlocks];
    for (std::int64_t start = 0; start < n; start += 4 * kChunkBlocks) {
      const std::int64_t count = std::min<std::int64_t>(4 * kChunkBlocks, n - start);
      philox4x32_blocks(seed, first + static_cast<std::uint64_t>(start / 4), (count + 3) / 4, words);
      draw(words, count, start, out + start);
    }
  };
  switch (options.dtype) {
    case DType::Float32: fill(host.data_ptr<float>()); break;
    case DType::Float64: fill(host.data_ptr<double>()); break;
    case DType::Int64: fill(host.data_ptr<std::int64_t>()); break;
    case DType::Bool: fill(host.data_ptr<bool>()); break;
  }
  return host.to(options.device);
}

// A chunk drawer from a per-element one: value(bits, flat index) -> element.
template <class Value>
auto per_element(Value value) {
  return [value](const std::uint32_t* words, std::int64_t count, std::int64_t start, auto* out) {
    using T = std::remove_pointer_t<decltype(out)>;
    for (std::int64_t k = 0; k < count; ++k) out[k] = static_cast<T>(value(words[k], start + k));
  };
}

// A uniform double in [0, 1) from 32 random bits.
double unit_uniform(std::uint32_t bits) { return bits * (1.0 / 4294967296.0); }

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
  return random_tensor(shape, options, gen, per_element([](std::uint32_t bits, std::int64_t) { return unit_uniform(bits); }));
}

Tensor randn(const Shape& shape, TensorOptions options, Generator* gen) {
  // Box-Muller over pairs of uniforms; each element uses its own word and its neighbour's.
  Generator& g = gen != nullptr ? *gen : default_generator();
  const std::int64_t n = numel_of(shape);
  std::vector<double> values(static_cast<std::size_t>(n));
  const std::uint64_t first = g.advance(static_cast<std::uint64_t>((n + 1) / 2));
  std::uint32_t words[4];
  for (std::int64_t i = 0; i < n; i += 2) {
    philox4x32(g.seed(), first + static_cast<std::uint64_t>(i / 2), words);
    const double u1 = (words[0] + 1.0) / 4294967297.0;  // (0, 1]: log is finite
    const double u2 = unit_uniform(words[1]);
    const double r = std::sqrt(-2.0 * std::log(u1));
    values[static_cast<std::size_t>(i)] = r * std::cos(2.0 * M_PI * u2);
    if (i + 1 < n) values[static_cast<std::size_t>(i + 1)] = r * std::sin(2.0 * M_PI * u2);
  }
  return from_doubles(values, shape, options.dtype, options.device);
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, TensorOptions options, Generator* gen) {
  if (high <= low) throw ValueError(fmt::format("tinynn::randint: empty range [{}, {})", low, high));
  const auto span = static_cast<std::uint64_t>(high - low);
  return random_tensor(shape, options, gen, per_element([low, span](std::uint32_t bits, std::int64_t) {
    return static_cast<double>(low + static_cast<std::int64_t>(static_cast<std::uint64_t>(bits) % span));
  }));
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  const auto probs = p.to_vector<double>();
  for (double q : probs)
    if (!(q >= 0.0 && q <= 1.0)) throw ValueError(fmt::format("tinynn::bernoulli: probability {} is outside [0, 1]", q));
  const DType t = is_floating(p.dtype()) ? p.dtype() : DType::Float32;
  return random_tensor(p.shape(), {t, p.device()}, gen, per_element([&probs](std::uint32_t bits, std::int64_t i) {
    return unit_uniform(bits) < probs[static_cast<std::size_t>(i)] ? 1.0 : 0.0;
  }));
}

Tensor bernoulli(const Shape& shape, double p, TensorOptions options, Generator* gen, double value) {
  if (!(p >= 0.0 && p <= 1.0)) throw ValueError(fmt::format("tinynn::bernoulli: probability {} is outside [0, 1]", p));
  // u < p  <=>  bits < p * 2^32  <=>  bits < ceil(p * 2^32): an integer comparison per element,
  // and branchless (a branch taken at random 1 - p of the time mispredicts often).
  const auto threshold = static_cast<std::uint64_t>(std::ceil(p * 4294967296.0));
  return random_tensor(shape, options, gen, [threshold, value](const std::uint32_t* words, std::int64_t count, std::int64_t,
                                                               auto* out) {
    using T = std::remove_pointer_t<decltype(out)>;
    const T hit = static_cast<T>(value);
    if (threshold > 0xFFFFFFFFu) {  // p = 1
      std::fill(out, out + count, hit);
      return;
    }
    const auto below = static_cast<std::uint32_t>(threshold);
    for (std::int64_t k = 0; k < count; ++k) out[k] = words[k] < below ? hit : T(0);
  });
}

}  // namespace tinynn
