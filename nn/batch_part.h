// Which rows of a data-parallel global batch this process holds, for the layers that must see
// the global batch: Dropout draws its mask for all of it and keeps these rows, so the random
// draws do not depend on how the batch is split. (Batch norm still normalizes each process's
// rows by their own statistics: see the README's data-parallel section.)
#pragma once
#include <cstdint>

namespace tinynn::nn {

struct BatchPart {
  std::int64_t offset = 0;       // the first row's place in the global batch
  std::int64_t global_size = 0;  // the global batch's rows; 0: this batch is whole
};

// The part set by the innermost BatchPartGuard on this thread ({} outside any).
const BatchPart& current_batch_part();

class BatchPartGuard {
 public:
  explicit BatchPartGuard(BatchPart part);
  ~BatchPartGuard();
  BatchPartGuard(const BatchPartGuard&) = delete;
  BatchPartGuard& operator=(const BatchPartGuard&) = delete;

 private:
  BatchPart previous_;
};

}  // namespace tinynn::nn
