// A tour of the linear-algebra primer's worked examples on tinynn tensors: vectors, the dot
// product and angle, projection, norms, matrix products, rank, the SVD and the reconstruction
// from its factors, the pseudo-inverse, condition numbers and low-rank approximation.
#include <tinynn/tinynn.h>

#include <fmt/format.h>

#include <cmath>
#include <iostream>

int main() {
  using namespace tinynn;
  auto show = [](const std::string& what, const Tensor& t) { std::cout << what << "\n" << t << "\n\n"; };
  const DType f64 = DType::Float64;

  // Vectors, the dot product and the angle between them.
  const Tensor a = tensor({1.0, 2.0, 3.0}, f64), b = tensor({4.0, 5.0, 6.0}, f64);
  const double ab = dot(a, b).item();
  const double cosine = linalg::cosine_similarity(a, b).item();
  std::cout << fmt::format("a . b = {} (1*4 + 2*5 + 3*6), cosine similarity {:.4f}, angle {:.2f} degrees\n", ab, cosine,
                           std::acos(cosine) * 180.0 / 3.14159265358979323846);
  std::cout << fmt::format("euclidean distance |a - b| = sqrt(27) = {:.4f}, manhattan distance = {}\n\n",
                           linalg::euclidean_distance(a, b).item(), linalg::manhattan_distance(a, b).item());

  // The projection of a onto b: (a . b / b . b) b, and what is left is orthogonal to b.
  const Tensor projection = linalg::project(a, b);
  show("projection of a onto b = (32/77) b", projection);
  std::cout << fmt::format("(a - projection) . b = {:.2e}\n\n", dot(a - projection, b).item());

  // Norms: L1 of [1, -2, 3] is 6, L2 is sqrt(14), max-norm 3; Frobenius of a matrix.
  const Tensor v = tensor({1.0, -2.0, 3.0}, f64);
  std::cout << fmt::format("L1 {} | L2 {:.4f} | inf {}\n", linalg::vector_norm(v, 1).item(), linalg::vector_norm(v).item(),
                           linalg::vector_norm(v, INFINITY).item());
  const Tensor m = tensor({{1.0, 2.0}, {3.0, 4.0}}, f64);
  std::cout << fmt::format("Frobenius norm of [[1, 2], [3, 4]] = sqrt(30) = {:.4f}; spectral norm {:.4f}; det {}\n\n",
                           linalg::matrix_norm(m).item(), linalg::matrix_norm(m, 2.0).item(), linalg::det(m).item());

  // Matrix products: [[1,2,3],[4,5,6]] @ [[7,8],[9,10],[11,12]] = [[58,64],[139,154]].
  const Tensor p = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, f64), q = tensor({{7.0, 8.0}, {9.0, 10.0}, {11.0, 12.0}}, f64);
  show("[[1,2,3],[4,5,6]] @ [[7,8],[9,10],[11,12]]", matmul(p, q));
  show("(p q)^T = q^T p^T", matmul(q.t(), p.t()));
  std::cout << "batched: [3, 3, 2] @ [2, 4] -> " << shape_str(matmul(randn({3, 3, 2}), ones({2, 4})).shape()) << "\n\n";

  // Rank: the third row of [[1,1,1],[1,2,2],[2,3,3]] is the sum of the first two.
  const Tensor r = tensor({{1.0, 1.0, 1.0}, {1.0, 2.0, 2.0}, {2.0, 3.0, 3.0}}, f64);
  std::cout << fmt::format("rank([[1,1,1],[1,2,2],[2,3,3]]) = {}\n\n", linalg::matrix_rank(r).item<std::int64_t>());

  // The SVD of [[1,2],[3,4],[5,6]]: singular values 9.5255 and 0.5143, and A = U S V^T.
  const Tensor x = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, f64);
  const auto [U, S, Vh] = linalg::svd(x, false);
  std::cout << fmt::format("singular values of [[1,2],[3,4],[5,6]]: {:.4f} and {:.4f}\n", S[0].item(), S[1].item());
  show("U S V^T rebuilds the matrix", matmul(U * S.unsqueeze(0), Vh));

  // The pseudo-inverse: pinv(A) A = I for a matrix of full column rank.
  const Tensor x_pinv = linalg::pinv(x);
  show("pinv([[1,2],[3,4],[5,6]])", x_pinv);
  show("pinv(A) A", matmul(x_pinv, x));

  // Condition numbers: how much a solve can amplify errors; inf for a singular matrix.
  std::cout << fmt::format("cond([[1,2],[3,4],[5,6]]) = 9.5255 / 0.5143 = {:.2f}; cond of a singular matrix: {}\n\n",
                           linalg::cond(x).item(), linalg::cond(r).item());

  // Low-rank approximation: keep the k largest singular values. A smooth 8x8 image is close to
  // rank 2; the error of the rank-k approximation is the norm of the dropped singular values.
  const Tensor i = arange(0, 8, 1, {f64}).unsqueeze(1), j = arange(0, 8, 1, {f64}).unsqueeze(0);
  const Tensor image = sin(i * 0.3) * cos(j * 0.2) + 0.1 * i * j / 8.0;
  const Tensor energy = linalg::energy_profile(image);
  for (std::int64_t k : {1, 2, 3}) {
    const Tensor approx = linalg::low_rank(image, k);
    std::cout << fmt::format("rank-{} approximation of an 8x8 image: relative error {:.2e}, energy kept {:.4f}%\n", k,
                             (linalg::matrix_norm(image - approx) / linalg::matrix_norm(image)).item(),
                             100 * energy[k - 1].item());
  }
  std::cout << fmt::format("numerical rank of the image: {}\n", linalg::matrix_rank(image).item<std::int64_t>());
}
