// Storage: one device allocation, shared by every tensor that views it, freed with the last.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "device.h"

namespace tinynn {

// The same values as a storage's, in another layout that an op prefers (core/detail/channel_blocked.h),
// written by the op that made them so that the next such op skips a reorder. Set on a storage
// whose plain bytes may not hold the values yet: materialize() writes them there, and the storage
// drops the twin then (one copy of the values, not two).
class StorageTwin {
 public:
  virtual ~StorageTwin() = default;
  // The values in the plain layout into `plain` (the storage's bytes).
  virtual void materialize(void* plain) const = 0;
};

class Storage {
 public:
  Storage(std::size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // The plain bytes: written from the twin first when only the twin holds the values yet, so that
  // every reader and writer (all go through here) sees them.
  void* data() const {
    if (pending_.load(std::memory_order_acquire)) materialize();
    return data_;
  }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  // Bumped by every in-place write, so autograd can tell when a saved tensor was modified (and a
  // twin, which no longer holds the values, is dropped).
  std::uint64_t version() const { return version_; }
  void bump_version() {
    ++version_;
    if (twin_ != nullptr) drop_twin();
  }

  // Set by the op that wrote the values, before anyone else sees the storage; plain_written
  // false: the plain bytes are written from the twin at the first data().
  void set_twin(std::shared_ptr<const StorageTwin> twin, bool plain_written);
  // The twin while the values are the ones it was set with (no in-place write since), else null.
  const StorageTwin* twin() const { return twin_.get(); }

 private:
  void materialize() const;
  void drop_twin();

  std::uint64_t version_ = 0;
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  Device device_;
  mutable std::shared_ptr<const StorageTwin> twin_;  // mutable: the first data() drops it
  mutable std::atomic<bool> pending_{false};         // the plain bytes not written yet
};

}  // namespace tinynn
