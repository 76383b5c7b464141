// Shared by the fuzz targets: the readers under test take file paths, so each input is written
// to a per-process file in /dev/shm (memory-backed) first. Only tinynn::Error may escape a reader;
// anything else (a crash, a sanitizer report, another exception type) is a finding.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include <tinynn/core/error.h>

namespace tinynn::fuzz {

inline std::string write_input(const std::uint8_t* data, std::size_t size, const char* suffix) {
  const std::string path = "/dev/shm/tinynn_fuzz_" + std::to_string(::getpid()) + suffix;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

template <class F>
void expect_only_tinynn_errors(F&& f) {
  try {
    f();
  } catch (const tinynn::Error&) {
    // A clear error for bad input is the expected outcome.
  }
}

}  // namespace tinynn::fuzz
