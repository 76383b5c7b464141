// Creating tensors: from values, constant fills, ranges, identity, and seeded random draws.
#pragma once
#include <initializer_list>
#include <vector>

#include "random.h"
#include "tensor.h"

namespace tinynn {

// Nested braces of numbers, e.g. {{1, 2, 3}, {4, 5, 6}}: a value or a list of NestedValues.
class NestedValues {
 public:
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  NestedValues(T v) : scalar_(v), is_scalar_(true) {}  // NOLINT(google-explicit-constructor)
  NestedValues(std::initializer_list<NestedValues> items) : items_(items) {}

  bool is_scalar() const { return is_scalar_; }
  const Scalar& scalar() const { return scalar_; }
  const std::vector<NestedValues>& items() const { return items_; }

 private:
  Scalar scalar_ = 0;
  bool is_scalar_ = false;
  std::vector<NestedValues> items_;
};

struct TensorOptions {
  DType dtype = DType::Float32;
  Device device = Device::cpu();
};

// tensor({{1, 2}, {3, 4}}): int64 when every value is an integer, float32 otherwise, unless
// `dtype` is given. Ragged nesting throws ShapeError.
Tensor tensor(const NestedValues& values);
Tensor tensor(const NestedValues& values, DType dtype, Device device = Device::cpu());
// A copy of `values` with the given shape (numel must match).
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
Tensor scalar_tensor(Scalar value, DType dtype, Device device = Device::cpu());

Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, Scalar value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, Scalar value);

// [start, end) by step; int64 when all three are integers, else float32 (or options.dtype).
Tensor arange(Scalar end);
Tensor arange(Scalar start, Scalar end, Scalar step = 1);
Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options);
Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options = {});
Tensor eye(std::int64_t n, std::optional<std::int64_t> m = std::nullopt, TensorOptions options = {});

// Random draws from `gen` (default_generator() when null).
Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);   // U[0, 1)
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);  // N(0, 1)
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape,
               TensorOptions options = {DType::Int64, Device::cpu()}, Generator* gen = nullptr);
// 1 with probability p (per element of `p`, or one scalar p), else 0; dtype of p or float32.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
// `value` with probability p, else 0 (value 1 by default; dropout draws 1 / (1 - p) directly).
Tensor bernoulli(const Shape& shape, double p, TensorOptions options = {}, Generator* gen = nullptr, double value = 1.0);

}  // namespace tinynn
