// tinynn::linalg: norms, distances, decompositions, solvers and the tools built on them, batched
// over leading axes like torch.linalg (a "matrix" argument is [..., m, n]). Float32 and float64;
// LAPACK runs the factorizations on the CPU, cuSOLVER on CUDA tensors (lstsq: LAPACK on host copies).
// Gradients flow through the norms, distances, det, slogdet, inv, solve, svdvals, eigvalsh, pinv,
// cholesky, cond, trace and matrix_power; the multi-output
// factorizations (lu, qr, svd, eigh, eigvals), lstsq, matrix_rank, low_rank and energy_profile
// return tensors that carry no gradient.
//
// Singular, non-positive-definite or non-finite inputs throw LinalgError naming the function
// and the batch element; det of a singular matrix is 0 and cond of a singular matrix is inf.
#pragma once
#include <string>

#include "error.h"
#include "tensor.h"

namespace tinynn {

class LinalgError : public ValueError { using ValueError::ValueError; };  // singular, not PD, not finite

namespace linalg {

// ---- norms, distances, projections -----------------------------------------------------
// Vector p-norm over `axes` (all by default): any p > 0, inf, -inf, 0 (count of non-zeros).
Tensor vector_norm(const Tensor& x, double ord = 2.0, const Axes& axes = {}, bool keepdim = false);
// Matrix norms over the last two axes: "fro" (Frobenius) or "nuc" (nuclear, sum of singular values).
Tensor matrix_norm(const Tensor& a, const std::string& ord = "fro", bool keepdim = false);
// ord 2 / -2: largest / smallest singular value; 1 / -1: max / min column abs-sum;
// inf / -inf: max / min row abs-sum.
Tensor matrix_norm(const Tensor& a, double ord, bool keepdim = false);

// Distances between vectors along the last axis (a and b broadcast): [..., d] -> [...].
Tensor euclidean_distance(const Tensor& a, const Tensor& b);
Tensor manhattan_distance(const Tensor& a, const Tensor& b);
// a.b / (max(|a|, eps) max(|b|, eps)); the distance is 1 - similarity.
Tensor cosine_similarity(const Tensor& a, const Tensor& b, double eps = 1e-8);
Tensor cosine_distance(const Tensor& a, const Tensor& b, double eps = 1e-8);
// Pairwise p-distances: x1 [..., P, d], x2 [..., R, d] -> [..., P, R].
Tensor cdist(const Tensor& x1, const Tensor& x2, double p = 2.0);
// Vector projection of a onto b along the last axis: (a.b / b.b) b. Throws for b = 0.
Tensor project(const Tensor& a, const Tensor& b);

// ---- matrix functions ------------------------------------------------------------------
// The lower (tril) / upper (triu) triangle of [..., m, n], zero elsewhere; offset shifts the
// diagonal up (> 0) or down (< 0), as torch.tril/triu.
Tensor tril(const Tensor& a, std::int64_t offset = 0);
Tensor triu(const Tensor& a, std::int64_t offset = 0);
Tensor diagonal(const Tensor& a);  // [..., m, n] -> [..., min(m, n)]
Tensor trace(const Tensor& a);     // [..., m, n] -> [...]
// A^n for square A; n = 0 gives the identity, n < 0 the power of the inverse.
Tensor matrix_power(const Tensor& a, std::int64_t n);

// ---- determinants, inverses, solvers ------------------------------------------------------
Tensor det(const Tensor& a);  // [..., n, n] -> [...]
struct SlogdetResult {
  Tensor sign;       // -1, 0 or 1
  Tensor logabsdet;  // log|det|; -inf for a singular matrix
};
SlogdetResult slogdet(const Tensor& a);
Tensor inv(const Tensor& a);
// X with A X = B: A [..., n, n], B [..., n, k], or vectors B [n] / [..., n] (B is a vector when
// it is 1-D or its shape is A's without the last axis, as in torch.linalg); batch axes broadcast.
Tensor solve(const Tensor& a, const Tensor& b);
// Least-squares X minimising |A X - B| (minimum norm when rank deficient): A [..., m, n],
// B [..., m, k] -> [..., n, k], or vectors as in solve. rcond < 0: machine precision.
Tensor lstsq(const Tensor& a, const Tensor& b, double rcond = -1.0);

// ---- decompositions --------------------------------------------------------------------
struct LuResult {
  Tensor P, L, U;  // A = P L U: P [m, m] permutation, L [m, k] unit lower, U [k, n], k = min(m, n)
};
LuResult lu(const Tensor& a);
struct QrResult {
  Tensor Q, R;  // A = Q R; reduced: Q [m, k], R [k, n]; complete: Q [m, m], R [m, n]
};
QrResult qr(const Tensor& a, bool complete = false);
Tensor cholesky(const Tensor& a);  // lower L with L L^T = A; A symmetric positive definite
struct SvdResult {
  Tensor U, S, Vh;  // A = U diag(S) Vh, S descending; full: U [m, m], Vh [n, n]; else k = min(m, n)
};
SvdResult svd(const Tensor& a, bool full_matrices = true);
Tensor svdvals(const Tensor& a);  // [..., min(m, n)], descending
struct EighResult {
  Tensor eigenvalues;   // ascending
  Tensor eigenvectors;  // columns
};
EighResult eigh(const Tensor& a);  // symmetric A (its lower triangle is read)
Tensor eigvalsh(const Tensor& a);
struct EigvalsResult {
  Tensor real, imag;  // eigenvalues of a general square matrix, in LAPACK's order
};
EigvalsResult eigvals(const Tensor& a);

// ---- rank, pseudo-inverse, conditioning, low-rank approximation ---------------------------------
// Singular values above tol count; tol < 0 means NumPy's default, S.max * max(m, n) * eps. Int64.
Tensor matrix_rank(const Tensor& a, double tol = -1.0);
// V diag(1/S) U^T over the singular values above rtol * S.max (rtol < 0: max(m, n) * eps).
Tensor pinv(const Tensor& a, double rtol = -1.0);
// 2-norm condition number S.max / S.min; inf for a matrix that is singular to working precision
// (S.min <= S.max * max(m, n) * eps, the threshold matrix_rank uses).
Tensor cond(const Tensor& a);
// The best rank-k approximation (truncated SVD): U[:, :k] diag(S[:k]) Vh[:k, :].
Tensor low_rank(const Tensor& a, std::int64_t k);
// The share of sum(S^2) held by the k largest singular values, for k = 1..min(m, n): [..., min(m, n)].
Tensor energy_profile(const Tensor& a);

}  // namespace linalg
}  // namespace tinynn
