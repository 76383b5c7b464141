// Storage allocation through the owning device's backend.
#include "storage.h"

#include <mutex>

#include "backend.h"

namespace tinynn {

Storage::Storage(std::size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = backend_for(device).allocate(nbytes);
}

Storage::~Storage() {
  // Never throws: the backend looked up at construction still exists.
  if (data_ != nullptr) backend_for(device_).deallocate(data_, nbytes_);
}

void Storage::set_twin(std::shared_ptr<const StorageTwin> twin, bool plain_written) {
  twin_ = std::move(twin);
  pending_.store(twin_ != nullptr && !plain_written, std::memory_order_release);
}

void Storage::drop_twin() {
  // Every writer took the bytes through data() first, which wrote them from the twin.
  if (pending_.load(std::memory_order_acquire)) materialize();
  twin_.reset();
}

void Storage::materialize() const {
  // Rare (a twin's values read as plain by an op that does not take the twin) and short: one lock
  // for all storages, so that two threads reading at once write the bytes once.
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  if (!pending_.load(std::memory_order_relaxed)) return;
  twin_->materialize(data_);
  // The plain bytes serve every reader from now on; kept, the twin would double the memory of an
  // activation that autograd saves (a bare convolution's output before its ReLU).
  twin_.reset();
  pending_.store(false, std::memory_order_release);
}

}  // namespace tinynn
