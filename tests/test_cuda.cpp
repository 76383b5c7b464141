// CPU vs CUDA parity for the ops the CUDA backend implements; skipped, visibly, without a GPU.
#include <iostream>

#include "test_helpers.h"

using namespace tinynn;

namespace {
bool have_gpu() {
  if (cuda_available()) return true;
  WARN("SKIPPED: no CUDA device present (" << build_summary() << ")");
  return false;
}
}  // namespace

TEST_CASE("CUDA: transfers round-trip and elementwise ops match the CPU", "[cuda]") {
  if (!have_gpu()) return;
  Generator gen(5);
  const Device gpu = Device::cuda(0);
  Tensor a = randn({33, 17}, {}, &gen), b = randn({17}, {}, &gen);
  Tensor ga = a.to(gpu), gb = b.to(gpu);
  CHECK(ga.device() == gpu);
  CHECK(equal(ga.to(Device::cpu()), a));
#define TINYNN_CHECK_UNARY(Name, name) \
  CHECK(allclose(unary(UnaryOp::Name, ga.t(), {0.1, 0.5}).to(Device::cpu()), unary(UnaryOp::Name, a.t(), {0.1, 0.5}), 1e-5, 1e-6));
  TINYNN_UNARY_OPS(TINYNN_CHECK_UNARY)
#undef TINYNN_CHECK_UNARY
#define TINYNN_CHECK_BINARY(Name, name) \
  CHECK(allclose(binary(BinaryOp::Name, ga, gb).to(Device::cpu()).to(DType::Float64), binary(BinaryOp::Name, a, b).to(DType::Float64), 1e-5, 1e-6));
  TINYNN_BINARY_OPS(TINYNN_CHECK_BINARY)
#undef TINYNN_CHECK_BINARY
  CHECK(equal(where(ga > 0, ga, gb).to(Device::cpu()), where(a > 0, a, b)));
  CHECK(equal(ones({3}, {DType::Int64, gpu}).to(Device::cpu()), ones({3}, {DType::Int64})));
}

TEST_CASE("CUDA: mixing devices is an error naming both", "[cuda]") {
  if (!have_gpu()) return;
  TINYNN_REQUIRE_THROWS_CONTAINING(ones({2}) + ones({2}).to(Device::cuda(0)), DeviceError,
                                   "tensors are on different devices: cpu and cuda:0");
}
