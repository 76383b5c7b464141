// Reference matmul: out[m, n] = sum_k a[m, k] b[k, n] for each (broadcast) batch entry,
// in i-k-j order so the innermost loop streams a row of b and a row of out.
#include "matmul_reference.h"

#include <tinynn/core/detail/dispatch.h>

#include "strided_loop.h"

namespace tinynn::cpu {

namespace {

template <class T>
void matmul_typed(const MatmulPlan& p, T* out, const T* a, const T* b) {
  ElementwisePlan<3> batch;  // operands: out, a, b
  batch.ndim = p.batch_ndim;
  for (int d = 0; d < p.batch_ndim; ++d) {
    batch.shape[d] = p.batch_shape[d];
    batch.strides[0][d] = p.out_batch_strides[d];
    batch.strides[1][d] = p.a_batch_strides[d];
    batch.strides[2][d] = p.b_batch_strides[d];
  }
  // Flatten (batch, row) into one parallel range of independent output rows.
  const std::int64_t batches = batch.numel();
  auto rows = [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      const std::int64_t bi = r / p.m, i = r % p.m;
      // Batch offsets by decoding bi over the batch axes.
      std::int64_t off_o = 0, off_a = 0, off_b = 0, rest = bi;
      for (int d = batch.ndim - 1; d >= 0; --d) {
        const std::int64_t idx = rest % batch.shape[d];
        rest /= batch.shape[d];
        off_o += idx * batch.strides[0][d];
        off_a += idx * batch.strides[1][d];
        off_b += idx * batch.strides[2][d];
      }
      T* o = out + off_o + i * p.n;
      for (std::int64_t j = 0; j < p.n; ++j) o[j] = T(0);
      const T* arow = a + off_a + i * p.a_row_stride;
      for (std::int64_t kk = 0; kk < p.k; ++kk) {
        const T av = arow[kk * p.a_col_stride];
        const T* brow = b + off_b + kk * p.b_row_stride;
        if (p.b_col_stride == 1) {
          for (std::int64_t j = 0; j < p.n; ++j) o[j] += av * brow[j];
        } else {
          for (std::int64_t j = 0; j < p.n; ++j) o[j] += av * brow[j * p.b_col_stride];
        }
      }
    }
  };
  const std::int64_t total_rows = batches * p.m;
  if (total_rows * p.n * p.k < kParallelGrain) rows(0, total_rows);
  else parallel_chunks(total_rows, rows);
}

}  // namespace

void matmul_reference(const MatmulPlan& plan, DType t, void* out, const void* a, const void* b) {
  TINYNN_DISPATCH_ALL(t, {
    if constexpr (std::is_same_v<T, bool>) {
      return;  // the op layer promotes Bool to Int64 before calling
    } else {
      matmul_typed<T>(plan, static_cast<T*>(out), static_cast<const T*>(a), static_cast<const T*>(b));
    }
  })
}

}  // namespace tinynn::cpu
