// The thread's current BatchPart.
#include "batch_part.h"

namespace tinynn::nn {

namespace {
thread_local BatchPart current;
}

const BatchPart& current_batch_part() { return current; }

BatchPartGuard::BatchPartGuard(BatchPart part) : previous_(current) { current = part; }
BatchPartGuard::~BatchPartGuard() { current = previous_; }

}  // namespace tinynn::nn
