// Views share storage and follow PyTorch's shape rules; reshape copies only when it must.
#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

TEST_CASE("reshape and view of contiguous data share storage", "[views]") {
  Tensor a = arange(24);
  Tensor b = a.reshape({2, 3, 4});
  CHECK(b.shares_storage_with(a));
  CHECK(b.strides() == Shape{12, 4, 1});
  CHECK(b.at<std::int64_t>({1, 2, 3}) == 23);
  check_values(a.view({4, -1}).select(0, 3), {6}, {18, 19, 20, 21, 22, 23});
  CHECK(tensor(5).reshape({1, 1}).shape() == Shape{1, 1});
  CHECK(zeros({0, 4}).reshape({-1, 2}).shape() == Shape{0, 2});
  TINYNN_REQUIRE_THROWS_CONTAINING(a.reshape({5, 5}), ShapeError, "cannot reshape [24] (24 elements) into [5, 5] (25 elements)");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.reshape({-1, -1}), ShapeError, "only one size may be -1");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.reshape({7, -1}), ShapeError, "cannot reshape");
}

TEST_CASE("views of non-contiguous data: view when strides allow, reshape copies otherwise", "[views]") {
  Tensor a = arange(24).reshape({2, 3, 4});
  Tensor p = a.permute({1, 0, 2});  // [3, 2, 4], last axis still contiguous
  Tensor v = p.view({3, 2, 2, 2});  // splitting the contiguous last axis is a view
  CHECK(v.shares_storage_with(a));
  check_values(v.select(0, 1).select(1, 1), {2, 2}, {6, 7, 18, 19});  // same as p[1][1][2:4] etc.
  TINYNN_REQUIRE_THROWS_CONTAINING(p.view({6, 4}), ShapeError, "without a copy; use reshape");
  Tensor r = p.reshape({6, 4});
  CHECK_FALSE(r.shares_storage_with(a));
  check_values(r.select(0, 1), {4}, {12, 13, 14, 15});
  // Merging axes that are contiguous with each other stays a view even inside a strided tensor.
  Tensor s = arange(60).reshape({3, 4, 5}).slice(0, 0, 3, 2);  // [2, 4, 5], stride 40 on axis 0
  Tensor m = s.reshape({2, 20});
  CHECK(m.shares_storage_with(s));
  CHECK(m.at<std::int64_t>({1, 19}) == 59);
}

TEST_CASE("transpose, permute and t", "[views]") {
  Tensor a = arange(6).reshape({2, 3});
  Tensor t = a.t();
  CHECK(t.shares_storage_with(a));
  check_values(t, {3, 2}, {0, 3, 1, 4, 2, 5});
  check_values(a.transpose(0, -1), {3, 2}, {0, 3, 1, 4, 2, 5});
  Tensor b = arange(24).reshape({2, 3, 4}).permute({2, 0, 1});
  CHECK(b.shape() == Shape{4, 2, 3});
  CHECK(b.at<std::int64_t>({3, 1, 2}) == 23);
  CHECK(b.at<std::int64_t>({1, 0, 2}) == 9);
  CHECK(tensor({1, 2}).t().shape() == Shape{2});
  TINYNN_REQUIRE_THROWS_CONTAINING(arange(8).reshape({2, 2, 2}).t(), ShapeError, "at most 2 dimensions");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.permute({0, 0}), ShapeError, "appears twice");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.permute({0}), ShapeError, "1 axes given");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.transpose(0, 2), IndexError, "axis 2 is out of range for a tensor with 2 dimension(s)");
}

TEST_CASE("squeeze, unsqueeze and flatten", "[views]") {
  Tensor a = zeros({1, 3, 1, 2});
  CHECK(a.squeeze().shape() == Shape{3, 2});
  CHECK(a.squeeze(2).shape() == Shape{1, 3, 2});
  CHECK(a.squeeze(1).shape() == Shape{1, 3, 1, 2});  // not size 1: unchanged, like PyTorch
  CHECK(tensor({1, 2, 3}).unsqueeze(0).shape() == Shape{1, 3});
  CHECK(tensor({1, 2, 3}).unsqueeze(-1).shape() == Shape{3, 1});
  CHECK(arange(24).reshape({2, 3, 4}).flatten().shape() == Shape{24});
  CHECK(arange(24).reshape({2, 3, 4}).flatten(1).shape() == Shape{2, 12});
  CHECK(arange(24).reshape({2, 3, 4}).flatten(0, 1).shape() == Shape{6, 4});
  CHECK(tensor(3).flatten().shape() == Shape{1});
  TINYNN_REQUIRE_THROWS_CONTAINING(tensor({1, 2}).unsqueeze(3), IndexError, "out of range");
}

TEST_CASE("expand broadcasts with stride 0", "[views]") {
  Tensor a = tensor({{1}, {2}, {3}});  // [3, 1]
  Tensor e = a.expand({2, 3, 4});
  CHECK(e.shares_storage_with(a));
  CHECK(e.strides() == Shape{0, 1, 0});
  check_values(e.select(0, 1), {3, 4}, {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
  CHECK(a.expand({-1, 5}).shape() == Shape{3, 5});
  TINYNN_REQUIRE_THROWS_CONTAINING(a.expand({3, 4}).expand({2, 4}), ShapeError, "size 3 at axis 0 is not 1");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.expand({4}), ShapeError, "fewer dimensions");
}

TEST_CASE("slice, narrow and select", "[views]") {
  Tensor a = arange(10);
  check_values(a.slice(0, 2, 8, 3), {2}, {2, 5});
  check_values(a.slice(0, -3, 100), {3}, {7, 8, 9});
  CHECK(a.slice(0, 5, 2).numel() == 0);
  check_values(a.narrow(0, 4, 2), {2}, {4, 5});
  Tensor m = arange(12).reshape({3, 4});
  check_values(m.slice(1, 1, 3), {3, 2}, {1, 2, 5, 6, 9, 10});
  check_values(m.select(1, -1), {3}, {3, 7, 11});
  CHECK(m.slice(1, 1, 3).shares_storage_with(m));
  TINYNN_REQUIRE_THROWS_CONTAINING(a.narrow(0, 8, 5), IndexError, "range [8, 13) is outside axis 0 of size 10");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.select(0, 10), IndexError, "index 10 is out of range for axis 0 of size 10");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.slice(0, 0, 5, 0), ValueError, "step must be positive");
  TINYNN_REQUIRE_THROWS_CONTAINING(tensor(1).select(0, 0), IndexError, "0-d");
}

TEST_CASE("writes through a view are seen by the base tensor", "[views]") {
  Tensor a = zeros({2, 3});
  Tensor row = a.select(0, 1);
  row.data_ptr<float>()[2] = 5.0f;  // row is a view starting at a's element 3
  CHECK(a.at<float>({1, 2}) == 5.0f);
}
