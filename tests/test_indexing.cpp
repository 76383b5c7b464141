// Joining and picking: cat, stack, index_select, gather, scatter_add, one_hot.
#include "test_helpers.h"

#include <array>

#include "../core/detail/plan.h"

using namespace tinynn;
using tinynn::test::check_values;

TEST_CASE("cat joins along an axis and promotes dtypes", "[indexing]") {
  Tensor a = tensor({{1, 2}, {3, 4}}), b = tensor({{5, 6}});
  check_values(cat({a, b}), {3, 2}, {1, 2, 3, 4, 5, 6});
  check_values(cat({a, a.t()}, 1), {2, 4}, {1, 2, 1, 3, 3, 4, 2, 4});
  Tensor mixed = cat({tensor({1}), tensor({2.5})});
  CHECK(mixed.dtype() == DType::Float32);
  check_values(mixed, {2}, {1, 2.5});
  check_values(cat({zeros({0, 2}), ones({1, 2})}), {1, 2}, {1, 1});
  TINYNN_REQUIRE_THROWS_CONTAINING(cat({a, tensor({1, 2, 3})}), ShapeError, "tensor 1 has shape [3], which differs from [2, 2]");
  TINYNN_REQUIRE_THROWS_CONTAINING(cat({}), ValueError, "at least one tensor");
}

TEST_CASE("stack adds a new axis", "[indexing]") {
  Tensor a = tensor({1, 2}), b = tensor({3, 4});
  check_values(stack({a, b}), {2, 2}, {1, 2, 3, 4});
  check_values(stack({a, b}, 1), {2, 2}, {1, 3, 2, 4});
  check_values(stack({a, b}, -1), {2, 2}, {1, 3, 2, 4});
  TINYNN_REQUIRE_THROWS_CONTAINING(stack({a, tensor({1})}), ShapeError, "tensor 1 has shape [1], expected [2]");
}

TEST_CASE("index_select picks entries along an axis", "[indexing]") {
  Tensor m = arange(12).reshape({3, 4});
  check_values(index_select(m, 0, tensor({2, 0})), {2, 4}, {8, 9, 10, 11, 0, 1, 2, 3});
  check_values(index_select(m, 1, tensor({3, 3, 1})), {3, 3}, {3, 3, 1, 7, 7, 5, 11, 11, 9});
  check_values(index_select(m.t(), 1, tensor({1})), {4, 1}, {4, 5, 6, 7});
  TINYNN_REQUIRE_THROWS_CONTAINING(index_select(m, 0, tensor({3})), IndexError, "index 3 is out of range for an axis of size 3");
  TINYNN_REQUIRE_THROWS_CONTAINING(index_select(m, 0, tensor({1.0})), DTypeError, "index must be int64");
  TINYNN_REQUIRE_THROWS_CONTAINING(index_select(m, 0, tensor({{1}})), ShapeError, "index must be 1-D");
}

TEST_CASE("gather follows torch.gather", "[indexing]") {
  Tensor x = tensor({{1.0, 2.0}, {3.0, 4.0}});
  check_values(gather(x, 1, tensor({{0, 0}, {1, 0}})), {2, 2}, {1, 1, 4, 3});
  check_values(gather(x, 0, tensor({{1, 0}})), {1, 2}, {3, 2});
  // Picking each row's target class, the core of a cross-entropy loss.
  Tensor logp = tensor({{-0.1, -2.0, -3.0}, {-1.5, -0.3, -2.5}});
  check_values(gather(logp, 1, tensor({{0}, {1}})), {2, 1}, {-0.1, -0.3});
  TINYNN_REQUIRE_THROWS_CONTAINING(gather(x, 1, tensor({{2}, {0}})), IndexError, "gather: index 2 is out of range");
  TINYNN_REQUIRE_THROWS_CONTAINING(gather(x, 1, tensor({{-1}, {0}})), IndexError, "index -1");
  TINYNN_REQUIRE_THROWS_CONTAINING(gather(x, 1, tensor({0, 1})), ShapeError, "does not fit input");
}

TEST_CASE("scatter_add accumulates, including repeated indices", "[indexing]") {
  Tensor base = zeros({2, 3});
  Tensor index = tensor({{0, 1, 0}, {2, 2, 2}});
  Tensor src = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  check_values(scatter_add(base, 1, index, src), {2, 3}, {4, 2, 0, 0, 0, 15});
  check_values(scatter_add(zeros({3}), 0, tensor({1, 1, 1}), tensor({1.0, 1.0, 1.0})), {3}, {0, 3, 0});
  CHECK(equal(base, zeros({2, 3})));  // the input is not modified
  TINYNN_REQUIRE_THROWS_CONTAINING(scatter_add(base, 1, tensor({{3}}), tensor({{1.0}})), IndexError, "scatter_add: index 3");
}

TEST_CASE("one_hot encodes class ids", "[indexing]") {
  Tensor oh = one_hot(tensor({0, 2, 1}), 3);
  CHECK(oh.dtype() == DType::Float32);
  check_values(oh, {3, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0});
  CHECK(one_hot(tensor({{1}}), 2).shape() == Shape{1, 1, 2});
  TINYNN_REQUIRE_THROWS_CONTAINING(one_hot(tensor({3}), 3), IndexError, "labels must lie in [0, 3), found 3");
  TINYNN_REQUIRE_THROWS_CONTAINING(one_hot(tensor({-1}), 3), IndexError, "found -1");
  TINYNN_REQUIRE_THROWS_CONTAINING(one_hot(tensor({1.0}), 3), DTypeError, "labels must be int64");
}

TEST_CASE("scatter_add over disjoint planes runs on several threads with the one-thread result", "[indexing]") {
  // 64 planes of 4096 values, 8192 additions each with many colliding indices (a max-pool backward's
  // pattern, large enough to be split across threads): bit-identical for 1 and 2 threads.
  Generator gen(21);
  const Tensor index = randint(0, 4096, {64, 8192}, {DType::Int64}, &gen), src = randn({64, 8192}, {}, &gen);
  const int threads = num_threads();
  set_num_threads(1);
  const Tensor one = scatter_add(zeros({64, 4096}), 1, index, src);
  set_num_threads(2);
  const Tensor two = scatter_add(zeros({64, 4096}), 1, index, src);
  set_num_threads(threads);
  CHECK(equal(one, two));
  // And the sums are right: plane 3's total is the sum of its sources.
  CHECK(sum(one.select(0, 3)).item() == Approx(sum(src.select(0, 3)).item()).epsilon(1e-4));
  TINYNN_REQUIRE_THROWS_CONTAINING(scatter_add(zeros({64, 4096}), 1, index + 4096, src), IndexError, "scatter_add");
}

TEST_CASE("gather's gradient scatters into rows the backend zeroes itself", "[indexing]") {
  // The gradient of gather along the last axis with the index as large as x elsewhere (a max pool's)
  // takes its output uninitialized and the backend zeroes each row as it scatters into it
  // (IndexPlan::zero_rows); other shapes are zeroed first. Each after a tensor of 7s gave its memory back.
  const Tensor index = tensor({{{0, 4, 4, 1}, {2, 2, 2, 2}}, {{3, 0, 1, 4}, {4, 4, 0, 0}}});  // [2, 2, 4]
  auto gradient = [&](const Shape& x_shape, const Tensor& idx) {
    (void)full(x_shape, 7.0).sum().item();  // freed at once: the gradient may get its memory
    const Tensor x = zeros(x_shape).requires_grad_();
    gather(x, -1, idx).sum().backward();
    return x.grad();
  };
  check_values(gradient({2, 2, 5}, index), {2, 2, 5},
               {1, 1, 0, 0, 2, /**/ 0, 0, 4, 0, 0, /**/ 1, 1, 0, 1, 1, /**/ 2, 0, 0, 0, 2});
  // Index smaller than x outside the axis, and of length 1 along it: zeros first, as before.
  check_values(gradient({2, 3, 5}, index), {2, 3, 5},
               {1, 1, 0, 0, 2, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0});
  check_values(gradient({2, 2, 3}, tensor({{{2}, {0}}, {{1}, {1}}})), {2, 2, 3}, {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0});
  // The backend itself, on a buffer of 7s: every row it addresses is zeroed before the adds.
  const Tensor out = full({2, 2, 5}, 7.0), src = ones({2, 2, 4});
  std::array<Shape, 3> strides{src.strides(), index.strides(), out.strides()};
  strides[2][2] = 0;
  IndexPlan plan;
  plan.iter = detail::make_elementwise_plan<3>(index.shape(), strides);
  plan.axis_stride = 1, plan.axis_size = 5, plan.caller = IndexCaller::ScatterAdd, plan.zero_rows = true;
  backend_for(Device::cpu()).scatter_add(plan, DType::Float32, out.raw_data(), index.data_ptr<std::int64_t>(), src.raw_data());
  check_values(out, {2, 2, 5}, {1, 1, 0, 0, 2, /**/ 0, 0, 4, 0, 0, /**/ 1, 1, 0, 1, 1, /**/ 2, 0, 0, 0, 2});
  // A max pool's gradient: each window's winner gets its output's gradient, the rest zero.
  (void)full({1, 2, 4, 4}, 7.0).sum().item();
  const Tensor x = arange(0, 32, 1, {DType::Float32}).reshape({1, 2, 4, 4}).requires_grad_();
  max_pool2d(x, {2, 2}).sum().backward();
  check_values(x.grad(), {1, 2, 4, 4}, {0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, /**/ 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1});
}
