// Reading the committed PyTorch goldens (tests/golden/*.json, written by the gen_*.py scripts).
#pragma once
#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>
#include <string>

#include <tinynn/tinynn.h>

namespace tinynn::test {

// The parsed file tests/golden/<name>.
inline nlohmann::json read_golden(const std::string& name) {
  std::ifstream file(std::string(TINYNN_GOLDEN_DIR) + "/" + name);
  if (!file) throw std::runtime_error("missing golden file tests/golden/" + name + " (see its gen_*.py)");
  return nlohmann::json::parse(file);
}

// A tensor written as {"shape": [...], "dtype": "float32" | "float64" | "int64", "data": [...]}.
inline Tensor tensor_from_json(const nlohmann::json& j) {
  const Shape shape = j.at("shape").get<Shape>();
  const std::string dtype = j.at("dtype");
  if (dtype == "int64") return from_vector(j.at("data").get<std::vector<std::int64_t>>(), shape);
  if (dtype == "float64") return from_vector(j.at("data").get<std::vector<double>>(), shape);
  return from_vector(j.at("data").get<std::vector<float>>(), shape);
}

}  // namespace tinynn::test
