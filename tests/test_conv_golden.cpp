// Image ops against PyTorch (tests/golden/gen_conv_golden.py): conv2d values, gradients of input,
// weight and bias, and second-order gradients; max, average and adaptive average pooling with
// their input gradients; batch_norm with its gradients and running statistics. Everything is
// checked in float64 (the reference kernels) to 1e-10, and conv2d and the pools again in float32
// (oneDNN on the CPU) to 1e-4.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "golden_helpers.h"
#include "test_helpers.h"

using namespace tinynn;
using json = nlohmann::json;

namespace {

const json& golden() {
  static const json data = test::read_golden("conv_golden.json");
  return data;
}

// Both precisions with their tolerances: float64 matches the reference kernels' arithmetic,
// float32 goes through oneDNN.
const std::vector<std::pair<DType, double>>& precisions() {
  static const std::vector<std::pair<DType, double>> p = {{DType::Float64, 1e-10}, {DType::Float32, 1e-4}};
  return p;
}

Size2 size2(const json& j) { return {j.at(0).get<std::int64_t>(), j.at(1).get<std::int64_t>()}; }

// A fresh leaf from JSON in `dtype` (undefined for null), requiring grad if asked.
Tensor leaf(const json& j, DType dtype = DType::Float64, bool requires_grad = false) {
  if (j.is_null()) return Tensor();
  Tensor t = test::tensor_from_json(j);
  if (dtype != t.dtype()) t = t.to(dtype);
  if (requires_grad) t.requires_grad_();
  return t;
}

void check_close(const std::string& what, const Tensor& ours, const json& theirs, double tol) {
  INFO(what);
  REQUIRE(ours.defined());
  const Tensor expected = test::tensor_from_json(theirs);
  INFO("tinynn: " << ours << "\ntorch:  " << expected);
  REQUIRE(ours.shape() == expected.shape());
  CHECK(allclose(ours, expected, tol, tol));
}

std::string label(const json& c, DType dtype) {
  return c.at("name").get<std::string>() + (dtype == DType::Float32 ? " (float32)" : " (float64)");
}

// Runs `op` on a case's input in both precisions: checks the output, then after
// backward(grad_output) the input's gradient.
template <class Op>
void check_pool(const std::string& kind, const json& cases, const Op& op) {
  REQUIRE(!cases.empty());
  for (const json& c : cases) {
    for (const auto& [dtype, tol] : precisions()) {
      const std::string name = kind + " " + label(c, dtype);
      INFO(name);
      Tensor x = leaf(c.at("input"), dtype, true);
      const Tensor y = op(x, c);
      check_close(name + " output", y, c.at("output"), tol);
      y.backward(leaf(c.at("grad_output"), dtype));
      check_close(name + " grad_input", x.grad(), c.at("grad_input"), tol);
    }
  }
}

}  // namespace

TEST_CASE("conv2d matches PyTorch: output and gradients of input, weight and bias", "[conv][golden]") {
  const json& cases = golden().at("conv2d");
  REQUIRE(!cases.empty());
  for (const json& c : cases) {
    const Size2 stride = size2(c.at("stride")), padding = size2(c.at("padding")), dilation = size2(c.at("dilation"));
    const auto groups = c.at("groups").get<std::int64_t>();
    for (const auto& [dtype, tol] : precisions()) {
      const std::string name = "conv2d " + label(c, dtype);
      INFO(name);
      Tensor x = leaf(c.at("input"), dtype, true), w = leaf(c.at("weight"), dtype, true);
      Tensor b = leaf(c.at("bias"), dtype, true);
      REQUIRE(b.defined() == !c.at("grad_bias").is_null());
      const Tensor y = conv2d(x, w, b, stride, padding, dilation, groups);
      check_close(name + " output", y, c.at("output"), tol);
      y.backward(leaf(c.at("grad_output"), dtype));
      check_close(name + " grad_input", x.grad(), c.at("grad_input"), tol);
      check_close(name + " grad_weight", w.grad(), c.at("grad_weight"), tol);
      if (b.defined()) check_close(name + " grad_bias", b.grad(), c.at("grad_bias"), tol);
    }
  }
}

TEST_CASE("conv2d second-order gradients match PyTorch", "[conv][golden]") {
  // s = <d(y . g)/dx, v_x> + <d(y . g)/dw, v_w>, differentiated again w.r.t. x, w and g.
  std::size_t checked = 0;
  for (const json& c : golden().at("conv2d")) {
    const json& gg = c.at("grad_grad");
    if (gg.is_null()) continue;
    ++checked;
    const Size2 stride = size2(c.at("stride")), padding = size2(c.at("padding")), dilation = size2(c.at("dilation"));
    const auto groups = c.at("groups").get<std::int64_t>();
    for (const auto& [dtype, tol] : precisions()) {
      const std::string name = "conv2d " + label(c, dtype);
      INFO(name << " second order");
      Tensor x = leaf(c.at("input"), dtype, true), w = leaf(c.at("weight"), dtype, true);
      Tensor g = leaf(c.at("grad_output"), dtype, true);
      const Tensor b = leaf(c.at("bias"), dtype);  // a constant here
      const Tensor y = conv2d(x, w, b, stride, padding, dilation, groups);
      const std::vector<Tensor> h = tinynn::grad({y}, {x, w}, {g}, std::nullopt, true);
      REQUIRE(h.size() == 2);
      check_close(name + " first-order grad_input", h[0], c.at("grad_input"), tol);
      check_close(name + " first-order grad_weight", h[1], c.at("grad_weight"), tol);
      const Tensor s = sum(h[0] * leaf(gg.at("v_input"), dtype)) + sum(h[1] * leaf(gg.at("v_weight"), dtype));
      const std::vector<Tensor> h2 = tinynn::grad({s}, {x, w, g});
      REQUIRE(h2.size() == 3);
      check_close(name + " gg_input", h2[0], gg.at("gg_input"), tol);
      check_close(name + " gg_weight", h2[1], gg.at("gg_weight"), tol);
      check_close(name + " gg_grad_output", h2[2], gg.at("gg_grad_output"), tol);
    }
  }
  CHECK(checked >= 3u);
}

TEST_CASE("max_pool2d matches PyTorch: output and input gradient", "[conv][pool][golden]") {
  check_pool("max_pool2d", golden().at("max_pool2d"), [](const Tensor& x, const json& c) {
    return max_pool2d(x, size2(c.at("kernel_size")), size2(c.at("stride")), size2(c.at("padding")),
                      size2(c.at("dilation")), c.at("ceil_mode").get<bool>());
  });
}

TEST_CASE("avg_pool2d matches PyTorch: output and input gradient", "[conv][pool][golden]") {
  check_pool("avg_pool2d", golden().at("avg_pool2d"), [](const Tensor& x, const json& c) {
    return avg_pool2d(x, size2(c.at("kernel_size")), size2(c.at("stride")), size2(c.at("padding")),
                      c.at("ceil_mode").get<bool>(), c.at("count_include_pad").get<bool>());
  });
}

TEST_CASE("pooling with the default stride equals the kernel-sized stride", "[conv][pool][golden]") {
  for (const json& c : golden().at("max_pool2d")) {
    if (c.at("stride") != c.at("kernel_size") || c.at("padding") != json::array({0, 0})) continue;
    INFO("max_pool2d " << c.at("name").get<std::string>());
    const Tensor x = leaf(c.at("input"));
    const Tensor y = max_pool2d(x, size2(c.at("kernel_size")), std::nullopt, {0, 0}, size2(c.at("dilation")),
                                c.at("ceil_mode").get<bool>());
    check_close("default stride output", y, c.at("output"), 1e-10);
  }
  for (const json& c : golden().at("avg_pool2d")) {
    if (c.at("stride") != c.at("kernel_size") || c.at("padding") != json::array({0, 0})) continue;
    INFO("avg_pool2d " << c.at("name").get<std::string>());
    const Tensor y = avg_pool2d(leaf(c.at("input")), size2(c.at("kernel_size")), std::nullopt, {0, 0},
                                c.at("ceil_mode").get<bool>(), c.at("count_include_pad").get<bool>());
    check_close("default stride output", y, c.at("output"), 1e-10);
  }
}

TEST_CASE("adaptive_avg_pool2d matches PyTorch: output and input gradient", "[conv][pool][golden]") {
  check_pool("adaptive_avg_pool2d", golden().at("adaptive_avg_pool2d"),
             [](const Tensor& x, const json& c) { return adaptive_avg_pool2d(x, size2(c.at("output_size"))); });
}

TEST_CASE("batch_norm matches PyTorch: output, gradients and running statistics", "[conv][batch_norm][golden]") {
  const json& cases = golden().at("batch_norm");
  REQUIRE(!cases.empty());
  for (const json& c : cases) {
    const std::string name = "batch_norm " + c.at("name").get<std::string>();
    INFO(name);
    Tensor x = leaf(c.at("input"), DType::Float64, true);
    Tensor w = leaf(c.at("weight"), DType::Float64, true), b = leaf(c.at("bias"), DType::Float64, true);
    const Tensor running_mean = leaf(c.at("running_mean")), running_var = leaf(c.at("running_var"));
    const Tensor y = batch_norm(x, running_mean, running_var, w, b, c.at("training").get<bool>(),
                                c.at("momentum").get<double>(), c.at("eps").get<double>());
    check_close(name + " output", y, c.at("output"), 1e-10);
    if (running_mean.defined()) {  // updated in place when training, untouched in eval
      check_close(name + " running_mean after", running_mean, c.at("running_mean_after"), 1e-10);
      check_close(name + " running_var after", running_var, c.at("running_var_after"), 1e-10);
    }
    y.backward(leaf(c.at("grad_output")));
    check_close(name + " grad_input", x.grad(), c.at("grad_input"), 1e-10);
    REQUIRE(w.defined() == !c.at("grad_weight").is_null());
    if (w.defined()) {
      check_close(name + " grad_weight", w.grad(), c.at("grad_weight"), 1e-10);
      check_close(name + " grad_bias", b.grad(), c.at("grad_bias"), 1e-10);
    }
  }
}
