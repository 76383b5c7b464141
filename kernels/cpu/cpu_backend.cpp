// CPU memory (through the caching allocator) and the CPU backend instance.
#include "cpu_backend.h"

#include <cstring>

#include "../common/caching_allocator.h"

namespace tinynn {

namespace cpu {

void* CpuBackend::allocate(std::size_t nbytes) { return cpu_allocator().allocate(nbytes); }
void CpuBackend::deallocate(void* ptr, std::size_t nbytes) { cpu_allocator().deallocate(ptr, nbytes); }
MemoryStats CpuBackend::memory_stats() const { return cpu_allocator().stats(); }

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
