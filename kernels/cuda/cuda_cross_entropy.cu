// CUDA softmax cross-entropy, forward and backward (see CrossEntropyPlan): one warp per row,
// lanes striding over the classes. Row sums accumulate in double like the CPU kernel's. A class
// id out of range is recorded in the backend's error flag (raised at the host's next wait for the
// GPU) and its row's loss is NaN.
#include <fmt/format.h>

#include <tinynn/core/detail/dispatch.h>
#include <tinynn/core/error.h>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"
#include "cuda_warp.cuh"

namespace tinynn::cuda {

namespace {

constexpr int kRowsPerBlock = 8;  // warps per block

// x [rows, classes] -> loss [rows], lse [rows]
template <class T>
__global__ void cross_entropy_kernel(CrossEntropyPlan plan, T* loss, T* lse, const T* x, const std::int64_t* target,
                                     std::int64_t* flag) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  if (r >= plan.rows) return;  // the whole warp leaves together
  const T* row = x + r * plan.classes;
  T m = row[0];
  for (std::int64_t c = lane; c < plan.classes; c += kWarp) m = row[c] > m || row[c] != row[c] ? row[c] : m;
  m = warp_max(m);
  if (isinf(static_cast<double>(m))) m = 0;
  double exp_sum = 0.0, x_sum = 0.0;
  for (std::int64_t c = lane; c < plan.classes; c += kWarp) {
    exp_sum += exp(static_cast<double>(row[c] - m));
    x_sum += static_cast<double>(row[c]);
  }
  exp_sum = warp_sum(exp_sum);
  x_sum = warp_sum(x_sum);
  if (lane != 0) return;
  const std::int64_t t = target[r];
  const double log_sum = static_cast<double>(m) + log(exp_sum);
  lse[r] = static_cast<T>(log_sum);
  if (!index_in_range(t, plan.classes, IndexCheck::ClassTarget, flag)) {
    loss[r] = static_cast<T>(NAN);
    return;
  }
  const double keep = 1.0 - plan.label_smoothing, spread = plan.label_smoothing / static_cast<double>(plan.classes);
  loss[r] = static_cast<T>(log_sum - keep * static_cast<double>(row[t]) - spread * x_sum);
}

// x [rows, classes], lse [rows], g [rows] (stride grad_stride) -> dx [rows, classes]
template <class T>
__global__ void cross_entropy_backward_kernel(CrossEntropyPlan plan, T* dx, const T* g, const T* x, const T* lse,
                                              const std::int64_t* target) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  if (r >= plan.rows) return;
  const std::int64_t t = target[r];
  const T gr = g[r * plan.grad_stride], l = lse[r];
  const T keep = static_cast<T>(1.0 - plan.label_smoothing);
  const T spread = static_cast<T>(plan.label_smoothing / static_cast<double>(plan.classes));
  for (std::int64_t c = lane; c < plan.classes; c += kWarp) {
    const std::int64_t i = r * plan.classes + c;
    dx[i] = gr * (exp(x[i] - l) - spread - (c == t ? keep : T(0)));
  }
}

unsigned row_blocks(std::int64_t rows) { return static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock); }

}  // namespace

void CudaBackend::cross_entropy(const CrossEntropyPlan& plan, DType t, void* loss, void* lse, const void* logits,
                                const std::int64_t* target) {
  activate();
  TINYNN_DISPATCH_FLOATING(t, {
    cross_entropy_kernel<T><<<row_blocks(plan.rows), kRowsPerBlock * kWarp, 0, stream_>>>(
        plan, static_cast<T*>(loss), static_cast<T*>(lse), static_cast<const T*>(logits), target, error_flag_);
  })
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

void CudaBackend::cross_entropy_backward(const CrossEntropyPlan& plan, DType t, void* grad_logits, const void* grad_loss,
                                         const void* logits, const void* lse, const std::int64_t* target) {
  activate();  // the forward recorded any bad class id
  TINYNN_DISPATCH_FLOATING(t, {
    cross_entropy_backward_kernel<T><<<row_blocks(plan.rows), kRowsPerBlock * kWarp, 0, stream_>>>(
        plan, static_cast<T*>(grad_logits), static_cast<const T*>(grad_loss), static_cast<const T*>(logits),
        static_cast<const T*>(lse), target);
  })
  TINYNN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace tinynn::cuda
