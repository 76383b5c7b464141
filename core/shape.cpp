// Shape arithmetic and the broadcasting rule.
#include "shape.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "error.h"

namespace tinynn {

std::int64_t numel_of(const Shape& shape) {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  std::int64_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<std::int64_t>(shape[i], 1);
  }
  return strides;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* fn) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(fmt::format(
          "tinynn::{}: cannot broadcast {} with {}: sizes {} and {} at axis {} differ and neither is 1",
          fn, shape_str(a), shape_str(b), da, db, static_cast<std::int64_t>(i) - static_cast<std::int64_t>(n)));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int normalize_axis(std::int64_t axis, int ndim, const char* fn) {
  const int span = std::max(ndim, 1);  // a 0-d tensor accepts axis 0 and -1, like PyTorch
  if (axis < -span || axis >= span)
    throw IndexError(fmt::format("tinynn::{}: axis {} is out of range for a tensor with {} dimension(s)",
                                 fn, axis, ndim));
  return static_cast<int>(axis < 0 ? axis + span : axis);
}

}  // namespace tinynn
