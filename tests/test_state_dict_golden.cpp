// The models build_model makes from the shipped image configs have the state_dict layout (names,
// shapes, dtypes) of their torch.nn.Sequential twins, and a state loaded by name gives PyTorch's
// eval-mode output (tests/golden/gen_state_dict_golden.py).
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "golden_helpers.h"
#include "test_helpers.h"

using namespace tinynn;
using json = nlohmann::json;

namespace {

const json& golden() {
  static const json data = test::read_golden("state_dict_golden.json");
  return data;
}

std::shared_ptr<nn::Sequential> build(const std::string& name) {
  const nn::Config c = nn::load_config(std::string(TINYNN_SOURCE_DIR) + "/configs/" + name + ".json");
  Generator gen(0);
  return nn::build_model(c, Shape{1, 28, 28}, 10, &gen);
}

}  // namespace

TEST_CASE("shipped configs have the state_dict layout of their PyTorch twins", "[nn][golden][checkpoint]") {
  for (const auto& [name, entries] : golden().at("state_dicts").items()) {
    INFO("config " << name);
    const std::map<std::string, Tensor> state = build(name)->state_dict();
    std::set<std::string> expected_names;
    for (const json& e : entries) expected_names.insert(e.at(0).get<std::string>());
    std::set<std::string> names;
    for (const auto& [key, t] : state) names.insert(key);
    REQUIRE(names == expected_names);
    for (const json& e : entries) {
      const std::string key = e.at(0).get<std::string>();
      const Tensor& t = state.at(key);
      INFO("entry " << key << ": tinynn " << shape_str(t.shape()) << " " << dtype_name(t.dtype()));
      CHECK(t.shape() == e.at(1).get<Shape>());
      CHECK(std::string(dtype_name(t.dtype())) == e.at(2).get<std::string>());
    }
  }
}

TEST_CASE("a state loaded by name gives PyTorch's eval output", "[nn][golden][checkpoint]") {
  const json& g = golden().at("load_check");
  const std::string name = g.at("config").get<std::string>();
  auto model = build(name);
  // The generator's formula: entry i (in PyTorch's order) of n elements is 0.1 * sin(0.37 * j + i),
  // running_var 1 + 0.5 * sin(0.37 * j + i)^2, num_batches_tracked 3.
  std::map<std::string, Tensor> state;
  const json& entries = golden().at("state_dicts").at(name);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string key = entries[i].at(0).get<std::string>();
    const Shape shape = entries[i].at(1).get<Shape>();
    const auto ends_with = [&](const std::string& suffix) {
      return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with("num_batches_tracked")) {
      state[key] = from_vector(std::vector<std::int64_t>{3}, shape);
      continue;
    }
    std::vector<float> values(static_cast<std::size_t>(numel_of(shape)));
    for (std::size_t j = 0; j < values.size(); ++j) {
      const double s = std::sin(0.37 * static_cast<double>(j) + static_cast<double>(i));
      values[j] = static_cast<float>(ends_with("running_var") ? 1.0 + 0.5 * s * s : 0.1 * s);
    }
    state[key] = from_vector(values, shape);
  }
  model->load_state_dict(state);
  model->eval();
  const Tensor input = test::tensor_from_json(g.at("input"));
  const Tensor expected = test::tensor_from_json(g.at("output"));
  const Tensor output = (*model)(input);
  INFO("tinynn: " << output << "\ntorch:  " << expected);
  REQUIRE(output.shape() == expected.shape());
  CHECK(allclose(output, expected, 1e-4, 1e-4));
}
