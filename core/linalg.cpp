// Decompositions and solvers: one Backend::linalg call each on a private contiguous copy of the
// input, results shaped back to the batch. The differentiable ones (det, slogdet, solve/inv,
// cholesky, svdvals, eigvalsh, pinv) record their op kind; autograd/formulas_linalg.cpp holds
// the backward formulas.
#include "linalg.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "backend.h"
#include "creation.h"
#include "detail/autograd_hooks.h"
#include "detail/linalg_checks.h"
#include "detail/plan.h"
#include "linear.h"
#include "ops.h"
#include "reduce.h"

namespace tinynn::linalg {

namespace {

// A private contiguous copy of a batch of matrices, ready to be overwritten by LAPACK.
struct Batch {
  Tensor work;       // [..., m, n]
  Shape batch;       // the leading axes
  std::int64_t count = 1, m = 0, n = 0;
};

Shape with_tail(Shape batch, std::initializer_list<std::int64_t> tail) {
  batch.insert(batch.end(), tail);
  return batch;
}

void require_matrix(const char* fn, const Tensor& a, bool square) {
  detail::require_matrix_dims(fn, a);
  if (square && a.size(-1) != a.size(-2))
    throw ShapeError(fmt::format("tinynn::linalg::{}: expected square matrices [..., n, n], got shape {}", fn,
                                 shape_str(a.shape())));
  if (a.dtype() != DType::Float32 && a.dtype() != DType::Float64)
    throw DTypeError(fmt::format("tinynn::linalg::{}: expected float32 or float64, got {}", fn, dtype_name(a.dtype())));
}

Batch prepare(const char* fn, const Tensor& a, bool square) {
  require_matrix(fn, a, square);
  Batch b;
  b.batch = Shape(a.shape().begin(), a.shape().end() - 2);
  b.count = numel_of(b.batch);
  b.m = a.size(-2);
  b.n = a.size(-1);
  b.work = empty(a.shape(), a.dtype(), a.device());
  detail::copy_tensor(b.work, a);
  return b;
}

LinalgPlan plan_of(LinalgOp op, const Batch& b) {
  LinalgPlan plan;
  plan.op = op;
  plan.dtype = b.work.dtype();
  plan.batch = b.count;
  plan.m = b.m;
  plan.n = b.n;
  plan.a = b.work.raw_data();
  return plan;
}

// Runs the plan when there is anything to do, then turns a failing status into a LinalgError;
// `failure(info)` words the reason for a positive status.
template <class Failure>
void run(const char* fn, LinalgPlan plan, const Tensor& on, Failure failure) {
  if (plan.batch == 0 || (plan.m == 0 && plan.n == 0)) return;
  std::vector<std::int64_t> info(static_cast<std::size_t>(plan.batch), 0);
  plan.info = info.data();
  backend_for(on.device()).linalg(plan);
  for (std::size_t i = 0; i < info.size(); ++i) {
    if (info[i] == 0) continue;
    const std::string where = plan.batch > 1 ? fmt::format(" (batch element {})", i) : "";
    if (info[i] < 0)
      throw LinalgError(fmt::format("tinynn::linalg::{}: the input holds NaN or infinity{}", fn, where));
    throw LinalgError(fmt::format("tinynn::linalg::{}: {}{}", fn, failure(info[i]), where));
  }
}

auto singular(const char* what) {
  return [what](std::int64_t info) {
    return fmt::format("the {} is singular (U[{}, {}] of its LU factorization is exactly zero)", what, info - 1, info - 1);
  };
}
auto not_converged(std::int64_t info) {
  return fmt::format("the algorithm did not converge ({} off-diagonal elements)", info);
}

// Pivots of getrf ([..., k], 1-based row swaps) -> the sign of the permutation, [...] of dtype t.
Tensor permutation_sign(const Tensor& pivots, DType t) {
  const Tensor identity = arange(1, pivots.size(-1) + 1, 1, {DType::Int64, pivots.device()});
  return prod(where(pivots != identity, -1.0, ones(pivots.shape(), {t, pivots.device()})), {-1});
}

struct LuFactors {
  Tensor lu;      // [..., m, n], L below the diagonal and U on and above it
  Tensor pivots;  // [..., min(m, n)]
};
LuFactors lu_factor(const char* fn, const Tensor& a, bool square) {
  Batch b = prepare(fn, a, square);
  Tensor pivots = empty(with_tail(b.batch, {std::min(b.m, b.n)}), DType::Int64, a.device());
  LinalgPlan plan = plan_of(LinalgOp::LuFactor, b);
  plan.pivots = pivots.data_ptr<std::int64_t>();
  run(fn, plan, a, [](std::int64_t) { return std::string(); });
  return {b.work, pivots};
}

// Solves A X = B for A [..., n, n] and B [..., n, k], batch axes broadcast; recorded as Solve.
Tensor solve_matrices(const char* fn, const Tensor& a, const Tensor& b_in, const char* what) {
  require_matrix(fn, a, true);
  if (b_in.dim() < 2 || b_in.size(-2) != a.size(-1))
    throw ShapeError(fmt::format("tinynn::linalg::{}: cannot solve with A {} and B {}: B needs {} rows", fn,
                                 shape_str(a.shape()), shape_str(b_in.shape()), a.size(-1)));
  detail::check_same_device(fn, a, b_in);
  const Tensor rhs = b_in.to(a.dtype());
  const Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                       Shape(rhs.shape().begin(), rhs.shape().end() - 2), fn);
  const std::int64_t n = a.size(-1), k = rhs.size(-1);
  const Tensor a_full = a.expand(with_tail(batch, {n, n})), b_full = rhs.expand(with_tail(batch, {n, k}));
  Batch work = prepare(fn, a_full, true);
  Tensor x = empty(b_full.shape(), a.dtype(), a.device());
  detail::copy_tensor(x, b_full);
  LinalgPlan plan = plan_of(LinalgOp::Solve, work);
  plan.k = k;
  plan.b = x.raw_data();
  if (k > 0) run(fn, plan, a, singular(what));
  return detail::recorded({detail::OpKind::Solve, {a_full, b_full}}, x);
}

// torch.linalg's rule: B is a (batch of) vector(s) when it is 1-D or has A's shape without its
// last axis; otherwise a (batch of) matrices.
bool is_vector_rhs(const Tensor& a, const Tensor& b) {
  return b.dim() == 1 || (b.dim() == a.dim() - 1 && std::equal(b.shape().begin(), b.shape().end(), a.shape().begin()));
}

}  // namespace

// ---- determinants, inverses, solvers ------------------------------------------------------

Tensor det(const Tensor& a) {
  const auto [lu, pivots] = lu_factor("det", a, true);
  const Tensor out = prod(diagonal(lu), {-1}) * permutation_sign(pivots, a.dtype());
  return detail::recorded({detail::OpKind::Det, {a}}, out);
}

SlogdetResult slogdet(const Tensor& a) {
  const auto [lu, pivots] = lu_factor("slogdet", a, true);
  const Tensor d = diagonal(lu);
  const Tensor sign_of = prod(sign(d), {-1}) * permutation_sign(pivots, a.dtype());
  const Tensor logabsdet = sum(log(abs(d)), {-1});
  return {sign_of, detail::recorded({detail::OpKind::LogAbsDet, {a}}, logabsdet)};
}

Tensor solve(const Tensor& a, const Tensor& b) {
  require_matrix("solve", a, true);
  const bool vector = is_vector_rhs(a, b);
  const Tensor x = solve_matrices("solve", a, vector ? b.unsqueeze(-1) : b, "matrix A");
  return vector ? x.squeeze(-1) : x;
}

Tensor inv(const Tensor& a) {
  require_matrix("inv", a, true);
  const std::int64_t n = a.size(-1);
  return solve_matrices("inv", a, eye(n, std::nullopt, {a.dtype(), a.device()}), "matrix");
}

Tensor lstsq(const Tensor& a, const Tensor& b_in, double rcond) {
  require_matrix("lstsq", a, false);
  const bool vector = is_vector_rhs(a, b_in);
  const Tensor rhs = (vector ? b_in.unsqueeze(-1) : b_in).to(a.dtype());
  if (rhs.dim() < 2 || rhs.size(-2) != a.size(-2))
    throw ShapeError(fmt::format("tinynn::linalg::lstsq: cannot solve with A {} and B {}: B needs {} rows",
                                 shape_str(a.shape()), shape_str(b_in.shape()), a.size(-2)));
  detail::check_same_device("lstsq", a, rhs);
  const std::int64_t m = a.size(-2), n = a.size(-1), k = rhs.size(-1);
  const Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                       Shape(rhs.shape().begin(), rhs.shape().end() - 2), "lstsq");
  Batch work = prepare("lstsq", a.expand(with_tail(batch, {m, n})), false);
  // LAPACK returns the n-row solution in a right-hand side with max(m, n) rows.
  Tensor x = zeros(with_tail(batch, {std::max(m, n), k}), {a.dtype(), a.device()});
  detail::copy_tensor(x.narrow(-2, 0, m), rhs.expand(with_tail(batch, {m, k})));
  LinalgPlan plan = plan_of(LinalgOp::Lstsq, work);
  plan.k = k;
  plan.b = x.raw_data();
  plan.rcond = rcond;
  if (k > 0) run("lstsq", plan, a, not_converged);
  const Tensor solution = x.narrow(-2, 0, n);
  return vector ? solution.squeeze(-1) : solution;
}

// ---- decompositions --------------------------------------------------------------------

LuResult lu(const Tensor& a) {
  const auto [packed, pivots] = lu_factor("lu", a, false);
  const std::int64_t m = a.size(-2), n = a.size(-1), k = std::min(m, n);
  const TensorOptions options{a.dtype(), a.device()};
  const Tensor L = tril(packed.narrow(-1, 0, k), -1) + eye(m, k, options);
  const Tensor U = triu(packed.narrow(-2, 0, k));
  // Replay the row swaps to find which row of A each row of L U came from: A = P (L U) with
  // P[perm[i], i] = 1.
  const Tensor host_pivots = pivots.to(Device::cpu()).contiguous();
  const std::int64_t count = numel_of(Shape(a.shape().begin(), a.shape().end() - 2));
  std::vector<double> p(static_cast<std::size_t>(count * m * m), 0.0);
  for (std::int64_t b = 0; b < count; ++b) {
    std::vector<std::int64_t> perm(static_cast<std::size_t>(m));
    std::iota(perm.begin(), perm.end(), 0);
    const std::int64_t* piv = host_pivots.data_ptr<std::int64_t>() + b * k;
    for (std::int64_t i = 0; i < k; ++i) std::swap(perm[i], perm[piv[i] - 1]);
    for (std::int64_t i = 0; i < m; ++i) p[static_cast<std::size_t>(b * m * m + perm[i] * m + i)] = 1.0;
  }
  const Tensor P = from_vector(p, with_tail(Shape(a.shape().begin(), a.shape().end() - 2), {m, m})).to(a.dtype()).to(a.device());
  return {P, L, U};
}

QrResult qr(const Tensor& a, bool complete) {
  Batch b = prepare("qr", a, false);
  const std::int64_t k = complete ? b.m : std::min(b.m, b.n);
  Tensor q = empty(with_tail(b.batch, {b.m, k}), a.dtype(), a.device());
  Tensor r = empty(with_tail(b.batch, {k, b.n}), a.dtype(), a.device());
  LinalgPlan plan = plan_of(LinalgOp::Qr, b);
  plan.full = complete;
  plan.u = q.raw_data();
  plan.vt = r.raw_data();
  run("qr", plan, a, [](std::int64_t) { return std::string("failed"); });
  return {q, r};
}

Tensor cholesky(const Tensor& a) {
  Batch b = prepare("cholesky", a, true);
  run("cholesky", plan_of(LinalgOp::Cholesky, b), a, [](std::int64_t info) {
    return fmt::format("the matrix is not positive definite (its leading minor of order {} is not positive)", info);
  });
  return detail::recorded({detail::OpKind::Cholesky, {a}}, b.work);
}

namespace {

SvdResult svd_impl(const char* fn, const Tensor& a, bool vectors, bool full) {
  Batch b = prepare(fn, a, false);
  const std::int64_t k = std::min(b.m, b.n);
  SvdResult out;
  out.S = empty(with_tail(b.batch, {k}), a.dtype(), a.device());
  LinalgPlan plan = plan_of(LinalgOp::Svd, b);
  plan.values = out.S.raw_data();
  plan.vectors = vectors;
  plan.full = full;
  if (vectors) {
    out.U = empty(with_tail(b.batch, {b.m, full ? b.m : k}), a.dtype(), a.device());
    out.Vh = empty(with_tail(b.batch, {full ? b.n : k, b.n}), a.dtype(), a.device());
    plan.u = out.U.raw_data();
    plan.vt = out.Vh.raw_data();
  }
  if (k > 0) run(fn, plan, a, not_converged);
  return out;
}

EighResult eigh_impl(const char* fn, const Tensor& a, bool vectors) {
  Batch b = prepare(fn, a, true);
  EighResult out;
  out.eigenvalues = empty(with_tail(b.batch, {b.n}), a.dtype(), a.device());
  LinalgPlan plan = plan_of(LinalgOp::Eigh, b);
  plan.values = out.eigenvalues.raw_data();
  plan.vectors = vectors;
  run(fn, plan, a, not_converged);
  if (vectors) out.eigenvectors = b.work;
  return out;
}

}  // namespace

SvdResult svd(const Tensor& a, bool full_matrices) { return svd_impl("svd", a, true, full_matrices); }

Tensor svdvals(const Tensor& a) {
  // The backward needs the singular vectors; skip computing them when no graph is recorded.
  const bool record = detail::should_record({&a});
  SvdResult r = svd_impl("svdvals", a, record, false);
  detail::OpRecord rec(detail::OpKind::Svdvals, {a});
  if (record) rec.saved = {r.U, r.Vh};
  return detail::recorded(std::move(rec), r.S);
}

EighResult eigh(const Tensor& a) { return eigh_impl("eigh", a, true); }

Tensor eigvalsh(const Tensor& a) {
  const bool record = detail::should_record({&a});
  EighResult r = eigh_impl("eigvalsh", a, record);
  detail::OpRecord rec(detail::OpKind::Eigvalsh, {a});
  if (record) rec.saved = {r.eigenvectors};
  return detail::recorded(std::move(rec), r.eigenvalues);
}

EigvalsResult eigvals(const Tensor& a) {
  Batch b = prepare("eigvals", a, true);
  EigvalsResult out{empty(with_tail(b.batch, {b.n}), a.dtype(), a.device()),
                    empty(with_tail(b.batch, {b.n}), a.dtype(), a.device())};
  LinalgPlan plan = plan_of(LinalgOp::Eigvals, b);
  plan.values = out.real.raw_data();
  plan.values2 = out.imag.raw_data();
  run("eigvals", plan, a, [](std::int64_t info) {
    return fmt::format("the QR algorithm failed to compute all eigenvalues ({} did not converge)", info);
  });
  return out;
}

// ---- rank, pseudo-inverse, conditioning, low-rank approximation ---------------------------------

namespace {
// NumPy's relative tolerance for "numerically zero" singular values of a: max(m, n) * eps.
double default_rtol(const Tensor& a) {
  const double eps = a.dtype() == DType::Float32 ? std::numeric_limits<float>::epsilon() : std::numeric_limits<double>::epsilon();
  return static_cast<double>(std::max(a.size(-2), a.size(-1))) * eps;
}
// Singular values of a without a graph: S [..., k].
Tensor plain_svdvals(const char* fn, const Tensor& a) { return svd_impl(fn, a.detach(), false, false).S; }
}  // namespace

Tensor matrix_rank(const Tensor& a, double tol) {
  const Tensor s = plain_svdvals("matrix_rank", a);
  if (s.size(-1) == 0) return zeros(Shape(s.shape().begin(), s.shape().end() - 1), {DType::Int64, a.device()});
  const Tensor threshold = tol >= 0 ? full(Shape{}, tol, {a.dtype(), a.device()})
                                    : amax(s, {-1}, true) * default_rtol(a);
  return sum(s > threshold, {-1});
}

Tensor pinv(const Tensor& a, double rtol) {
  require_matrix("pinv", a, false);
  const SvdResult r = svd_impl("pinv", a.detach(), true, false);
  const double relative = rtol >= 0 ? rtol : default_rtol(a);
  Tensor out;
  if (r.S.size(-1) == 0) {
    out = zeros(with_tail(Shape(a.shape().begin(), a.shape().end() - 2), {a.size(-1), a.size(-2)}), {a.dtype(), a.device()});
  } else {
    const Tensor cutoff = amax(r.S, {-1}, true) * relative;
    const Tensor s_inv = where(r.S > cutoff, 1.0 / r.S, 0.0);  // [..., k]
    out = matmul(r.Vh.transpose(-1, -2) * s_inv.unsqueeze(-2), r.U.transpose(-1, -2));
  }
  return detail::recorded({detail::OpKind::Pinv, {a}}, out);
}

Tensor cond(const Tensor& a) {
  require_matrix("cond", a, false);
  const Tensor s = svdvals(a);
  if (s.size(-1) == 0) throw ShapeError(fmt::format("tinynn::linalg::cond: an empty matrix {} has no condition number", shape_str(a.shape())));
  const Tensor largest = s.narrow(-1, 0, 1).squeeze(-1), smallest = s.narrow(-1, s.size(-1) - 1, 1).squeeze(-1);
  // Singular to working precision (matrix_rank's threshold) reads as inf, not as 1e16 of rounding noise.
  return where(smallest <= largest * default_rtol(a), std::numeric_limits<double>::infinity(), largest / smallest);
}

Tensor low_rank(const Tensor& a, std::int64_t k) {
  require_matrix("low_rank", a, false);
  const std::int64_t most = std::min(a.size(-2), a.size(-1));
  if (k < 0 || k > most)
    throw ValueError(fmt::format("tinynn::linalg::low_rank: rank {} is outside [0, {}] for shape {}", k, most,
                                 shape_str(a.shape())));
  const SvdResult r = svd_impl("low_rank", a.detach(), true, false);
  return matmul(r.U.narrow(-1, 0, k) * r.S.narrow(-1, 0, k).unsqueeze(-2), r.Vh.narrow(-2, 0, k));
}

Tensor energy_profile(const Tensor& a) {
  const Tensor squares = square(plain_svdvals("energy_profile", a));
  const Tensor total = sum(squares, {-1}, true);
  return where(total > 0.0, cumsum(squares, -1) / total, 1.0);
}

}  // namespace tinynn::linalg
