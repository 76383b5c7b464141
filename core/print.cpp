// PyTorch-style printing: nested brackets, aligned columns, "..." beyond 1000 elements,
// then shape, dtype and device.
#include "print.h"

#include <fmt/format.h>

#include <cmath>
#include <ostream>
#include <sstream>

namespace tinynn {

namespace {

constexpr std::int64_t kSummarizeAbove = 1000;
constexpr std::int64_t kEdgeItems = 3;

struct Formatter {
  DType dtype;
  bool integral_values = true;  // floats that are all whole numbers print as "3."
  bool scientific = false;

  std::string format(double v) const {
    if (dtype == DType::Bool) return v != 0 ? "True" : "False";
    if (dtype == DType::Int64) return fmt::format("{}", static_cast<std::int64_t>(v));
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (scientific) return fmt::format("{:.4e}", v);
    if (integral_values) return fmt::format("{:.0f}.", v);
    return fmt::format("{:.4f}", v);
  }
};

void print_rec(std::ostream& os, const std::vector<double>& values, const Shape& shape, std::size_t axis,
               std::int64_t offset, bool summarize, const Formatter& f, std::size_t width, int indent) {
  const Shape strides = contiguous_strides(shape);
  const std::int64_t n = shape[axis];
  os << '[';
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
      os << (axis + 1 == shape.size() ? "..., " : fmt::format("...,\n{}", std::string(indent + 1, ' ')));
      i = n - kEdgeItems;
    }
    const std::int64_t at = offset + i * strides[axis];
    if (axis + 1 == shape.size()) {
      const std::string s = f.format(values[static_cast<std::size_t>(at)]);
      os << std::string(width > s.size() ? width - s.size() : 0, ' ') << s;
    } else {
      print_rec(os, values, shape, axis + 1, at, summarize, f, width, indent + 1);
    }
    if (i + 1 < n) {
      os << ',';
      if (axis + 1 == shape.size()) os << ' ';
      else os << std::string(shape.size() - axis - 1, '\n') << std::string(indent + 1, ' ');
    }
  }
  os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }
std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const std::vector<double> values = t.to_vector<double>();
  Formatter f{t.dtype()};
  double max_abs = 0, min_abs = INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    f.integral_values = f.integral_values && v == std::floor(v);
    max_abs = std::max(max_abs, std::abs(v));
    if (v != 0) min_abs = std::min(min_abs, std::abs(v));
  }
  f.scientific = is_floating(t.dtype()) && (max_abs >= 1e8 || (!f.integral_values && min_abs < 1e-4) ||
                                            (min_abs != INFINITY && max_abs / min_abs > 1e3 && !f.integral_values));
  std::size_t width = 0;
  for (double v : values) width = std::max(width, f.format(v).size());
  os << "tensor(";
  if (t.dim() == 0) os << f.format(values.empty() ? 0 : values[0]);
  else if (t.numel() == 0) os << "[]";
  else print_rec(os, values, t.shape(), 0, 0, t.numel() > kSummarizeAbove, f, width, 7);
  return os << ", shape=" << shape_str(t.shape()) << ", dtype=" << dtype_name(t.dtype()) << ", device=" << t.device().str()
            << ')';
}

std::string to_string(const Tensor& t) {
  std::ostringstream ss;
  ss << t;
  return ss.str();
}

}  // namespace tinynn
