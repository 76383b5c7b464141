// CPU matmul dispatch: oneDNN for float32 when built with it, the reference loop otherwise.
#include "cpu_backend.h"
#include "matmul_reference.h"
#ifdef TINYNN_HAVE_ONEDNN
#include "onednn_matmul.h"
#endif

namespace tinynn::cpu {

void CpuBackend::matmul(const MatmulPlan& plan, DType t, void* out, const void* a, const void* b) {
#ifdef TINYNN_HAVE_ONEDNN
  if (t == DType::Float32 &&
      onednn_matmul_f32(plan, static_cast<float*>(out), static_cast<const float*>(a), static_cast<const float*>(b)))
    return;
#endif
  matmul_reference(plan, t, out, a, b);
}

}  // namespace tinynn::cpu
