// Uses the public API as an embedding program would; exits non-zero on a wrong answer.
#include <tinynn/tinynn.h>

#include <iostream>

int main() {
  using namespace tinynn;
  Tensor a = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  Tensor b = tensor({{7.0, 8.0}, {9.0, 10.0}, {11.0, 12.0}});
  Tensor c = matmul(a, b);
  std::cout << build_summary() << "\n" << c << "\n";
  return allclose(c, tensor({{58.0, 64.0}, {139.0, 154.0}})) ? 0 : 1;
}
