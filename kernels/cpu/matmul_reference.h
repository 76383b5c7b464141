// The reference matmul: plain loops over a MatmulPlan for any dtype and any strides.
// Kept forever as the fallback and as the oracle the oneDNN path is tested against.
#pragma once
#include <tinynn/core/backend.h>

namespace tinynn::cpu {

void matmul_reference(const MatmulPlan& plan, DType t, void* out, const void* a, const void* b);

}  // namespace tinynn::cpu
