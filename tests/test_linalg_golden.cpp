// tinynn::linalg against torch.linalg (tests/golden/gen_linalg_golden.py): values, and the
// gradients of sum(f * weight) for the differentiable functions, in float64.
#include <algorithm>
#include <functional>
#include <map>

#include "golden_helpers.h"
#include "test_helpers.h"

using namespace tinynn;
using json = nlohmann::json;
using test::tensor_from_json;

namespace {

using Inputs = std::map<std::string, Tensor>;


// The same expressions as the generator's, by name.
const std::map<std::string, std::function<Tensor(Inputs&)>>& expressions() {
  static const std::map<std::string, std::function<Tensor(Inputs&)>> cases = {
      {"vector_norm_3", [](Inputs& v) { return linalg::vector_norm(v["x"], 3, {-1}); }},
      {"vector_norm_inf", [](Inputs& v) { return linalg::vector_norm(v["x"], INFINITY, {-1}); }},
      {"matrix_norm_fro", [](Inputs& v) { return linalg::matrix_norm(v["a"]); }},
      {"matrix_norm_nuc", [](Inputs& v) { return linalg::matrix_norm(v["a"], "nuc"); }},
      {"matrix_norm_2", [](Inputs& v) { return linalg::matrix_norm(v["a"], 2.0); }},
      {"matrix_norm_-2", [](Inputs& v) { return linalg::matrix_norm(v["a"], -2.0); }},
      {"matrix_norm_1", [](Inputs& v) { return linalg::matrix_norm(v["a"], 1.0); }},
      {"matrix_norm_inf", [](Inputs& v) { return linalg::matrix_norm(v["a"], INFINITY); }},
      {"cdist", [](Inputs& v) { return linalg::cdist(v["x"], v["y"]); }},
      {"cdist_1", [](Inputs& v) { return linalg::cdist(v["x"], v["y"], 1.0); }},
      {"cosine_similarity", [](Inputs& v) { return linalg::cosine_similarity(v["x"], flip(v["x"], 0)); }},
      {"det", [](Inputs& v) { return linalg::det(v["sq"]); }},
      {"slogdet_logabsdet", [](Inputs& v) { return linalg::slogdet(v["sq"]).logabsdet; }},
      {"slogdet_sign", [](Inputs& v) { return linalg::slogdet(v["sq"]).sign; }},
      {"inv", [](Inputs& v) { return linalg::inv(v["sq"]); }},
      {"solve", [](Inputs& v) { return linalg::solve(v["sq"], v["b"]); }},
      {"lstsq", [](Inputs& v) { return linalg::lstsq(v["a"], v["tall_b"]); }},
      {"cholesky", [](Inputs& v) { return linalg::cholesky(v["spd"]); }},
      {"svdvals", [](Inputs& v) { return linalg::svdvals(v["a"]); }},
      {"eigvalsh", [](Inputs& v) { return linalg::eigvalsh(v["spd"]); }},
      {"eigvals_real_sorted", [](Inputs& v) { return test::sorted_rows(linalg::eigvals(v["sq"]).real); }},
      {"pinv", [](Inputs& v) { return linalg::pinv(v["a"]); }},
      {"pinv_rank2", [](Inputs& v) { return linalg::pinv(v["rank2"]); }},
      {"matrix_rank", [](Inputs& v) { return linalg::matrix_rank(v["rank2"]); }},
      {"cond", [](Inputs& v) { return linalg::cond(v["a"]); }},
      {"matrix_power_3", [](Inputs& v) { return linalg::matrix_power(v["sq"], 3); }},
      {"matrix_power_-2", [](Inputs& v) { return linalg::matrix_power(v["sq"], -2); }},
      {"qr_r_abs", [](Inputs& v) { return abs(linalg::qr(v["a"]).R); }},
      {"trace", [](Inputs& v) { return linalg::trace(v["sq"]); }},
  };
  return cases;
}

void check_close(const std::string& what, const Tensor& ours, const json& theirs) {
  const Tensor expected = tensor_from_json(theirs);
  INFO(what << "\ntinynn: " << ours << "\ntorch:  " << expected);
  REQUIRE(ours.shape() == expected.shape());
  CHECK(allclose(ours.to(DType::Float64), expected.to(DType::Float64), 1e-9, 1e-10));
}

}  // namespace

TEST_CASE("linalg matches torch.linalg: values and gradients", "[linalg][golden]") {
  const json golden = test::read_golden("linalg_golden.json");
  REQUIRE(golden.at("cases").size() == expressions().size());
  for (const auto& [name, c] : golden.at("cases").items()) {
    INFO("golden case " << name);
    REQUIRE(expressions().count(name) == 1);
    Inputs inputs;
    const bool differentiable = c.contains("grads");
    for (const auto& [key, t] : golden.at("inputs").items()) {
      inputs[key] = tensor_from_json(t);
      if (differentiable && c.at("grads").contains(key)) inputs[key].requires_grad_();
    }
    const Tensor value = expressions().at(name)(inputs);
    check_close(name + " value", value, c.at("value"));
    if (!differentiable) continue;
    sum(value * tensor_from_json(c.at("weight"))).backward();
    for (const auto& [key, g] : c.at("grads").items()) check_close(name + " gradient of " + key, inputs[key].grad(), g);
  }
}
