// Golden tests against PyTorch: tests/golden/gen_autograd_golden.py wrote inputs, outputs and
// gradients; the same expressions are recomputed here and compared within float32 tolerance.
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "golden_helpers.h"
#include "test_helpers.h"

using namespace tinynn;
using json = nlohmann::json;
using test::tensor_from_json;

namespace {

// Element-wise comparison; on failure lists the first mismatches as "index: tinynn vs torch".
void compare(const std::string& what, const Tensor& ours, const json& golden) {
  const Tensor theirs = tensor_from_json(golden);
  INFO(what);
  REQUIRE(ours.shape() == theirs.shape());
  const auto a = ours.to_vector<double>(), b = theirs.to_vector<double>();
  std::ostringstream report;
  int mismatches = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(std::abs(a[i] - b[i]) <= 2e-5 + 2e-4 * std::abs(b[i]))) {
      if (++mismatches <= 5) report << "  [" << i << "] tinynn " << a[i] << " vs torch " << b[i] << "\n";
    }
  INFO(mismatches << " of " << a.size() << " elements differ; first ones:\n" << report.str());
  CHECK(mismatches == 0);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  return -mean(gather(log_softmax(logits, 1), 1, target.unsqueeze(1)));
}

using Inputs = std::map<std::string, Tensor>;
const std::map<std::string, std::function<Tensor(Inputs&)>>& expressions() {
  static const std::map<std::string, std::function<Tensor(Inputs&)>> table = {
      {"mlp_cross_entropy",
       [](Inputs& in) {
         Tensor hidden = relu(matmul(in["x"], in["w1"]) + in["b1"]);
         return cross_entropy(matmul(hidden, in["w2"]) + in["b2"], in["target"]);
       }},
      {"broadcast_composite",
       [](Inputs& in) {
         Tensor a = in["a"], b = in["b"];
         return sum(tanh(a * b) + sigmoid(b) / (abs(a) + 1.0) - pow(a - b, 2));
       }},
      {"batched_matmul",
       [](Inputs& in) {
         Tensor p = matmul(in["a"], in["b"]);
         return mean(softplus(p) * logsumexp(p, {-1}, true));
       }},
      {"reductions",
       [](Inputs& in) {
         Tensor x = in["x"];
         return sum(var(gelu(x) * softmax(x, -1), {0})) + norm(x) + sum(amax(x, {1})) + sum(prod(x, {1})) +
                tinynn::std(cumsum(x, 1)) + mean(log_softmax(x, 0)) + sum(leaky_relu(x, 0.1)) +
                sum(pow(clamp(x, -0.5, 0.5), 3));
       }},
      {"views_indexing",
       [](Inputs& in) {
         Tensor x = in["x"];
         Tensor y = x.t().reshape({3, 8}).slice(1, 1, 8, 2);
         Tensor z = cat({y, x.slice(1, 0, 4)}, 0);
         Tensor w = gather(z, 1, tensor({{0, 3}, {1, 1}, {2, 0}, {3, 2}, {0, 0}, {1, 3}, {2, 2}}));
         return sum(pow(w, 2)) + sum(index_select(x, 1, tensor({5, 0}))) * 0.5 + sum(where(x > 0.0, x, x * 0.1)) +
                sum(exp(stack({x[0], x[3]}, 1)));
       }},
  };
  return table;
}

}  // namespace

TEST_CASE("autograd matches PyTorch on the golden cases", "[autograd][golden]") {
  const json golden = test::read_golden("autograd_golden.json");
  REQUIRE(golden.at("cases").size() == expressions().size());
  for (const auto& c : golden.at("cases")) {
    const std::string name = c.at("name");
    INFO("golden case " << name);
    REQUIRE(expressions().count(name) == 1);
    Inputs inputs;
    for (const auto& [key, value] : c.at("inputs").items()) {
      Tensor t = tensor_from_json(value);
      if (t.is_floating_point()) t.requires_grad_();
      inputs[key] = t;
    }
    Tensor out = expressions().at(name)(inputs);
    compare(name + " output", out, c.at("output"));
    out.backward();
    for (const auto& [key, value] : c.at("grads").items()) compare(name + " grad of " + key, inputs[key].grad(), value);
  }
}
