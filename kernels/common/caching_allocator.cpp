// Size-bucketed free lists over a MemorySource. Buckets: multiples of 64 bytes up to 64 KiB,
// then quarter steps between powers of two, so reuse stays likely and waste under 25 %.
#include "caching_allocator.h"

#include <fmt/format.h>

#include <bit>
#include <cstdlib>
#include <utility>

#include <tinynn/core/error.h>

namespace tinynn {

CachingAllocator::CachingAllocator(MemorySource source) : source_(std::move(source)) {}

CachingAllocator::CachingAllocator()
    : CachingAllocator({"cpu", [](std::size_t n) { return std::aligned_alloc(kAlignment, n); }, [](void* p) { std::free(p); }}) {}

CachingAllocator::~CachingAllocator() { release_cached(); }

std::size_t CachingAllocator::bucket_size(std::size_t nbytes) {
  const std::size_t n = std::max<std::size_t>(nbytes, 1);
  if (n <= 65536) return (n + kAlignment - 1) / kAlignment * kAlignment;
  const std::size_t pow2 = std::bit_floor(n);
  const std::size_t step = pow2 / 4;
  return (n + step - 1) / step * step;
}

void* CachingAllocator::allocate(std::size_t nbytes) {
  const std::size_t size = bucket_size(nbytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_blocks_.find(size);
    if (it != free_blocks_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= size;
      return p;
    }
  }
  void* p = source_.obtain(size);
  if (p == nullptr) {
    release_cached();  // give the cache back and try once more before failing
    p = source_.obtain(size);
    if (p == nullptr)
      throw OutOfMemoryError(fmt::format("tinynn: out of memory allocating {:.1f} GiB ({} bytes) on {}",
                                         static_cast<double>(nbytes) / (1u << 30), nbytes, source_.device));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.system_allocations;
  return p;
}

void CachingAllocator::deallocate(void* ptr, std::size_t nbytes) {
  if (ptr == nullptr) return;
  const std::size_t size = bucket_size(nbytes);
  std::lock_guard<std::mutex> lock(mutex_);
  free_blocks_[size].push_back(ptr);
  stats_.cached_bytes += size;
  if (stats_.cached_bytes > cache_limit_) trim_locked(cache_limit_ / 2);
}

void CachingAllocator::trim_locked(std::size_t limit) {
  for (auto& [size, blocks] : free_blocks_) {
    while (!blocks.empty() && stats_.cached_bytes > limit) {
      source_.release(blocks.back());
      blocks.pop_back();
      stats_.cached_bytes -= size;
    }
  }
}

void CachingAllocator::release_cached() {
  std::lock_guard<std::mutex> lock(mutex_);
  trim_locked(0);
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

CachingAllocator& cpu::cpu_allocator() {
  // Never destroyed: tensors in static storage may be freed after this would have been.
  static auto* allocator = new CachingAllocator();
  return *allocator;
}

}  // namespace tinynn
