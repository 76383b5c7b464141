// The messages of the IndexErrors kernels raise, shared so the CPU and CUDA backends say the
// same thing for the same bad input.
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <string>

#include <tinynn/core/backend.h>

namespace tinynn {

inline std::string index_out_of_range_message(IndexCaller caller, std::int64_t index, std::int64_t size) {
  return fmt::format("tinynn::{}: index {} is out of range for an axis of size {}", index_caller_name(caller), index,
                     size);
}

inline std::string class_target_message(std::int64_t classes, std::int64_t bad) {
  return fmt::format("tinynn::cross_entropy: class targets must lie in [0, {}), found {}", classes, bad);
}

}  // namespace tinynn
