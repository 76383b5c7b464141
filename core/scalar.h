// A number passed where a tensor could be (a + 2, clamp bounds): remembers whether it is integral.
#pragma once
#include <cstdint>
#include <type_traits>

namespace tinynn {

class Scalar {
 public:
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Scalar(T v)  // NOLINT(google-explicit-constructor): numbers convert implicitly, as in PyTorch
      : value_(static_cast<double>(v)), integral_(std::is_integral_v<T>) {}
  double to_double() const { return value_; }
  bool is_integral() const { return integral_; }

 private:
  double value_;
  bool integral_;
};

}  // namespace tinynn
