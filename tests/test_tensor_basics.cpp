// Tensor basics: dtypes, creation, element access, conversions, printing, seeded randomness.
#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

TEST_CASE("dtype sizes, names and promotion", "[tensor]") {
  CHECK(dtype_size(DType::Float32) == 4);
  CHECK(dtype_size(DType::Float64) == 8);
  CHECK(dtype_size(DType::Int64) == 8);
  CHECK(dtype_size(DType::Bool) == 1);
  CHECK(std::string(dtype_name(DType::Float64)) == "float64");
  CHECK(promote_types(DType::Int64, DType::Float32) == DType::Float32);
  CHECK(promote_types(DType::Float32, DType::Float64) == DType::Float64);
  CHECK(promote_types(DType::Bool, DType::Int64) == DType::Int64);
}

TEST_CASE("tensor from nested values infers shape and dtype", "[tensor][creation]") {
  Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
  CHECK(a.dtype() == DType::Int64);
  check_values(a, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = tensor({1.5, 2.0});
  CHECK(b.dtype() == DType::Float32);
  Tensor c = tensor({{1, 2}}, DType::Float64);
  CHECK(c.dtype() == DType::Float64);
  Tensor s = tensor(3.5);
  CHECK(s.dim() == 0);
  CHECK(s.item<double>() == 3.5);
  TINYNN_REQUIRE_THROWS_CONTAINING(tensor({{1, 2}, {3}}), ShapeError, "ragged");
  TINYNN_REQUIRE_THROWS_CONTAINING(tensor({{1, 2}, 3}), ShapeError, "ragged");
}

TEST_CASE("fills, ranges and identity", "[tensor][creation]") {
  check_values(zeros({2, 2}), {2, 2}, {0, 0, 0, 0});
  check_values(ones({3}, {DType::Int64}), {3}, {1, 1, 1});
  check_values(full({2}, 7.5), {2}, {7.5, 7.5});
  Tensor r = arange(5);
  CHECK(r.dtype() == DType::Int64);
  check_values(r, {5}, {0, 1, 2, 3, 4});
  check_values(arange(1, 2, 0.25), {4}, {1, 1.25, 1.5, 1.75});
  check_values(arange(5, 0, -2), {3}, {5, 3, 1});
  check_values(linspace(0, 1, 5), {5}, {0, 0.25, 0.5, 0.75, 1});
  CHECK(linspace(-1, 1, 7).to_vector<float>().back() == 1.0f);
  check_values(eye(2, 3), {2, 3}, {1, 0, 0, 0, 1, 0});
  check_values(arange(24).reshape({2, 3, 4}).select(1, 2), {2, 4}, {8, 9, 10, 11, 20, 21, 22, 23});
  TINYNN_REQUIRE_THROWS_CONTAINING(arange(0, 5, 0), ValueError, "arange");
  TINYNN_REQUIRE_THROWS_CONTAINING(arange(0, 5, -1), ValueError, "moves away");
  TINYNN_REQUIRE_THROWS_CONTAINING(zeros({2, -1}), ShapeError, "negative size");
}

TEST_CASE("element access and conversion", "[tensor]") {
  Tensor a = tensor({{1.5, -2.0}, {3.25, 4.0}});
  CHECK(a.at<float>({1, 0}) == 3.25f);
  CHECK(a[0][1].item<double>() == -2.0);
  CHECK(a.at({-1, -1}) == 4.0);
  Tensor i = a.to(DType::Int64);
  CHECK(i.dtype() == DType::Int64);
  check_values(i, {2, 2}, {1, -2, 3, 4});  // truncation toward zero, as static_cast
  Tensor d = a.to(DType::Float64);
  CHECK(d.to_vector<double>() == std::vector<double>{1.5, -2.0, 3.25, 4.0});
  CHECK(a.to(DType::Float32).shares_storage_with(a));  // same dtype: no copy
  TINYNN_REQUIRE_THROWS_CONTAINING(a.item(), ShapeError, "4 elements, expected 1");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.at({0}), IndexError, "1 indices");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.at({2, 0}), IndexError, "out of range");
  TINYNN_REQUIRE_THROWS_CONTAINING(a.data_ptr<double>(), DTypeError, "float32");
  TINYNN_REQUIRE_THROWS_CONTAINING(Tensor().shape(), ValueError, "undefined tensor");
}

TEST_CASE("clone copies, contiguous keeps contiguous tensors", "[tensor]") {
  Tensor a = arange(6).reshape({2, 3});
  Tensor c = a.clone();
  CHECK_FALSE(c.shares_storage_with(a));
  CHECK(equal(a, c));
  CHECK(a.contiguous().shares_storage_with(a));
  Tensor t = a.t();
  CHECK_FALSE(t.is_contiguous());
  Tensor tc = t.contiguous();
  CHECK(tc.is_contiguous());
  check_values(tc, {3, 2}, {0, 3, 1, 4, 2, 5});
}

TEST_CASE("Philox4x32-10 matches the Random123 known answers", "[tensor][random]") {
  std::uint32_t w[4];
  philox4x32(0, 0, w);  // key 0, counter 0
  CHECK(w[0] == 0x6627e8d5u);
  CHECK(w[1] == 0xe169c58du);
  CHECK(w[2] == 0xbc57ac4cu);
  CHECK(w[3] == 0x9b00dbd8u);
  std::uint32_t blocks[4 * 11];  // the lane-parallel version gives the same words
  philox4x32_blocks(77, 5, 11, blocks);
  for (int b = 0; b < 11; ++b) {
    philox4x32(77, 5 + static_cast<std::uint64_t>(b), w);
    for (int k = 0; k < 4; ++k) CHECK(blocks[4 * b + k] == w[k]);
  }
}

TEST_CASE("random draws are the documented function of Philox words, on any thread count", "[tensor][random]") {
  // Element i of rand/randint/bernoulli uses word i % 4 of block i / 4; randn's pair j uses words
  // 0 and 1 of block j. 20,001 elements run on several threads; 7 on one.
  for (std::int64_t n : {7, 20001}) {
    INFO("n = " << n);
    Generator gen(3);
    const std::uint64_t seed = gen.seed(), first = gen.offset();
    const auto u = rand({n}, {DType::Float64}, &gen).to_vector<double>();
    const std::uint64_t ints_first = gen.offset();
    const auto ints = randint(-5, 20, {n}, {DType::Int64}, &gen).to_vector<std::int64_t>();
    const std::uint64_t normal_first = gen.offset();
    const auto z = randn({n}, {DType::Float64}, &gen).to_vector<double>();
    const std::uint64_t bern_first = gen.offset();
    const auto mask = bernoulli({n}, 0.25, {DType::Float32}, &gen, 4.0).to_vector<double>();
    CHECK(gen.offset() == bern_first + static_cast<std::uint64_t>((n + 3) / 4));
    std::uint32_t w[4];
    for (std::int64_t i = 0; i < n; ++i) {
      philox4x32(seed, first + static_cast<std::uint64_t>(i / 4), w);
      REQUIRE(u[i] == w[i % 4] / 4294967296.0);
      philox4x32(seed, ints_first + static_cast<std::uint64_t>(i / 4), w);
      REQUIRE(ints[i] == -5 + static_cast<std::int64_t>(w[i % 4] % 25));
      philox4x32(seed, bern_first + static_cast<std::uint64_t>(i / 4), w);
      REQUIRE(mask[i] == (w[i % 4] / 4294967296.0 < 0.25 ? 4.0 : 0.0));
      philox4x32(seed, normal_first + static_cast<std::uint64_t>(i / 2), w);
      const double r = std::sqrt(-2.0 * std::log((w[0] + 1.0) / 4294967297.0)), angle = 2.0 * M_PI * (w[1] / 4294967296.0);
      REQUIRE(z[i] == Approx(i % 2 == 0 ? r * std::cos(angle) : r * std::sin(angle)).epsilon(1e-15));
    }
  }
  Generator one(8), two(8);
  set_num_threads(1);
  const Tensor single = randn({40000}, {}, &one);
  set_num_threads(0);
  CHECK(equal(single, randn({40000}, {}, &two)));
}

TEST_CASE("seeded random draws repeat and have the right moments", "[tensor][random]") {
  Generator g1(42), g2(42), g3(43);
  Tensor a = randn({4096}, {}, &g1), b = randn({4096}, {}, &g2), c = randn({4096}, {}, &g3);
  CHECK(equal(a, b));
  CHECK_FALSE(equal(a, c));
  CHECK(std::abs(mean(a).item()) < 0.05);
  CHECK(std::abs(tinynn::std(a).item() - 1.0) < 0.05);
  Tensor u = rand({10000}, {DType::Float64}, &g1);
  CHECK(amin(u).item() >= 0.0);
  CHECK(amax(u).item() < 1.0);
  CHECK(std::abs(mean(u).item() - 0.5) < 0.02);
  Tensor r = randint(3, 7, {1000}, {DType::Int64}, &g1);
  CHECK(amin(r).item() == 3);
  CHECK(amax(r).item() == 6);
  Tensor bern = bernoulli({20000}, 0.3, {}, &g1);
  CHECK(std::abs(mean(bern).item() - 0.3) < 0.02);
  Tensor probs = tensor({0.0, 1.0, 0.0, 1.0});
  check_values(bernoulli(probs, &g1), {4}, {0, 1, 0, 1});
  // With a value: the same draws, scaled (dropout's mask).
  Generator scaled_gen(9), plain_gen(9);
  CHECK(allclose(bernoulli({64}, 0.7, {}, &scaled_gen, 2.5), bernoulli({64}, 0.7, {}, &plain_gen) * 2.5));
  // The generator's state is (seed, offset): restoring it replays the same numbers.
  Generator g4(7);
  randn({10}, {}, &g4);
  const auto offset = g4.offset();
  Tensor x = rand({5}, {}, &g4);
  g4.set_state(7, offset);
  CHECK(equal(x, rand({5}, {}, &g4)));
  manual_seed(5);
  Tensor d1 = rand({3});
  manual_seed(5);
  CHECK(equal(d1, rand({3})));
  TINYNN_REQUIRE_THROWS_CONTAINING(bernoulli({2}, 1.5), ValueError, "outside [0, 1]");
  TINYNN_REQUIRE_THROWS_CONTAINING(randint(3, 3, {2}), ValueError, "empty range");
}

TEST_CASE("printing shows values, shape, dtype and device", "[tensor][print]") {
  const std::string s = to_string(tensor({{1.5, 2.0}, {3.0, 4.25}}));
  CHECK(s == "tensor([[1.5000, 2.0000],\n        [3.0000, 4.2500]], shape=[2, 2], dtype=float32, device=cpu)");
  CHECK(to_string(tensor({1, 2, 3})) == "tensor([1, 2, 3], shape=[3], dtype=int64, device=cpu)");
  CHECK(to_string(tensor({1.0, 2.0})) == "tensor([1., 2.], shape=[2], dtype=float32, device=cpu)");
  CHECK(to_string(tensor({1, 2}) > 1) == "tensor([False,  True], shape=[2], dtype=bool, device=cpu)");
  CHECK(to_string(tensor(2.5)) == "tensor(2.5000, shape=[], dtype=float32, device=cpu)");
  CHECK(to_string(zeros({0, 3})) == "tensor([], shape=[0, 3], dtype=float32, device=cpu)");
  const std::string big = to_string(arange(2000));
  CHECK(big.find("[   0,    1,    2, ..., 1997, 1998, 1999]") != std::string::npos);
}

TEST_CASE("devices: parse, and a clear error for a CUDA device that is not there", "[tensor][device]") {
  CHECK(Device::parse("cpu") == Device::cpu());
  CHECK(Device::parse("cuda:1") == Device::cuda(1));
  CHECK(Device::cuda(2).str() == "cuda:2");
  TINYNN_REQUIRE_THROWS_CONTAINING(Device::parse("gpu"), ValueError, "unknown device 'gpu'");
  if (!cuda_available()) {
    TINYNN_REQUIRE_THROWS_CONTAINING(ones({2}).to(Device::cuda()), DeviceError, "cuda:0");
    TINYNN_REQUIRE_THROWS_CONTAINING(zeros({2}, {DType::Float32, Device::cuda()}), DeviceError, "no CUDA device");
  } else {
    const int n = cuda_device_count();
    TINYNN_REQUIRE_THROWS_CONTAINING(ones({2}).to(Device::cuda(n)), DeviceError, "CUDA device(s) are present");
  }
}
