// CPU memory (64-byte aligned, for vector loads and oneDNN) and the CPU backend instance.
#include "cpu_backend.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

#include <tinynn/core/error.h>

namespace tinynn {

namespace cpu {

void* CpuBackend::allocate(std::size_t nbytes) {
  constexpr std::size_t kAlign = 64;
  const std::size_t rounded = (std::max<std::size_t>(nbytes, 1) + kAlign - 1) / kAlign * kAlign;
  void* p = std::aligned_alloc(kAlign, rounded);
  if (p == nullptr) throw Error(fmt::format("tinynn: out of memory allocating {} bytes on cpu", nbytes));
  return p;
}

void CpuBackend::deallocate(void* ptr, std::size_t) { std::free(ptr); }

void CpuBackend::copy_from_host(void* dst, const void* host_src, std::size_t nbytes) { std::memcpy(dst, host_src, nbytes); }
void CpuBackend::copy_to_host(void* host_dst, const void* src, std::size_t nbytes) { std::memcpy(host_dst, src, nbytes); }

}  // namespace cpu

namespace detail {
Backend& cpu_backend() {
  static cpu::CpuBackend backend;
  return backend;
}
}  // namespace detail

}  // namespace tinynn
