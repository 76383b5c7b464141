// A caching allocator for CPU tensor memory: freed blocks are kept in per-size free lists and
// handed out again, so a training loop that repeats the same shapes stops calling malloc (and
// stops page-faulting fresh memory) after its first step.
#pragma once
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace tinynn::cpu {

class CachingAllocator {
 public:
  static constexpr std::size_t kAlignment = 64;  // cache lines, AVX-512 loads, oneDNN's preference

  ~CachingAllocator();
  void* allocate(std::size_t nbytes);
  void deallocate(void* ptr, std::size_t nbytes);
  void release_cached();  // returns every cached block to the system

  struct Stats {
    std::size_t system_allocations = 0;  // blocks obtained from the system so far
    std::size_t cached_bytes = 0;        // bytes held in free lists now
  };
  Stats stats() const;

 private:
  static std::size_t bucket_size(std::size_t nbytes);
  void trim_locked(std::size_t limit);

  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks_;  // bucket size -> blocks
  Stats stats_;
  // Cached memory beyond this is returned to the system.
  std::size_t cache_limit_ = std::size_t{1} << 31;
};

CachingAllocator& cpu_allocator();

}  // namespace tinynn::cpu
