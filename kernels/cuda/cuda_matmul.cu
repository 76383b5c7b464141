// CUDA matmul: cuBLAS strided-batched GEMM for float32/float64 (a stride-0 batch axis is a
// broadcast operand), and a plain kernel for int64 and for operands whose rows and columns are
// both strided (which cuBLAS cannot read in place).
#include <tinynn/core/detail/dispatch.h>

#include <algorithm>
#include <climits>
#include <optional>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"

namespace tinynn::cuda {

namespace {

// cuBLAS is column-major. For row-major C [M, N] = A [M, K] B [K, N] it computes
// C^T [N, M] = B^T [N, K] A^T [K, M], so each row-major operand X [rows, cols] is passed as X^T:
// - row-major X (column stride 1): its memory read column-major is X^T, op N, ld = row stride;
// - column-major X (a transposed view, row stride 1): its memory is X, op T, ld = column stride.
struct GemmOperand {
  cublasOperation_t op;
  int ld;
};

std::optional<GemmOperand> gemm_operand(std::int64_t rows, std::int64_t cols, std::int64_t row_stride, std::int64_t col_stride) {
  std::int64_t ld = -1;
  cublasOperation_t op = CUBLAS_OP_N;
  if (col_stride == 1 && (rows == 1 || row_stride >= cols)) ld = rows == 1 ? std::max<std::int64_t>(cols, 1) : row_stride;
  else if (row_stride == 1 && (cols == 1 || col_stride >= rows)) {
    op = CUBLAS_OP_T;
    ld = cols == 1 ? std::max<std::int64_t>(rows, 1) : col_stride;
  }
  if (ld < 0 || ld > INT_MAX) return std::nullopt;
  return GemmOperand{op, static_cast<int>(ld)};
}

bool fits_int(std::int64_t v) { return v >= 0 && v <= INT_MAX; }

// out [batch, m, n] (contiguous) = a [batch, m, k] @ b [batch, k, n], any strides; one thread per
// output element, sums in double for floating types.
template <class T>
__global__ void matmul_kernel(MatmulPlan plan, std::int64_t total, T* out, const T* a, const T* b) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const std::int64_t col = i % plan.n, row = (i / plan.n) % plan.m, batch = i / (plan.n * plan.m);
  const T* ar = a + offset_of(batch, plan.batch_ndim, plan.batch_shape, plan.a_batch_strides) + row * plan.a_row_stride;
  const T* bc = b + offset_of(batch, plan.batch_ndim, plan.batch_shape, plan.b_batch_strides) + col * plan.b_col_stride;
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  Acc acc = 0;
  for (std::int64_t k = 0; k < plan.k; ++k)
    acc += static_cast<Acc>(ar[k * plan.a_col_stride]) * static_cast<Acc>(bc[k * plan.b_row_stride]);
  out[offset_of(batch, plan.batch_ndim, plan.batch_shape, plan.out_batch_strides) + row * plan.n + col] = static_cast<T>(acc);
}

cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t opb, cublasOperation_t opa, int n, int m, int k,
                            const float* b, int ldb, long long sb, const float* a, int lda, long long sa, float* c,
                            long long sc, int count) {
  const float one = 1.0f, zero = 0.0f;
  return cublasSgemmStridedBatched(h, opb, opa, n, m, k, &one, b, ldb, sb, a, lda, sa, &zero, c, n, sc, count);
}

cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t opb, cublasOperation_t opa, int n, int m, int k,
                            const double* b, int ldb, long long sb, const double* a, int lda, long long sa, double* c,
                            long long sc, int count) {
  const double one = 1.0, zero = 0.0;
  return cublasDgemmStridedBatched(h, opb, opa, n, m, k, &one, b, ldb, sb, a, lda, sa, &zero, c, n, sc, count);
}

}  // namespace

void CudaBackend::matmul(const MatmulPlan& plan, DType t, void* out, const void* a, const void* b) {
  std::int64_t batches = 1;
  for (int d = 0; d < plan.batch_ndim; ++d) batches *= plan.batch_shape[d];
  const std::int64_t total = batches * plan.m * plan.n;
  if (total == 0) return;
  activate();
  const std::size_t bytes = static_cast<std::size_t>(total) * dtype_size(t);
  if (plan.k == 0) {  // an empty sum: zeros
    TINYNN_CUDA_CHECK(cudaMemsetAsync(out, 0, bytes, stream_));
    return;
  }
  const auto op_a = gemm_operand(plan.m, plan.k, plan.a_row_stride, plan.a_col_stride);
  const auto op_b = gemm_operand(plan.k, plan.n, plan.b_row_stride, plan.b_col_stride);
  const std::int64_t inner_batch = plan.batch_ndim > 0 ? plan.batch_shape[plan.batch_ndim - 1] : 1;
  const bool use_cublas = (t == DType::Float32 || t == DType::Float64) && op_a && op_b && fits_int(plan.m) &&
                          fits_int(plan.n) && fits_int(plan.k) && fits_int(inner_batch);
  if (!use_cublas) {
    constexpr unsigned kThreads = 256;
    TINYNN_DISPATCH_NUMERIC(t, {
      matmul_kernel<T><<<blocks_for(total, kThreads), kThreads, 0, stream_>>>(plan, total, static_cast<T*>(out),
                                                                               static_cast<const T*>(a), static_cast<const T*>(b));
    })
    TINYNN_CUDA_CHECK(cudaGetLastError());
    return;
  }
  // The last batch axis goes to cuBLAS as the strided batch; the axes before it loop here.
  const int last = plan.batch_ndim - 1;
  const long long sa = last >= 0 ? plan.a_batch_strides[last] : 0, sb = last >= 0 ? plan.b_batch_strides[last] : 0;
  const long long sc = last >= 0 ? plan.out_batch_strides[last] : 0;
  for (std::int64_t o = 0; o < plan.leading_batches(); ++o) {
    const MatmulPlan::Offsets off = plan.leading_batch_offsets(o);
    TINYNN_DISPATCH_FLOATING(t, {
      const T* pa = static_cast<const T*>(a) + off.a;
      const T* pb = static_cast<const T*>(b) + off.b;
      T* pc = static_cast<T*>(out) + off.out;
      TINYNN_CUBLAS_CHECK(gemm_batched(cublas_, op_b->op, op_a->op, static_cast<int>(plan.n), static_cast<int>(plan.m),
                                       static_cast<int>(plan.k), pb, op_b->ld, sb, pa, op_a->ld, sa, pc, sc,
                                       static_cast<int>(inner_batch)));
    })
  }
}

}  // namespace tinynn::cuda
