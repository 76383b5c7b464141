// tinynn::linalg: the primer's hand values, identities on random matrices, errors. Comparisons
// with torch.linalg are in test_linalg_golden.cpp; gradients in test_gradcheck.cpp.
#include <algorithm>

#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

namespace {

Tensor random_matrix(const Shape& shape, std::uint64_t seed, DType t = DType::Float64) {
  Generator gen(seed);
  return randn(shape, {t}, &gen);
}

// max |a - b|
double max_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  return amax(abs(a.to(DType::Float64) - b.to(DType::Float64))).item();
}


Tensor identity_like(const Tensor& a) { return eye(a.size(-1), std::nullopt, {a.dtype()}).expand(a.shape()); }

}  // namespace

TEST_CASE("linalg: the primer's worked examples by hand", "[linalg]") {
  // rank([[1,1,1],[1,2,2],[2,3,3]]) = 2: the third row is the sum of the first two.
  const Tensor r = tensor({{1.0, 1.0, 1.0}, {1.0, 2.0, 2.0}, {2.0, 3.0, 3.0}}, DType::Float64);
  CHECK(linalg::matrix_rank(r).item<std::int64_t>() == 2);
  CHECK(linalg::matrix_rank(eye(4)).item<std::int64_t>() == 4);
  CHECK(linalg::matrix_rank(zeros({3, 2})).item<std::int64_t>() == 0);

  // svd([[1,2],[3,4],[5,6]]): singular values 9.5255 and 0.5143, and U S V^T rebuilds it.
  const Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, DType::Float64);
  const auto [U, S, Vh] = linalg::svd(a, false);
  check_values(S, {2}, {9.525518091565107, 0.514300580658644}, 1e-12);
  CHECK(max_diff(matmul(U * S.unsqueeze(0), Vh), a) < 1e-12);
  CHECK(linalg::cond(a).item() == Approx(9.525518091565107 / 0.514300580658644).epsilon(1e-12));
  // The rank-1 approximation keeps the first singular triple: |A - A1|_F = s2.
  CHECK(linalg::matrix_norm(a - linalg::low_rank(a, 1)).item() == Approx(0.514300580658644).epsilon(1e-10));
  check_values(linalg::low_rank(a, 2), {3, 2}, {1, 2, 3, 4, 5, 6}, 1e-12);

  // Norms of [1, -2, 3] and of [[1, 2], [3, 4]].
  const Tensor v = tensor({1.0, -2.0, 3.0}, DType::Float64);
  CHECK(linalg::vector_norm(v, 1).item() == 6.0);
  CHECK(linalg::vector_norm(v).item() == Approx(std::sqrt(14.0)));
  CHECK(linalg::vector_norm(v, INFINITY).item() == 3.0);
  CHECK(linalg::vector_norm(v, 0).item() == 3.0);
  const Tensor m = tensor({{1.0, 2.0}, {3.0, 4.0}}, DType::Float64);
  CHECK(linalg::matrix_norm(m).item() == Approx(std::sqrt(30.0)));
  CHECK(linalg::matrix_norm(m, 1.0).item() == 6.0);       // largest column sum |2| + |4|
  CHECK(linalg::matrix_norm(m, -1.0).item() == 4.0);
  CHECK(linalg::matrix_norm(m, INFINITY).item() == 7.0);  // largest row sum
  CHECK(linalg::matrix_norm(m, -INFINITY).item() == 3.0);
  CHECK(linalg::matrix_norm(m, 2.0).item() == Approx(5.464985704219043));
  CHECK(linalg::matrix_norm(m, -2.0).item() == Approx(0.365966190626258));
  CHECK(linalg::matrix_norm(m, "nuc").item() == Approx(5.464985704219043 + 0.365966190626258));
  CHECK(linalg::matrix_norm(m, "fro", true).shape() == Shape{1, 1});

  // det [[1,2],[3,4]] = -2; its inverse is [[-2, 1], [1.5, -0.5]].
  CHECK(linalg::det(m).item() == Approx(-2.0));
  check_values(linalg::inv(m), {2, 2}, {-2, 1, 1.5, -0.5}, 1e-12);
  const auto [sign, logabsdet] = linalg::slogdet(m);
  CHECK(sign.item() == -1.0);
  CHECK(logabsdet.item() == Approx(std::log(2.0)));
  CHECK(linalg::trace(m).item() == 5.0);
  CHECK(linalg::trace(a).item() == 5.0);  // 1 + 4 on a 3x2 matrix
  check_values(linalg::diagonal(a), {2}, {1, 4});
  check_values(linalg::matrix_power(m, 2), {2, 2}, {7, 10, 15, 22});
  check_values(linalg::matrix_power(m, 0), {2, 2}, {1, 0, 0, 1});
  check_values(linalg::matrix_power(m, -1), {2, 2}, {-2, 1, 1.5, -0.5}, 1e-12);
  check_values(linalg::matrix_power(m, 5), {2, 2}, {1069, 1558, 2337, 3406}, 1e-12);
  // solve: x + 2y = 5, 3x + 4y = 6 -> x = -4, y = 4.5.
  check_values(linalg::solve(m, tensor({5.0, 6.0}, DType::Float64)), {2}, {-4, 4.5}, 1e-12);

  // pinv of [[1,2],[3,4],[5,6]] = (A^T A)^-1 A^T.
  check_values(linalg::pinv(a), {2, 3}, {-4.0 / 3, -1.0 / 3, 2.0 / 3, 13.0 / 12, 1.0 / 3, -5.0 / 12}, 1e-12);
  // Eigenvalues of [[2, 1], [1, 2]] are 1 and 3; of the rotation [[0, -1], [1, 0]] are +-i.
  check_values(linalg::eigvalsh(tensor({{2.0, 1.0}, {1.0, 2.0}}, DType::Float64)), {2}, {1, 3}, 1e-12);
  const auto rot = linalg::eigvals(tensor({{0.0, -1.0}, {1.0, 0.0}}, DType::Float64));
  check_values(rot.real, {2}, {0, 0}, 1e-12);
  check_values(test::sorted_rows(rot.imag), {2}, {-1, 1}, 1e-12);
  // Cholesky of [[4, 2], [2, 3]] = [[2, 0], [1, sqrt 2]].
  check_values(linalg::cholesky(tensor({{4.0, 2.0}, {2.0, 3.0}}, DType::Float64)), {2, 2}, {2, 0, 1, std::sqrt(2.0)}, 1e-12);
}

TEST_CASE("linalg: dot product, angle, projection and distances", "[linalg]") {
  const Tensor a = tensor({1.0, 2.0, 3.0}, DType::Float64), b = tensor({4.0, 5.0, 6.0}, DType::Float64);
  check_values(linalg::project(a, b), {3}, {32.0 / 77 * 4, 32.0 / 77 * 5, 32.0 / 77 * 6}, 1e-12);
  CHECK(dot(a - linalg::project(a, b), b).item() == Approx(0.0).margin(1e-12));
  CHECK(linalg::euclidean_distance(a, b).item() == Approx(std::sqrt(27.0)));
  CHECK(linalg::manhattan_distance(a, b).item() == 9.0);
  CHECK(linalg::cosine_similarity(a, b).item() == Approx(32.0 / std::sqrt(14.0 * 77.0)));
  CHECK(linalg::cosine_distance(a, a).item() == Approx(0.0).margin(1e-12));
  CHECK(linalg::cosine_similarity(a, -a).item() == Approx(-1.0));
  // cdist of 2 points against 3: [[0,0],[3,4]] vs [[0,0],[0,4],[3,0]].
  const Tensor x1 = tensor({{0.0, 0.0}, {3.0, 4.0}}, DType::Float64), x2 = tensor({{0.0, 0.0}, {0.0, 4.0}, {3.0, 0.0}}, DType::Float64);
  check_values(linalg::cdist(x1, x2), {2, 3}, {0, 4, 3, 5, 3, 4});
  check_values(linalg::cdist(x1, x2, 1.0), {2, 3}, {0, 4, 3, 7, 3, 4});
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::project(a, zeros({3}, {DType::Float64})), ValueError, "zero vector");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::cdist(x1, ones({2, 3})), ShapeError, "same d");
}

TEST_CASE("linalg: identities on random matrices, batched, float32 and float64", "[linalg]") {
  for (DType t : {DType::Float64, DType::Float32}) {
    const double tol = t == DType::Float64 ? 1e-10 : 2e-4;
    INFO("dtype " << dtype_name(t));
    const Tensor a = random_matrix({3, 5, 4}, 1, t), sq = random_matrix({2, 4, 4}, 2, t), sq2 = random_matrix({2, 4, 4}, 3, t);
    // SVD, full and reduced: U S V^T = A, orthonormal factors.
    for (bool full : {false, true}) {
      const auto [U, S, Vh] = linalg::svd(a, full);
      CHECK(U.shape() == Shape{3, 5, full ? 5 : 4});
      CHECK(Vh.shape() == Shape{3, 4, 4});
      CHECK(max_diff(matmul(U.transpose(-1, -2), U), identity_like(matmul(U.transpose(-1, -2), U))) < tol);
      CHECK(max_diff(matmul(Vh, Vh.transpose(-1, -2)), identity_like(Vh)) < tol);
      CHECK(max_diff(matmul(U.narrow(-1, 0, 4) * S.unsqueeze(-2), Vh), a) < tol);
      CHECK(max_diff(S, linalg::svdvals(a)) < tol);
    }
    // pinv: A A+ A = A and A+ A A+ = A+.
    const Tensor p = linalg::pinv(a);
    CHECK(max_diff(matmul(matmul(a, p), a), a) < tol * 10);
    CHECK(max_diff(matmul(matmul(p, a), p), p) < tol * 10);
    // det(AB) = det(A) det(B); det(A^-1) = 1 / det(A); slogdet agrees with det.
    CHECK(max_diff(linalg::det(matmul(sq, sq2)), linalg::det(sq) * linalg::det(sq2)) < tol * 10);
    CHECK(max_diff(matmul(sq, linalg::inv(sq)), identity_like(sq)) < tol * 10);
    const auto [sign, logabs] = linalg::slogdet(sq);
    CHECK(max_diff(sign * exp(logabs), linalg::det(sq)) < tol * 10);
    // solve residuals, batch axes broadcast: [2, 4, 4] with [3, 1, 4, 2] -> [3, 2, 4, 2].
    const Tensor rhs = random_matrix({3, 1, 4, 2}, 4, t);
    const Tensor x = linalg::solve(sq, rhs);
    CHECK(x.shape() == Shape{3, 2, 4, 2});
    CHECK(max_diff(matmul(sq, x), rhs.expand({3, 2, 4, 2})) < tol * 10);
    // QR: Q R = A, Q orthonormal, R upper triangular; both modes.
    for (bool complete : {false, true}) {
      const auto [Q, R] = linalg::qr(a, complete);
      CHECK(Q.shape() == Shape{3, 5, complete ? 5 : 4});
      CHECK(R.shape() == Shape{3, complete ? 5 : 4, 4});
      CHECK(max_diff(matmul(Q, R), a) < tol);
      CHECK(max_diff(R, linalg::triu(R)) == 0.0);
      const Tensor qtq = matmul(Q.transpose(-1, -2), Q);
      CHECK(max_diff(qtq, identity_like(qtq)) < tol);
    }
    // LU: P L U = A, on square and wide matrices.
    for (const Tensor& m : {sq, a.transpose(-1, -2).contiguous()}) {
      const auto [P, L, U] = linalg::lu(m);
      CHECK(max_diff(matmul(P, matmul(L, U)), m) < tol);
      CHECK(max_diff(L, linalg::tril(L)) == 0.0);
      CHECK(max_diff(U, linalg::triu(U)) == 0.0);
    }
    // Cholesky of a symmetric positive definite matrix: L L^T = A.
    const Tensor spd = matmul(sq, sq.transpose(-1, -2)) + identity_like(sq);
    const Tensor L = linalg::cholesky(spd);
    CHECK(max_diff(matmul(L, L.transpose(-1, -2)), spd) < tol * 10);
    // eigh: A V = V diag(w), ascending, agreeing with eigvalsh; the eigenvalues sum to the trace.
    const auto [w, V] = linalg::eigh(spd);
    CHECK(max_diff(matmul(spd, V), V * w.unsqueeze(-2)) < tol * 10);
    CHECK(max_diff(w, linalg::eigvalsh(spd)) < tol * 10);
    CHECK(max_diff(sum(w, {-1}), linalg::trace(spd)) < tol * 10);
    // eigvals of a symmetric matrix are real and equal eigvalsh's; their product is det.
    const auto ev = linalg::eigvals(spd);
    CHECK(max_diff(test::sorted_rows(ev.real), w) < tol * 10);
    CHECK(amax(abs(ev.imag)).item() < tol);
    // lstsq: the normal equations A^T (A x - b) = 0 on a tall system; exact on a square one.
    const Tensor b = random_matrix({3, 5, 2}, 5, t);
    const Tensor xs = linalg::lstsq(a, b);
    CHECK(xs.shape() == Shape{3, 4, 2});
    CHECK(amax(abs(matmul(a.transpose(-1, -2), matmul(a, xs) - b))).item() < tol * 100);
    CHECK(max_diff(linalg::lstsq(sq, rhs.select(0, 0)), linalg::solve(sq, rhs.select(0, 0))) < tol * 10);
    // Wide (under-determined) lstsq gives the minimum-norm solution pinv(A) b.
    const Tensor wide = a.transpose(-1, -2).contiguous();
    const Tensor bw = random_matrix({3, 4}, 6, t);
    CHECK(max_diff(linalg::lstsq(wide, bw), matmul(linalg::pinv(wide), bw.unsqueeze(-1)).squeeze(-1)) < tol * 10);
    // rank, low-rank approximation and energy.
    const Tensor rank2 = matmul(random_matrix({6, 2}, 7, t), random_matrix({2, 5}, 8, t));
    CHECK(linalg::matrix_rank(rank2).item<std::int64_t>() == 2);
    CHECK(max_diff(linalg::low_rank(rank2, 2), rank2) < tol * 10);
    const Tensor energy = linalg::energy_profile(rank2);
    CHECK(energy.shape() == Shape{5});
    CHECK(energy.to_vector<double>()[1] == Approx(1.0).epsilon(tol));
    CHECK(linalg::matrix_rank(a).shape() == Shape{3});
  }
}

TEST_CASE("linalg: singular and ill-conditioned inputs give errors or documented values", "[linalg][errors]") {
  const Tensor singular = tensor({{1.0, 2.0}, {2.0, 4.0}}, DType::Float64);
  CHECK(linalg::det(singular).item() == 0.0);
  const auto [sign, logabsdet] = linalg::slogdet(singular);
  CHECK(sign.item() == 0.0);
  CHECK(logabsdet.item() == -INFINITY);
  CHECK(linalg::cond(singular).item() == INFINITY);
  CHECK(linalg::cond(zeros({3, 3}, {DType::Float64})).item() == INFINITY);
  CHECK(linalg::matrix_rank(singular).item<std::int64_t>() == 1);
  // An overridden tolerance: singular values 1 and 1e-3 are rank 1 above 1e-2.
  const Tensor nearly = tensor({{1.0, 0.0}, {0.0, 1e-3}}, DType::Float64);
  CHECK(linalg::matrix_rank(nearly).item<std::int64_t>() == 2);
  CHECK(linalg::matrix_rank(nearly, 1e-2).item<std::int64_t>() == 1);
  check_values(linalg::pinv(singular), {2, 2}, {0.04, 0.08, 0.08, 0.16}, 1e-12);

  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::inv(singular), LinalgError, "tinynn::linalg::inv: the matrix is singular");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::solve(stack({eye(2, std::nullopt, {DType::Float64}), singular}), ones({2, 2}, {DType::Float64})),
                                   LinalgError, "singular (U[1, 1] of its LU factorization is exactly zero) (batch element 1)");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::cholesky(tensor({{1.0, 2.0}, {2.0, 1.0}}, DType::Float64)), LinalgError,
                                   "not positive definite (its leading minor of order 2");
  const Tensor with_nan = tensor({{1.0, NAN}, {0.0, 1.0}}, DType::Float64);
  for (auto fn : {+[](const Tensor& x) { return linalg::svdvals(x); }, +[](const Tensor& x) { return linalg::det(x); },
                  +[](const Tensor& x) { return linalg::eigvalsh(x); }, +[](const Tensor& x) { return linalg::inv(x); }})
    TINYNN_REQUIRE_THROWS_CONTAINING(fn(with_nan), LinalgError, "holds NaN or infinity");

  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::det(ones({2, 3}, {DType::Float64})), ShapeError,
                                   "tinynn::linalg::det: expected square matrices [..., n, n], got shape [2, 3]");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::svd(ones({3})), ShapeError, "got shape [3]");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::inv(eye(2, std::nullopt, {DType::Int64})), DTypeError, "float32 or float64, got int64");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::solve(eye(3), ones({2, 1})), ShapeError, "B needs 3 rows");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::low_rank(ones({3, 2}), 3), ValueError, "rank 3 is outside [0, 2]");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::matrix_norm(ones({2, 2}), 3.0), ValueError, "order 3 is not a matrix norm");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::matrix_norm(ones({2, 2}), "max"), ValueError, "unknown order \"max\"");
}

TEST_CASE("linalg: empty matrices and batches", "[linalg]") {
  CHECK(linalg::det(zeros({0, 0}, {DType::Float64})).item() == 1.0);
  CHECK(linalg::svdvals(zeros({2, 0, 3})).shape() == Shape{2, 0});
  CHECK(linalg::inv(zeros({0, 3, 3})).shape() == Shape{0, 3, 3});
  CHECK(linalg::pinv(zeros({3, 0})).shape() == Shape{0, 3});
}

TEST_CASE("linalg gradients by hand: det at a singular matrix, second order where refused", "[linalg][autograd]") {
  // d det / dA is the adjugate's transpose, defined at singular matrices too:
  // adj([[1, 2], [2, 4]]) = [[4, -2], [-2, 1]].
  Tensor a = tensor({{1.0, 2.0}, {2.0, 4.0}}, DType::Float64).requires_grad_();
  linalg::det(a).backward();
  check_values(a.grad(), {2, 2}, {4, -2, -2, 1}, 1e-12);
  // At a regular matrix: d det / dA = det(A) A^-T; for [[1, 2], [3, 4]] that is [[4, -3], [-2, 1]].
  Tensor b = tensor({{1.0, 2.0}, {3.0, 4.0}}, DType::Float64).requires_grad_();
  linalg::det(b).backward();
  check_values(b.grad(), {2, 2}, {4, -3, -2, 1}, 1e-12);
  // d sum(svdvals) / dA = U V^T: for a diagonal matrix with positive entries, the identity.
  Tensor d = tensor({{3.0, 0.0}, {0.0, 2.0}}, DType::Float64).requires_grad_();
  sum(linalg::svdvals(d)).backward();
  check_values(d.grad(), {2, 2}, {1, 0, 0, 1}, 1e-12);
  // The 2-norm's gradient at zero is 0 (a subgradient), not NaN: a point's distance to itself,
  // and the diagonal of cdist(x, x).
  Tensor p = tensor({{1.0, 2.0}, {3.0, 5.0}}, DType::Float64).requires_grad_();
  (linalg::euclidean_distance(p[0], p[0]) + sum(linalg::cdist(p, p))).backward();
  // d/dp of |p0 - p1| twice (cdist's off-diagonal pair), zero from the self-distances.
  const double dist = std::sqrt(13.0);
  check_values(p.grad(), {2, 2}, {-2 * 2 / dist, -2 * 3 / dist, 2 * 2 / dist, 2 * 3 / dist}, 1e-12);
  // Second order through svdvals would use vectors that carry no graph: refused, not wrong.
  Tensor e = tensor({{3.0, 1.0}, {0.0, 2.0}}, DType::Float64).requires_grad_();
  TINYNN_REQUIRE_THROWS_CONTAINING(grad({sum(linalg::svdvals(e))}, {e}, {}, false, true), NotImplementedError,
                                   "second-order gradients through Svdvals are not implemented");
  // The factorizations without gradients return tensors outside the graph.
  CHECK_FALSE(linalg::svd(e).U.requires_grad());
  CHECK(linalg::svdvals(e).requires_grad());
}
