// The resolved config's JSON, private to the training application's .cpp files (the public
// config.h names no JSON type).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "../config.h"

namespace tinynn::nn {

struct ConfigDocument::Impl {
  nlohmann::json json = nlohmann::json::object();
};

namespace detail {
// Applies "a.b[2].c=value" to a JSON document (value parsed as JSON, else taken as a string).
void apply_override(nlohmann::json& doc, const std::string& assignment);
}  // namespace detail

}  // namespace tinynn::nn
