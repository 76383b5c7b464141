// The composite part of tinynn::linalg: norms, distances, projection, trace, matrix powers.
// Written with differentiable ops (and svdvals), so gradients need no formulas of their own.
#include <fmt/format.h>

#include <cmath>

#include "creation.h"
#include "detail/linalg_checks.h"
#include "linalg.h"
#include "linear.h"
#include "ops.h"
#include "reduce.h"

namespace tinynn::linalg {

namespace {
using detail::require_matrix_dims;
Tensor keep_matrix_axes(const Tensor& t, bool keepdim) { return keepdim ? t.unsqueeze(-1).unsqueeze(-1) : t; }
}  // namespace

Tensor vector_norm(const Tensor& x, double ord, const Axes& axes, bool keepdim) { return norm(x, ord, axes, keepdim); }

Tensor matrix_norm(const Tensor& a, const std::string& ord, bool keepdim) {
  require_matrix_dims("matrix_norm", a);
  if (ord == "fro") return norm(a, 2.0, {-2, -1}, keepdim);
  if (ord == "nuc") return keep_matrix_axes(sum(svdvals(a), {-1}), keepdim);
  throw ValueError(fmt::format("tinynn::linalg::matrix_norm: unknown order \"{}\" (use \"fro\", \"nuc\", 1, -1, 2, -2, inf or -inf)", ord));
}

Tensor matrix_norm(const Tensor& a, double ord, bool keepdim) {
  require_matrix_dims("matrix_norm", a);
  const bool largest = ord > 0;
  auto pick = [largest](const Tensor& t) { return largest ? amax(t, {-1}) : amin(t, {-1}); };
  const double magnitude = std::abs(ord);
  Tensor out;
  if (magnitude == 2.0) out = pick(svdvals(a));
  else if (magnitude == 1.0) out = pick(sum(abs(a), {-2}));               // column sums
  else if (std::isinf(magnitude)) out = pick(sum(abs(a), {-1}));          // row sums
  else throw ValueError(fmt::format("tinynn::linalg::matrix_norm: order {} is not a matrix norm (use \"fro\", \"nuc\", 1, -1, 2, -2, inf or -inf)", ord));
  return keep_matrix_axes(out, keepdim);
}

Tensor euclidean_distance(const Tensor& a, const Tensor& b) { return norm(a - b, 2.0, {-1}); }
Tensor manhattan_distance(const Tensor& a, const Tensor& b) { return norm(a - b, 1.0, {-1}); }

Tensor cosine_similarity(const Tensor& a, const Tensor& b, double eps) {
  const Tensor na = clamp(norm(a, 2.0, {-1}), eps, std::nullopt), nb = clamp(norm(b, 2.0, {-1}), eps, std::nullopt);
  return sum(a * b, {-1}) / (na * nb);
}
Tensor cosine_distance(const Tensor& a, const Tensor& b, double eps) { return 1.0 - cosine_similarity(a, b, eps); }

Tensor cdist(const Tensor& x1, const Tensor& x2, double p) {
  if (x1.dim() < 2 || x2.dim() < 2 || x1.size(-1) != x2.size(-1))
    throw ShapeError(fmt::format("tinynn::linalg::cdist: expected [..., P, d] and [..., R, d] with the same d, got {} and {}",
                                 shape_str(x1.shape()), shape_str(x2.shape())));
  return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, {-1});  // [..., P, 1, d] - [..., 1, R, d]
}

Tensor project(const Tensor& a, const Tensor& b) {
  if (a.dim() == 0 || b.dim() == 0)
    throw ShapeError(fmt::format("tinynn::linalg::project: expected vectors [..., d], got {} and {}", shape_str(a.shape()),
                                 shape_str(b.shape())));
  const Tensor bb = sum(b * b, {-1}, true);
  if (sum(bb == 0.0).item<std::int64_t>() > 0)
    throw ValueError("tinynn::linalg::project: cannot project onto a zero vector");
  return sum(a * b, {-1}, true) / bb * b;
}

namespace {
// x where column - row is at most (lower) or at least (upper) `offset`, zero elsewhere.
Tensor triangle(const char* fn, const Tensor& x, bool lower, std::int64_t offset) {
  require_matrix_dims(fn, x);
  const TensorOptions idx{DType::Int64, x.device()};
  const Tensor rows = arange(0, x.size(-2), 1, idx).unsqueeze(1), cols = arange(0, x.size(-1), 1, idx).unsqueeze(0);
  return where(lower ? (cols - rows) <= offset : (cols - rows) >= offset, x, 0.0);
}
}  // namespace

Tensor tril(const Tensor& a, std::int64_t offset) { return triangle("tril", a, true, offset); }
Tensor triu(const Tensor& a, std::int64_t offset) { return triangle("triu", a, false, offset); }

Tensor diagonal(const Tensor& a) {
  require_matrix_dims("diagonal", a);
  const std::int64_t k = std::min(a.size(-2), a.size(-1));
  const Tensor mask = eye(a.size(-2), a.size(-1), {a.dtype(), a.device()});
  return sum(a * mask, {-1}).narrow(-1, 0, k);  // row i keeps only A[i, i]
}

Tensor trace(const Tensor& a) { return sum(diagonal(a), {-1}); }

Tensor matrix_power(const Tensor& a, std::int64_t n) {
  require_matrix_dims("matrix_power", a);
  if (a.size(-1) != a.size(-2))
    throw ShapeError(fmt::format("tinynn::linalg::matrix_power: expected square matrices, got shape {}", shape_str(a.shape())));
  if (n == 0) return eye(a.size(-1), std::nullopt, {a.dtype(), a.device()}).expand(a.shape()).contiguous();
  Tensor base = n < 0 ? inv(a) : a;
  std::uint64_t remaining = static_cast<std::uint64_t>(n < 0 ? -n : n);
  Tensor result;  // binary exponentiation: log2(n) squarings
  while (true) {
    if (remaining & 1) result = result.defined() ? matmul(result, base) : base;
    remaining >>= 1;
    if (remaining == 0) break;
    base = matmul(base, base);
  }
  return result;
}

}  // namespace tinynn::linalg
