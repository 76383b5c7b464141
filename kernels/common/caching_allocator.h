// A caching allocator for tensor memory, shared by the backends: freed blocks are kept in
// per-size free lists and handed out again, so a training loop that repeats the same shapes stops
// asking the system (malloc and page faults on the CPU, cudaMalloc's device synchronization on a
// GPU) after its first step. Each device has one; where its memory comes from is a MemorySource.
#pragma once
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <tinynn/core/device.h>

namespace tinynn {

struct MemorySource {
  std::string device;                        // for messages: "cpu", "cuda:0", "pinned host"
  std::function<void*(std::size_t)> obtain;  // nullptr when out of memory
  std::function<void(void*)> release;        // must not throw
};

class CachingAllocator {
 public:
  static constexpr std::size_t kAlignment = 64;  // cache lines, AVX-512 loads, oneDNN's preference

  explicit CachingAllocator(MemorySource source);
  CachingAllocator();  // over 64-byte aligned host memory (the CPU's)
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Throws Error naming the device when the system has no memory left even after the cache is
  // returned to it.
  void* allocate(std::size_t nbytes);
  void deallocate(void* ptr, std::size_t nbytes);
  void release_cached();  // returns every cached block to the system

  using Stats = MemoryStats;
  Stats stats() const;

 private:
  static std::size_t bucket_size(std::size_t nbytes);
  void trim_locked(std::size_t limit);

  MemorySource source_;
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks_;  // bucket size -> blocks
  Stats stats_;
  // Cached memory beyond this is returned to the system.
  std::size_t cache_limit_ = std::size_t{1} << 31;
};

namespace cpu {
CachingAllocator& cpu_allocator();
}  // namespace cpu

}  // namespace tinynn
