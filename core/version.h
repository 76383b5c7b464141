// tinynn's version (the single source: CMake reads it from here) and what this build contains.
#pragma once
#include <string>

#define TINYNN_VERSION_MAJOR 0
#define TINYNN_VERSION_MINOR 1
#define TINYNN_VERSION_PATCH 0

namespace tinynn {

std::string version();             // "0.1.0"
bool built_with_onednn();
bool built_with_cuda();
std::string build_summary();       // "tinynn 0.1.0 (backends: cpu+onednn, cuda)"

}  // namespace tinynn
