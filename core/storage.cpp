// Storage allocation through the owning device's backend.
#include "storage.h"

#include "backend.h"

namespace tinynn {

Storage::Storage(std::size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = backend_for(device).allocate(nbytes);
}

Storage::~Storage() {
  // Never throws: the backend looked up at construction still exists.
  if (data_ != nullptr) backend_for(device_).deallocate(data_, nbytes_);
}

}  // namespace tinynn
