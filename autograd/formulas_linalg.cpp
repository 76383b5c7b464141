// Backward formulas of the linear-algebra ops (core/linalg.cpp), written with tinynn::linalg
// itself so that those built on solve (solve, inv, det, slogdet, cholesky, pinv) differentiate
// again. svdvals and eigvalsh use the saved singular/eigen vectors, which carry no graph: their
// second-order gradients throw instead of coming out wrong.
#include <fmt/format.h>

#include "../core/creation.h"
#include "../core/error.h"
#include "../core/grad_mode.h"
#include "../core/linalg.h"
#include "../core/linear.h"
#include "../core/ops.h"
#include "../core/reduce.h"
#include "../core/shape_ops.h"
#include "autograd.h"
#include "detail/formulas.h"

namespace tinynn::detail {

namespace {

Tensor mT(const Tensor& x) { return x.transpose(-1, -2); }
Tensor as_matrix_scale(const Tensor& x) { return x.unsqueeze(-1).unsqueeze(-1); }  // [...] -> [..., 1, 1]

void refuse_second_order(const OpRecord& rec) {
  if (is_grad_enabled())
    throw NotImplementedError(fmt::format("tinynn::backward: second-order gradients through {} are not implemented",
                                          op_kind_name(rec.kind)));
}

// The adjugate's transpose, which is d det / dA, from the SVD A = U S Vh:
// adj(A) = det(U) det(Vh) Vh^T diag(prod_{j != i} s_j) U^T. Valid for singular A too.
Tensor adjugate_transpose(const Tensor& a) {
  const auto r = linalg::svd(a.detach(), false);
  const std::int64_t n = r.S.size(-1);
  std::vector<Tensor> others;  // prod_{j != i} s_j for each i
  for (std::int64_t i = 0; i < n; ++i)
    others.push_back(prod(cat({r.S.narrow(-1, 0, i), r.S.narrow(-1, i + 1, n - i - 1)}, -1), {-1}, true));
  const Tensor cofactor_scales = cat(others, -1);                                   // [..., n]
  const Tensor orientation = linalg::det(r.U) * linalg::det(r.Vh);                  // [...]
  return mT(matmul(mT(r.Vh) * cofactor_scales.unsqueeze(-2), mT(r.U))) * as_matrix_scale(orientation);
}

}  // namespace

std::vector<Tensor> linalg_backward(const OpRecord& rec, const Tensor& out, const Tensor& g, const std::vector<bool>& needs) {
  const Tensor& a = rec.inputs[0];
  const bool create_graph = is_grad_enabled();
  switch (rec.kind) {
    // a [..., n, n], b [..., n, k], x = a^-1 b, g like x -> {-(a^-T g) x^T, a^-T g}
    case OpKind::Solve: {
      const Tensor gb = linalg::solve(mT(a), g);
      const Tensor x = create_graph ? linalg::solve(a, rec.inputs[1]) : out;
      return {needs[0] ? -matmul(gb, mT(x)) : Tensor(), needs[1] ? gb : Tensor()};
    }
    // a [..., n, n], g [...] -> g det(a) a^-T; at a singular a, g adj(a)^T
    case OpKind::Det: {
      const Tensor d = create_graph ? linalg::det(a) : out;
      try {
        return {as_matrix_scale(g * d) * mT(linalg::inv(a))};
      } catch (const LinalgError&) {
        if (create_graph)
          throw NotImplementedError("tinynn::backward: second-order gradients of det at a singular matrix are not implemented");
        return {as_matrix_scale(g) * adjugate_transpose(a)};
      }
    }
    // a [..., n, n], g [...] -> g a^-T
    case OpKind::LogAbsDet: return {as_matrix_scale(g) * mT(linalg::inv(a))};
    // a [..., n, n] symmetric, l = cholesky(a), g like l ->
    // l^-T phi(l^T g) l^-1, with phi taking the lower triangle and halving the diagonal, symmetrized
    case OpKind::Cholesky: {
      const Tensor l = create_graph ? linalg::cholesky(a) : out;
      Tensor ga = linalg::tril(matmul(mT(l), g));
      ga = 0.5 * (ga + mT(linalg::tril(ga, -1)));
      ga = linalg::solve(mT(l), ga);             // l^-T ga
      return {mT(linalg::solve(mT(l), mT(ga)))};  // ga l^-1
    }
    // a [..., m, n] = U diag(s) Vh, g [..., k] -> U diag(g) Vh
    case OpKind::Svdvals: {
      refuse_second_order(rec);
      return {matmul(rec.saved[0] * g.unsqueeze(-2), rec.saved[1])};
    }
    // a [..., n, n] symmetric = V diag(w) V^T, g [..., n] -> V diag(g) V^T
    case OpKind::Eigvalsh: {
      refuse_second_order(rec);
      const Tensor& v = rec.saved[0];
      return {matmul(v * g.unsqueeze(-2), mT(v))};
    }
    // a [..., m, n], p = pinv(a) [..., n, m], g like p -> the derivative of the pseudo-inverse
    // (Golub and Pereyra), arranged to multiply the smaller of m and n.
    case OpKind::Pinv: {
      const Tensor p = create_graph ? linalg::pinv(a) : out;
      const Tensor gt = mT(g), pt = mT(p);
      if (a.size(-2) <= a.size(-1)) {
        const Tensor k = matmul(gt, p);        // [m, m]
        const Tensor kpt = matmul(k, pt);      // [m, n]
        return {-mT(matmul(p, k)) + kpt - matmul(matmul(a, p), kpt) + matmul(matmul(pt, p), gt - matmul(k, a))};
      }
      const Tensor k = matmul(p, gt);    // [n, n]
      const Tensor ptk = matmul(pt, k);  // [m, n]
      return {-mT(matmul(k, p)) + matmul(matmul(gt - matmul(a, k), p), pt) + ptk - matmul(matmul(ptk, p), a)};
    }
    default: break;
  }
  throw Error(fmt::format("tinynn::backward: {} is not a linear-algebra op", op_kind_name(rec.kind)));
}

}  // namespace tinynn::detail
