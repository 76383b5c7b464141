// Shared test helpers: compare a tensor with expected shape and values, and match error text.
#pragma once
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <tinynn/core/detail/channel_blocked.h>
#include <tinynn/tinynn.h>

namespace tinynn::test {

// Whether t's storage holds its values in a channel-blocked layout too (core/detail/channel_blocked.h):
// a convolution or conv block left it so.
inline bool left_blocked(const Tensor& t) {
  return detail::channel_blocked_of(t, 16).defined() || detail::channel_blocked_of(t, 8).defined();
}

// Every element of t (row-major) equals `expected` within tol; the shape must match too.
inline void check_values(const Tensor& t, const Shape& shape, const std::vector<double>& expected, double tol = 1e-6) {
  INFO("tensor: " << t);
  REQUIRE(t.shape() == shape);
  const auto got = t.to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", expected " << expected[i]);
    if (std::isnan(expected[i])) {
      CHECK(std::isnan(got[i]));
    } else if (std::isinf(expected[i])) {
      CHECK(got[i] == expected[i]);
    } else {
      CHECK(std::abs(got[i] - expected[i]) <= tol * std::max(1.0, std::abs(expected[i])));
    }
  }
}

// Each row (last axis) sorted ascending, as float64 (for eigenvalues, whose order is LAPACK's own).
inline Tensor sorted_rows(const Tensor& t) {
  auto v = t.to_vector<double>();
  const auto row = static_cast<std::ptrdiff_t>(t.size(-1));
  for (auto it = v.begin(); it != v.end(); it += row) std::sort(it, it + row);
  return from_vector(v, t.shape());
}

// A fresh, empty temporary folder for one test (per process, so parallel runs do not collide).
inline std::filesystem::path scratch_dir(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tinynn_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A whole file's bytes.
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `expr` throws a `Type` whose message contains `text`; `expr` runs exactly once.
#define TINYNN_REQUIRE_THROWS_CONTAINING(expr, Type, text)                                   \
  do {                                                                                       \
    bool tinynn_thrown_ = false;                                                             \
    try {                                                                                    \
      (void)(expr);                                                                          \
    } catch (const Type& tinynn_error_) {                                                    \
      tinynn_thrown_ = true;                                                                 \
      REQUIRE_THAT(std::string(tinynn_error_.what()), Catch::Matchers::Contains(text));      \
    } catch (const std::exception& tinynn_other_) {                                          \
      FAIL(#expr " threw another exception type: " << tinynn_other_.what());                 \
    }                                                                                        \
    if (!tinynn_thrown_) FAIL(#expr " did not throw " #Type);                                \
  } while (0)

}  // namespace tinynn::test
