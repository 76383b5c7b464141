// Dataset helpers: subsets, transforms, validation split, permutations.
#include "dataset.h"

#include <fmt/format.h>

#include <cmath>

#include "../../autograd/autograd.h"
#include "../../core/creation.h"
#include "../../core/ops.h"
#include "../../core/random.h"
#include "../../core/reduce.h"
#include "../../core/shape_ops.h"

namespace tinynn::nn {

Dataset Dataset::subset(const Tensor& indices) const {
  Dataset out = *this;
  out.inputs = index_select(inputs, 0, indices);
  out.targets = index_select(targets, 0, indices);
  return out;
}

std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed, std::uint64_t stream) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  std::uint32_t words[4];
  for (std::int64_t i = n - 1; i > 0; --i) {
    // One 64-bit draw per swap from counter (stream, i): no modulo bias worth measuring.
    philox4x32(seed, (stream << 32) ^ static_cast<std::uint64_t>(i), words);
    const std::uint64_t r = (static_cast<std::uint64_t>(words[0]) << 32) | words[1];
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(r % static_cast<std::uint64_t>(i + 1))]);
  }
  return order;
}

namespace {
template <class F>
void each_split(DataSplits& s, F f) {
  for (Dataset* d : {&s.train, &s.validation, &s.test})
    if (d->inputs.defined()) f(*d);
}
}  // namespace

void scale_inputs(DataSplits& splits, double factor) {
  NoGradGuard no_grad;
  each_split(splits, [factor](Dataset& d) { d.inputs = d.inputs * factor; });
}

std::pair<double, double> input_mean_std(const Dataset& data) {
  if (data.size() == 0) throw DataError("tinynn::nn::input_mean_std: the training set is empty");
  // One pass over the data, accumulated in double: no float64 copy of the whole set.
  double sum = 0, sum_sq = 0;
  const Tensor x = data.inputs.to(Device::cpu()).contiguous();
  const std::int64_t n = x.numel();
  auto accumulate = [&](const auto* p) {
    for (std::int64_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(p[i]);
      sum += v;
      sum_sq += v * v;
    }
  };
  if (x.dtype() == DType::Float32) accumulate(x.data_ptr<float>());
  else accumulate(x.to(DType::Float64).data_ptr<double>());
  const double mean_value = sum / static_cast<double>(n);
  return {mean_value, std::sqrt(std::max(sum_sq / static_cast<double>(n) - mean_value * mean_value, 0.0))};
}

void normalize_inputs(DataSplits& splits, double mean_value, double std_value) {
  if (!(std_value > 0) || !std::isfinite(std_value))
    throw DataError(fmt::format("tinynn::nn::normalize: std must be positive, got {} (constant inputs?)", std_value));
  NoGradGuard no_grad;
  each_split(splits, [&](Dataset& d) { d.inputs = (d.inputs - mean_value) / std_value; });
}

void flatten_inputs(DataSplits& splits) {
  each_split(splits, [](Dataset& d) { d.inputs = d.inputs.reshape({d.size(), -1}); });
}

void split_validation(DataSplits& splits, double fraction, std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0))
    throw DataError(fmt::format("tinynn::nn::split_validation: fraction must be in [0, 1), got {}", fraction));
  const std::int64_t n = splits.train.size();
  const auto val = static_cast<std::int64_t>(std::llround(static_cast<double>(n) * fraction));
  if (val == 0) return;
  if (val >= n) throw DataError(fmt::format("tinynn::nn::split_validation: {} samples cannot be split {}", n, fraction));
  const auto order = permutation(n, seed, 0xDA7A);
  const std::vector<std::int64_t> train_idx(order.begin(), order.end() - val), val_idx(order.end() - val, order.end());
  const Dataset all = splits.train;
  splits.validation = all.subset(from_vector(val_idx, {val}));
  splits.train = all.subset(from_vector(train_idx, {n - val}));
}

}  // namespace tinynn::nn
