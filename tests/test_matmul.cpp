// Products: torch.matmul semantics, hand values, errors, and oneDNN against the reference loop.
#include "test_helpers.h"

#ifdef TINYNN_HAVE_ONEDNN
#include <tinynn/kernels/cpu/onednn_matmul.h>
#endif

using namespace tinynn;
using tinynn::test::check_values;

TEST_CASE("the primer's worked example", "[matmul]") {
  Tensor a = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  Tensor b = tensor({{7.0, 8.0}, {9.0, 10.0}, {11.0, 12.0}});
  check_values(matmul(a, b), {2, 2}, {58, 64, 139, 154});
  check_values(a.matmul(b), {2, 2}, {58, 64, 139, 154});
  check_values(mm(a, b), {2, 2}, {58, 64, 139, 154});
  check_values(matmul(tensor({{1, 2, 3}, {4, 5, 6}}), tensor({{7, 8}, {9, 10}, {11, 12}})), {2, 2}, {58, 64, 139, 154});
  check_values(matmul(a.to(DType::Float64), b.to(DType::Float64)), {2, 2}, {58, 64, 139, 154});
}

TEST_CASE("vector products: dot, mv, outer and 1-D promotion in matmul", "[matmul]") {
  Tensor u = tensor({1.0, 2.0, 3.0}), v = tensor({4.0, -5.0, 6.0});
  check_values(dot(u, v), {}, {12});
  check_values(matmul(u, v), {}, {12});
  Tensor m = tensor({{1.0, 0.0, 2.0}, {0.0, 1.0, 0.0}});
  check_values(mv(m, u), {2}, {7, 2});
  check_values(matmul(m, u), {2}, {7, 2});
  check_values(matmul(tensor({1.0, 1.0}), m), {3}, {1, 1, 2});
  check_values(outer(tensor({1.0, 2.0}), u), {2, 3}, {1, 2, 3, 2, 4, 6});
  // [2] @ [3, 2, 4] -> [3, 4]; [3, 2, 4] @ [4] -> [3, 2]
  CHECK(matmul(ones({2}), ones({3, 2, 4})).shape() == Shape{3, 4});
  CHECK(matmul(ones({3, 2, 4}), ones({4})).shape() == Shape{3, 2});
  TINYNN_REQUIRE_THROWS_CONTAINING(dot(u, tensor({1.0})), ShapeError, "vectors of sizes 3 and 1 differ");
  TINYNN_REQUIRE_THROWS_CONTAINING(mv(u, u), ShapeError, "matrix must be 2-D");
}

TEST_CASE("batched matmul broadcasts batch axes", "[matmul]") {
  // [3, 3, 2] @ [2, 4] -> [3, 3, 4], the example
  Tensor a = arange(0, 18, 1, {DType::Float32}).reshape({3, 3, 2});
  Tensor b = arange(0, 8, 1, {DType::Float32}).reshape({2, 4});
  Tensor c = matmul(a, b);
  REQUIRE(c.shape() == Shape{3, 3, 4});
  for (std::int64_t i = 0; i < 3; ++i) CHECK(allclose(c.select(0, i), mm(a.select(0, i), b)));
  // [2, 1, 2, 3] @ [4, 3, 2] -> [2, 4, 2, 2]
  Tensor x = arange(0, 12, 1, {DType::Float32}).reshape({2, 1, 2, 3});
  Tensor y = arange(0, 24, 1, {DType::Float32}).reshape({4, 3, 2});
  Tensor z = matmul(x, y);
  REQUIRE(z.shape() == Shape{2, 4, 2, 2});
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t j = 0; j < 4; ++j) CHECK(allclose(z.select(0, i).select(0, j), mm(x.select(0, i).select(0, 0), y.select(0, j))));
  check_values(bmm(ones({2, 1, 3}), ones({2, 3, 1})), {2, 1, 1}, {3, 3});
  TINYNN_REQUIRE_THROWS_CONTAINING(bmm(ones({2, 1, 3}), ones({3, 3, 1})), ShapeError, "batch sizes differ");
}

TEST_CASE("matmul errors name the shapes and the rule", "[matmul]") {
  TINYNN_REQUIRE_THROWS_CONTAINING(matmul(zeros({64, 784}), zeros({128, 10})), ShapeError,
                                   "tinynn::matmul: cannot multiply [64, 784] by [128, 10]: inner sizes 784 and 128 differ");
  TINYNN_REQUIRE_THROWS_CONTAINING(matmul(zeros({2, 2, 3}), zeros({3, 3, 4})), ShapeError,
                                   "batch shapes [2] and [3] do not broadcast");
  TINYNN_REQUIRE_THROWS_CONTAINING(matmul(zeros({3}), zeros({4})), ShapeError, "inner sizes 3 and 4 differ");
  TINYNN_REQUIRE_THROWS_CONTAINING(matmul(tensor(1.0), zeros({1})), ShapeError, "at least 1 dimension");
  TINYNN_REQUIRE_THROWS_CONTAINING(mm(zeros({2}), zeros({2, 2})), ShapeError, "mm: first argument must be 2-D");
}

TEST_CASE("matmul with zero-size axes", "[matmul]") {
  check_values(matmul(zeros({2, 0}), zeros({0, 3})), {2, 3}, {0, 0, 0, 0, 0, 0});
  CHECK(matmul(zeros({0, 4}), zeros({4, 3})).shape() == Shape{0, 3});
}

#ifdef TINYNN_HAVE_ONEDNN
namespace {
// The same product through the reference loop (oneDNN switched off for the call).
Tensor reference_matmul(const Tensor& a, const Tensor& b) {
  cpu::set_onednn_matmul_enabled(false);
  Tensor out = matmul(a, b);
  cpu::set_onednn_matmul_enabled(true);
  return out;
}
}  // namespace

TEST_CASE("oneDNN matmul agrees with the reference loop on random shapes", "[matmul][onednn]") {
  Generator gen(11);
  struct Case { Shape a, b; bool transpose_a, transpose_b; };
  const std::vector<Case> cases = {
      {{1, 1}, {1, 1}, false, false},       {{7, 13}, {13, 5}, false, false},   {{64, 33}, {33, 17}, true, false},
      {{31, 64}, {64, 9}, false, true},     {{16, 8}, {8, 16}, true, true},     {{4, 5, 6}, {4, 6, 7}, false, false},
      {{4, 5, 6}, {6, 7}, false, false},    {{5, 6}, {3, 6, 2}, false, false},  {{2, 1, 3, 4}, {5, 4, 6}, false, true},
      {{2, 3, 9, 4}, {2, 3, 4, 2}, true, false}, {{128, 784}, {784, 256}, false, false}, {{6}, {2, 6, 3}, false, false},
  };
  for (const auto& c : cases) {
    INFO("a " << shape_str(c.a) << (c.transpose_a ? "^T" : "") << " b " << shape_str(c.b) << (c.transpose_b ? "^T" : ""));
    auto make = [&](Shape s, bool transpose) {
      if (!transpose || s.size() < 2) return randn(s, {}, &gen);
      std::swap(s[s.size() - 1], s[s.size() - 2]);
      return randn(s, {}, &gen).transpose(-1, -2);  // a strided view, no copy
    };
    Tensor a = make(c.a, c.transpose_a), b = make(c.b, c.transpose_b);
    Tensor fast = matmul(a, b), slow = reference_matmul(a, b);
    REQUIRE(fast.shape() == slow.shape());
    CHECK(allclose(fast, slow, 1e-4, 1e-4));
  }
}

TEST_CASE("oneDNN primitives are cached by shape", "[matmul][onednn]") {
  Tensor a = ones({3, 19}), b = ones({19, 23});
  matmul(a, b);
  const auto created = cpu::onednn_matmul_primitives_created();
  for (int i = 0; i < 5; ++i) matmul(a, b);
  CHECK(cpu::onednn_matmul_primitives_created() == created);
  matmul(ones({4, 19}), b);
  CHECK(cpu::onednn_matmul_primitives_created() == created + 1);
}
#endif
