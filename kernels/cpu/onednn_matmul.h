// float32 matmul through oneDNN's matmul primitive, cached by shape and strides.
#pragma once
#include <tinynn/core/backend.h>

namespace tinynn::cpu {

// Runs the plan through oneDNN; returns false when oneDNN cannot (then use the reference).
bool onednn_matmul_f32(const MatmulPlan& plan, float* out, const float* a, const float* b);

// Switches the oneDNN path off (tests compare it against the reference loop). Default on.
void set_onednn_matmul_enabled(bool enabled);
// Number of distinct primitives created so far (a cache test checks reuse).
std::size_t onednn_matmul_primitives_created();

}  // namespace tinynn::cpu
