// A tour of the linear-algebra primer's worked examples on tinynn tensors: vectors, dot product
// and angle, projection, norms, matrix products and broadcasting. (Rank, SVD, pseudo-inverse and
// condition numbers join this tour with the linear-algebra module.)
#include <tinynn/tinynn.h>

#include <fmt/format.h>

#include <cmath>
#include <iostream>

int main() {
  using namespace tinynn;
  auto show = [](const std::string& what, const Tensor& t) { std::cout << what << "\n" << t << "\n\n"; };

  // Vectors, the dot product and the angle between them.
  const Tensor a = tensor({1.0, 2.0, 3.0}), b = tensor({4.0, 5.0, 6.0});
  const double ab = dot(a, b).item();
  const double angle = std::acos(ab / (norm(a).item() * norm(b).item()));
  std::cout << fmt::format("a . b = {} (1*4 + 2*5 + 3*6), angle = {:.4f} rad = {:.2f} degrees\n\n", ab, angle,
                           angle * 180.0 / 3.14159265358979323846);

  // The projection of a onto b: (a . b / b . b) b, and what is left is orthogonal to b.
  const Tensor projection = b * (ab / dot(b, b).item());
  show("projection of a onto b", projection);
  std::cout << fmt::format("(a - projection) . b = {:.2e}\n\n", dot(a - projection, b).item());

  // Norms: L1 of [1, -2, 3] is 6, L2 is sqrt(14), max-norm 3; Frobenius of a matrix.
  const Tensor v = tensor({1.0, -2.0, 3.0});
  std::cout << fmt::format("L1 {} | L2 {:.4f} | inf {}\n", norm(v, 1).item(), norm(v).item(), norm(v, INFINITY).item());
  const Tensor m = tensor({{1.0, 2.0}, {3.0, 4.0}});
  std::cout << fmt::format("Frobenius norm of [[1, 2], [3, 4]] = sqrt(30) = {:.4f}\n\n", norm(m).item());

  // Matrix products: [[1,2,3],[4,5,6]] @ [[7,8],[9,10],[11,12]] = [[58,64],[139,154]].
  const Tensor p = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}), q = tensor({{7.0, 8.0}, {9.0, 10.0}, {11.0, 12.0}});
  show("[[1,2,3],[4,5,6]] @ [[7,8],[9,10],[11,12]]", matmul(p, q));
  show("the transpose is a view: p.t()", p.t());
  show("matrix times identity is itself", matmul(m, eye(2)));
  show("(p q)^T = q^T p^T", matmul(q.t(), p.t()));

  // Shapes: arange(24).reshape(2, 3, 4), and batched products with broadcast batch axes.
  const Tensor cube = arange(24).reshape({2, 3, 4});
  show("arange(24).reshape({2, 3, 4})", cube);
  const Tensor batch = randn({3, 3, 2});
  std::cout << "[3, 3, 2] @ [2, 4] -> " << shape_str(matmul(batch, ones({2, 4})).shape()) << "\n";
  std::cout << "outer([1, 2], [1, 2, 3]) =\n" << outer(tensor({1.0, 2.0}), tensor({1.0, 2.0, 3.0})) << "\n";
}
