// Empty tensors through every op family, forward and backward: like PyTorch, an empty batch
// gives an empty result and empty (or zero) gradients, never a missing graph.
#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

namespace {

const TensorOptions kF64{DType::Float64};

Tensor leaf(const Shape& shape) { return zeros(shape, kF64).requires_grad_(); }

Tensor leaf_values(const std::vector<double>& values, const Shape& shape) {
  return from_vector(values, shape).requires_grad_();
}

// x's gradient exists, has x's shape and is all zeros.
void check_zero_grad(const Tensor& x) {
  REQUIRE(x.grad().defined());
  check_values(x.grad(), x.shape(), std::vector<double>(static_cast<std::size_t>(x.numel()), 0.0));
}

}  // namespace

TEST_CASE("empty: the issue's example, an empty batch broadcast against a vector", "[empty]") {
  Tensor a = leaf({0, 3});
  Tensor b = leaf_values({0.1, 0.2, 0.3}, {3});
  Tensor y = sum(a + b);
  check_values(y, {}, {0.0});
  y.backward();
  check_zero_grad(a);  // shape [0, 3]
  check_zero_grad(b);  // [0, 0, 0]
}

TEST_CASE("empty: unary ops record their graph", "[empty]") {
  for (auto op : {&exp, &tanh, &relu, &sigmoid, &square}) {
    Tensor a = leaf({2, 0, 4});
    Tensor y = op(a);
    CHECK(y.shape() == Shape{2, 0, 4});
    CHECK(y.requires_grad());
    sum(y).backward();
    check_zero_grad(a);
  }
}

TEST_CASE("empty: binary ops broadcast empty axes both ways", "[empty]") {
  Tensor a = leaf({0, 1});
  Tensor b = leaf_values({1, 2, 3, 4}, {1, 4});
  Tensor y = a * b;
  CHECK(y.shape() == Shape{0, 4});
  sum(y).backward();
  check_zero_grad(a);
  check_zero_grad(b);

  Tensor c = leaf({3, 0});
  Tensor d = leaf({0});
  Tensor z = c - d;
  CHECK(z.shape() == Shape{3, 0});
  sum(z).backward();
  check_zero_grad(c);
  check_zero_grad(d);
}

TEST_CASE("empty: where and comparisons", "[empty]") {
  Tensor a = leaf({0, 3});
  Tensor b = leaf_values({1, 2, 3}, {3});
  Tensor y = where(a > 0.0, a, b);
  CHECK(y.shape() == Shape{0, 3});
  sum(y).backward();
  check_zero_grad(a);
  check_zero_grad(b);
}

TEST_CASE("empty: matmul with an empty batch, empty rows and an empty inner axis", "[empty]") {
  SECTION("no rows: [0, 3] @ [3, 4]") {
    Tensor a = leaf({0, 3});
    Tensor w = leaf_values({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4});
    Tensor y = matmul(a, w);
    CHECK(y.shape() == Shape{0, 4});
    sum(y).backward();
    check_zero_grad(a);
    check_zero_grad(w);
  }
  SECTION("empty inner axis: [2, 0] @ [0, 3] is a zero matrix") {
    Tensor a = leaf({2, 0});
    Tensor b = leaf({0, 3});
    Tensor y = matmul(a, b);
    check_values(y, {2, 3}, {0, 0, 0, 0, 0, 0});
    sum(y).backward();
    CHECK(a.grad().shape() == Shape{2, 0});
    CHECK(b.grad().shape() == Shape{0, 3});
  }
  SECTION("empty batch: [0, 2, 3] @ [3, 4] and a vector") {
    Tensor a = leaf({0, 2, 3});
    Tensor w = leaf_values({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4});
    Tensor v = leaf_values({1, 2, 3}, {3});
    sum(matmul(a, w)).backward();
    sum(matmul(a, v)).backward();
    check_zero_grad(a);
    check_zero_grad(w);
    check_zero_grad(v);
  }
}

TEST_CASE("empty: reductions and scans over empty tensors", "[empty]") {
  SECTION("sum over the empty axis gives zeros") {
    Tensor a = leaf({0, 3});
    Tensor y = sum(a, {0});
    check_values(y, {3}, {0, 0, 0});
    (y * from_vector(std::vector<double>{1, 2, 3}, {3})).sum().backward();
    check_zero_grad(a);
  }
  SECTION("sum, amax and prod over a full axis of an empty batch") {
    for (auto reduce : {&sum, &amax, &prod, &mean}) {
      Tensor a = leaf({0, 3});
      Tensor y = reduce(a, {1}, false);
      CHECK(y.shape() == Shape{0});
      sum(y).backward();
      check_zero_grad(a);
    }
  }
  SECTION("mean of nothing is NaN, as in PyTorch") {
    check_values(mean(leaf({0, 3})), {}, {std::nan("")});
  }
  SECTION("cumsum and softmax") {
    Tensor a = leaf({0, 5});
    sum(cumsum(a, 1)).backward();
    sum(softmax(a, 1)).backward();
    sum(log_softmax(a, 1)).backward();
    check_zero_grad(a);
  }
}

TEST_CASE("empty: views, copies, joining and picking", "[empty]") {
  SECTION("views and copies") {
    Tensor a = leaf({0, 2, 3});
    Tensor y = a.reshape({0, 6}).transpose(0, 1).slice(0, 1, 4).contiguous().to(DType::Float32);
    CHECK(y.shape() == Shape{3, 0});
    sum(y).backward();
    check_zero_grad(a);
  }
  SECTION("cat with an empty part") {
    Tensor a = leaf({0, 2});
    Tensor b = leaf_values({1, 2, 3, 4}, {2, 2});
    Tensor y = cat({a, b}, 0);
    check_values(y, {2, 2}, {1, 2, 3, 4});
    sum(y * y).backward();
    check_zero_grad(a);
    check_values(b.grad(), {2, 2}, {2, 4, 6, 8});
  }
  SECTION("index_select and gather with no indices") {
    Tensor x = leaf_values({1, 2, 3, 4, 5, 6}, {3, 2});
    const Tensor none = zeros({0}, {DType::Int64});
    Tensor y = index_select(x, 0, none);
    CHECK(y.shape() == Shape{0, 2});
    sum(y).backward();
    check_zero_grad(x);
    Tensor z = gather(x, 1, zeros({3, 0}, {DType::Int64}));
    CHECK(z.shape() == Shape{3, 0});
  }
}

TEST_CASE("empty: the fused loss and a dense layer on an empty batch", "[empty]") {
  Tensor logits = leaf({0, 10});
  Tensor loss = softmax_cross_entropy(logits, zeros({0}, {DType::Int64}), 0.1);
  CHECK(loss.shape() == Shape{0});
  sum(loss).backward();
  check_zero_grad(logits);

  Generator gen(3);
  nn::Linear layer(4, 2, true, &gen);
  Tensor x = zeros({0, 4}).requires_grad_();
  Tensor y = layer.forward_activated(x, UnaryOp::Relu, {});
  CHECK(y.shape() == Shape{0, 2});
  sum(layer.forward(x) + y).backward();
  check_zero_grad(x);
  for (const Tensor& p : layer.parameters()) check_zero_grad(p);
}

TEST_CASE("index_select names itself in its errors", "[empty][indexing]") {
  const Tensor x = zeros({3, 2});
  CHECK_THROWS_WITH(index_select(x, 0, from_vector(std::vector<std::int64_t>{0, 5}, {2})),
                    Catch::Contains("tinynn::index_select: index 5 is out of range for an axis of size 3"));
  CHECK_THROWS_WITH(gather(x, 0, from_vector(std::vector<std::int64_t>{7}, {1, 1})),
                    Catch::Contains("tinynn::gather: index 7"));
}
