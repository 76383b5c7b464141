// CUDA linear algebra through cuSOLVER (its 64-bit generic API, orgqr excepted), one matrix of the
// batch after another on the backend's stream; every matrix's status lands in a device array that
// is read back once at the end.
//
// cuSOLVER is column-major and the plan's buffers are row-major. A row-major [r, c] matrix read
// column-major is its transpose [c, r], so each op either transposes its input into column-major
// scratch and its outputs back, or uses the transpose directly where the algebra allows:
// - Cholesky and Eigh read one triangle of a symmetric matrix: the row-major lower triangle is the
//   column-major upper one, so they run in place with uplo = upper.
// - SVD of a wide matrix (m < n; cuSOLVER's gesvd wants m >= n) factors A^T, which is the buffer
//   itself: A^T = U' S V'^T gives A = V' S U'^T, and cuSOLVER's column-major V'^T and U' read
//   row-major are exactly U and V^T, so they are written straight into the plan's u and vt.
// Lstsq is rank-revealing (LAPACK's gelsd, singular values below rcond dropped), which cuSOLVER
// lacks: it runs in LAPACK on host copies, as does any op on an empty matrix.
#include <cusolverDn.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include <tinynn/core/detail/dispatch.h>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"

namespace tinynn::cuda {

namespace {

constexpr unsigned kThreads = 256;

// in [batch][rows, cols] -> out [batch][cols, rows], both contiguous row-major; total = batch * rows * cols.
template <class T>
__global__ void transpose_kernel(std::int64_t total, std::int64_t rows, std::int64_t cols, const T* in, T* out) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const std::int64_t per = rows * cols, b = i / per, r = (i % per) / cols, c = i % cols;
  out[b * per + c * rows + r] = in[i];
}

// a [batch][n, n] row-major: zero above the diagonal; total = batch * n * n.
template <class T>
__global__ void zero_upper_kernel(std::int64_t total, std::int64_t n, T* a) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total && i % n > (i / n) % n) a[i] = T(0);
}

// QR's R: factor [batch] column-major [m, n] (geqrf's result) -> r [batch][rows, n] row-major,
// its upper triangle within the first min(m, n) rows, zero elsewhere; total = batch * rows * n.
template <class T>
__global__ void upper_from_column_major_kernel(std::int64_t total, std::int64_t m, std::int64_t n, std::int64_t rows,
                                               const T* factor, T* r) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const std::int64_t b = i / (rows * n), row = (i / n) % rows, col = i % n;
  r[i] = col >= row && row < m && row < n ? factor[b * m * n + col * m + row] : T(0);
}

// One block per matrix of `size` elements: flags[b] = 1 when matrix b holds NaN or infinity.
template <class T>
__global__ void nonfinite_kernel(std::int64_t size, const T* a, int* flags) {
  const T* matrix = a + static_cast<std::int64_t>(blockIdx.x) * size;
  int bad = 0;
  for (std::int64_t i = threadIdx.x; i < size; i += blockDim.x) bad |= !isfinite(matrix[i]);
  bad = __syncthreads_or(bad);
  if (threadIdx.x == 0) flags[blockIdx.x] = bad;
}

// What every op needs: the handle, the dtype, the batch's per-matrix statuses and the matrices to
// skip, and a workspace that grows to the largest _bufferSize answer and serves each matrix.
class Solver {
 public:
  Solver(CudaBackend& backend, const LinalgPlan& plan)
      : backend(backend),
        plan(plan),
        handle(backend.cusolver()),
        params(backend.cusolver_params()),
        type(plan.dtype == DType::Float32 ? CUDA_R_32F : CUDA_R_64F),
        element(dtype_size(plan.dtype)),
        size(plan.sizes()),
        info_(backend, static_cast<std::size_t>(plan.batch) * sizeof(int)) {
    TINYNN_CUDA_CHECK(cudaMemsetAsync(info_.get(), 0, info_.size(), backend.stream()));
    // cuSOLVER's iterations are not guaranteed to end on NaN or infinity: such matrices are
    // found first and skipped (status -1), as on the CPU.
    DeviceScratch flags(backend, info_.size());
    TINYNN_DISPATCH_FLOATING(plan.dtype, {
      nonfinite_kernel<T><<<static_cast<unsigned>(plan.batch), kThreads, 0, backend.stream()>>>(size.a, static_cast<const T*>(plan.a), static_cast<int*>(flags.get()));
    })
    TINYNN_CUDA_CHECK(cudaGetLastError());
    skip_.resize(static_cast<std::size_t>(plan.batch));
    backend.copy_to_host(skip_.data(), flags.get(), flags.size());
  }

  bool skip(std::int64_t i) const { return skip_[static_cast<std::size_t>(i)] != 0; }
  int* info(std::int64_t i) const { return static_cast<int*>(info_.get()) + i; }
  // Element i * per_matrix of a buffer of the plan's dtype.
  void* at(void* base, std::int64_t i, std::int64_t per_matrix) const {
    return static_cast<unsigned char*>(base) + static_cast<std::size_t>(i * per_matrix) * element;
  }

  // Device and host workspace of at least the given bytes.
  void reserve(std::size_t device_bytes, std::size_t host_bytes) {
    if (device_bytes > device_work_bytes_) {
      device_work_ = std::make_unique<DeviceScratch>(backend, device_bytes);
      device_work_bytes_ = device_bytes;
    }
    if (host_bytes > host_work_.size()) host_work_.resize(host_bytes);
  }
  void* device_work() const { return device_work_ ? device_work_->get() : nullptr; }
  std::size_t device_work_bytes() const { return device_work_bytes_; }
  void* host_work() { return host_work_.empty() ? nullptr : host_work_.data(); }
  std::size_t host_work_bytes() const { return host_work_.size(); }

  // A scratch buffer of `per_matrix` elements of the plan's dtype for every matrix of the batch.
  DeviceScratch batch_buffer(std::int64_t per_matrix) const {
    return DeviceScratch(backend, static_cast<std::size_t>(plan.batch * per_matrix) * element);
  }
  // in [batch][rows, cols] -> out [batch][cols, rows], row-major: a row-major matrix to column-major or back.
  void transpose(const void* in, void* out, std::int64_t rows, std::int64_t cols) const {
    const std::int64_t total = plan.batch * rows * cols;
    if (total == 0) return;
    TINYNN_DISPATCH_FLOATING(plan.dtype, {
      transpose_kernel<T><<<blocks_for(total, kThreads), kThreads, 0, backend.stream()>>>(total, rows, cols, static_cast<const T*>(in), static_cast<T*>(out));
    })
    TINYNN_CUDA_CHECK(cudaGetLastError());
  }
  void copy(void* dst, const void* src, std::int64_t elements) const {
    TINYNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<std::size_t>(elements) * element, cudaMemcpyDeviceToDevice, backend.stream()));
  }

  // The statuses into plan.info: -1 for skipped matrices; `success_if_positive` for LU, where an
  // exactly zero pivot is still a valid factorization.
  void finish(bool success_if_positive) const {
    std::vector<int> info(static_cast<std::size_t>(plan.batch));
    backend.copy_to_host(info.data(), info_.get(), info_.size());
    for (std::int64_t i = 0; i < plan.batch; ++i) {
      const int status = info[static_cast<std::size_t>(i)];
      if (status < 0) throw Error(fmt::format("tinynn: cuSOLVER rejected argument {} (a bug in tinynn)", -status));
      plan.info[i] = skip(i) ? -1 : (success_if_positive ? 0 : status);
    }
  }

  CudaBackend& backend;
  const LinalgPlan& plan;
  cusolverDnHandle_t handle;
  cusolverDnParams_t params;
  cudaDataType type;
  std::size_t element;
  LinalgPlan::Sizes size;

 private:
  DeviceScratch info_;  // int [batch]
  std::vector<int> skip_;
  std::unique_ptr<DeviceScratch> device_work_;
  std::size_t device_work_bytes_ = 0;
  std::vector<unsigned char> host_work_;
};

// a [m, n] -> L U packed in a, pivots [min(m, n)] (1-based, int64 like cuSOLVER's).
void lu_factor(Solver& s) {
  const LinalgPlan& p = s.plan;
  const std::int64_t m = p.m, n = p.n, mn = std::min(m, n);
  DeviceScratch col = s.batch_buffer(m * n);
  s.transpose(p.a, col.get(), m, n);
  std::size_t device_bytes = 0, host_bytes = 0;
  TINYNN_CUSOLVER_CHECK(cusolverDnXgetrf_bufferSize(s.handle, s.params, m, n, s.type, col.get(), m, s.type, &device_bytes, &host_bytes));
  s.reserve(device_bytes, host_bytes);
  for (std::int64_t i = 0; i < p.batch; ++i) {
    if (s.skip(i)) continue;
    TINYNN_CUSOLVER_CHECK(cusolverDnXgetrf(s.handle, s.params, m, n, s.type, s.at(col.get(), i, m * n), m, p.pivots + i * mn, s.type,
                                           s.device_work(), s.device_work_bytes(), s.host_work(), s.host_work_bytes(), s.info(i)));
  }
  s.transpose(col.get(), p.a, n, m);
  s.finish(true);
}

// a [n, n], b [n, k] -> the solution of a x = b in b.
void solve(Solver& s) {
  const LinalgPlan& p = s.plan;
  const std::int64_t n = p.n, k = p.k;
  DeviceScratch a = s.batch_buffer(n * n), b = s.batch_buffer(n * k);
  DeviceScratch pivots(s.backend, static_cast<std::size_t>(n) * sizeof(std::int64_t));
  DeviceScratch solve_info(s.backend, sizeof(int));  // getrs reports only bad arguments; getrf's status is the one kept
  s.transpose(p.a, a.get(), n, n);
  s.transpose(p.b, b.get(), n, k);
  std::size_t device_bytes = 0, host_bytes = 0;
  TINYNN_CUSOLVER_CHECK(cusolverDnXgetrf_bufferSize(s.handle, s.params, n, n, s.type, a.get(), n, s.type, &device_bytes, &host_bytes));
  s.reserve(device_bytes, host_bytes);
  auto* piv = static_cast<std::int64_t*>(pivots.get());
  for (std::int64_t i = 0; i < p.batch; ++i) {
    if (s.skip(i)) continue;
    void* ai = s.at(a.get(), i, n * n);
    TINYNN_CUSOLVER_CHECK(cusolverDnXgetrf(s.handle, s.params, n, n, s.type, ai, n, piv, s.type, s.device_work(),
                                           s.device_work_bytes(), s.host_work(), s.host_work_bytes(), s.info(i)));
    // A singular a leaves infinities in b, which the caller discards on getrf's positive status.
    TINYNN_CUSOLVER_CHECK(cusolverDnXgetrs(s.handle, s.params, CUBLAS_OP_N, n, k, s.type, ai, n, piv, s.type,
                                           s.at(b.get(), i, n * k), n, static_cast<int*>(solve_info.get())));
  }
  s.transpose(b.get(), p.b, k, n);
  s.finish(false);
}

// a [n, n], lower triangle read -> L, zero above the diagonal. In place: see the file comment.
void cholesky(Solver& s) {
  const LinalgPlan& p = s.plan;
  const std::int64_t n = p.n;
  std::size_t device_bytes = 0, host_bytes = 0;
  TINYNN_CUSOLVER_CHECK(cusolverDnXpotrf_bufferSize(s.handle, s.params, CUBLAS_FILL_MODE_UPPER, n, s.type, p.a, n, s.type, &device_bytes, &host_bytes));
  s.reserve(device_bytes, host_bytes);
  for (std::int64_t i = 0; i < p.batch; ++i) {
    if (s.skip(i)) continue;
    TINYNN_CUSOLVER_CHECK(cusolverDnXpotrf(s.handle, s.params, CUBLAS_FILL_MODE_UPPER, n, s.type, s.at(p.a, i, n * n), n, s.type,
                                           s.device_work(), s.device_work_bytes(), s.host_work(), s.host_work_bytes(), s.info(i)));
  }
  const std::int64_t total = p.batch * n * n;
  TINYNN_DISPATCH_FLOATING(p.dtype, {
    zero_upper_kernel<T><<<blocks_for(total, kThreads), kThreads, 0, s.backend.stream()>>>(total, n, static_cast<T*>(p.a));
  })
  TINYNN_CUDA_CHECK(cudaGetLastError());
  s.finish(false);
}

// orgqr has no 64-bit generic form: one overload per precision of the typed API.
cusolverStatus_t orgqr_buffer_size(cusolverDnHandle_t h, int m, int n, int k, const float* q, int ldq, const float* tau, int* lwork) {
  return cusolverDnSorgqr_bufferSize(h, m, n, k, q, ldq, tau, lwork);
}
cusolverStatus_t orgqr_buffer_size(cusolverDnHandle_t h, int m, int n, int k, const double* q, int ldq, const double* tau, int* lwork) {
  return cusolverDnDorgqr_bufferSize(h, m, n, k, q, ldq, tau, lwork);
}
cusolverStatus_t orgqr(cusolverDnHandle_t h, int m, int n, int k, float* q, int ldq, const float* tau, float* work, int lwork, int* info) {
  return cusolverDnSorgqr(h, m, n, k, q, ldq, tau, work, lwork, info);
}
cusolverStatus_t orgqr(cusolverDnHandle_t h, int m, int n, int k, double* q, int ldq, const double* tau, double* work, int lwork, int* info) {
  return cusolverDnDorgqr(h, m, n, k, q, ldq, tau, work, lwork, info);
}

// a [m, n] -> Q [m, q_cols] in u, R [q_cols, n] in vt; q_cols = m when full, else min(m, n).
// geqrf leaves R above the diagonal and the reflectors below it; orgqr expands the reflectors
// (the first min(n, q_cols) columns, copied into q) into Q.
template <class T>
void qr(Solver& s) {
  const LinalgPlan& p = s.plan;
  const std::int64_t m = p.m, n = p.n, mn = std::min(m, n), q_cols = p.full ? m : mn;
  if (m * q_cols > INT_MAX)
    throw NotImplementedError(fmt::format("tinynn::linalg::qr on CUDA: Q of {} x {} is beyond cuSOLVER's 32-bit orgqr", m, q_cols));
  const int qm = static_cast<int>(m), qn = static_cast<int>(q_cols), qk = static_cast<int>(mn);
  DeviceScratch factor = s.batch_buffer(m * n), tau = s.batch_buffer(mn), q = s.batch_buffer(m * q_cols);
  s.transpose(p.a, factor.get(), m, n);
  std::size_t device_bytes = 0, host_bytes = 0;
  TINYNN_CUSOLVER_CHECK(cusolverDnXgeqrf_bufferSize(s.handle, s.params, m, n, s.type, factor.get(), m, s.type, tau.get(), s.type,
                                                    &device_bytes, &host_bytes));
  int orgqr_work = 0;
  TINYNN_CUSOLVER_CHECK(orgqr_buffer_size(s.handle, qm, qn, qk, static_cast<T*>(q.get()), qm, static_cast<T*>(tau.get()), &orgqr_work));
  s.reserve(std::max(device_bytes, static_cast<std::size_t>(orgqr_work) * sizeof(T)), host_bytes);
  for (std::int64_t i = 0; i < p.batch; ++i) {
    if (s.skip(i)) continue;
    void* fi = s.at(factor.get(), i, m * n);
    auto* taui = static_cast<T*>(s.at(tau.get(), i, mn));
    auto* qi = static_cast<T*>(s.at(q.get(), i, m * q_cols));
    TINYNN_CUSOLVER_CHECK(cusolverDnXgeqrf(s.handle, s.params, m, n, s.type, fi, m, s.type, taui, s.type, s.device_work(),
                                           s.device_work_bytes(), s.host_work(), s.host_work_bytes(), s.info(i)));
    s.copy(qi, fi, m * std::min(n, q_cols));
    TINYNN_CUSOLVER_CHECK(orgqr(s.handle, qm, qn, qk, qi, qm, taui, static_cast<T*>(s.device_work()),
                                static_cast<int>(s.device_work_bytes() / sizeof(T)), s.info(i)));
  }
  const std::int64_t total = p.batch * q_cols * n;
  upper_from_column_major_kernel<T><<<blocks_for(total, kThreads), kThreads, 0, s.backend.stream()>>>(
      total, m, n, q_cols, static_cast<const T*>(factor.get()), static_cast<T*>(p.vt));
  TINYNN_CUDA_CHECK(cudaGetLastError());
  s.transpose(q.get(), p.u, q_cols, m);
  s.finish(false);
}

// a [m, n] -> S [min(m, n)] in values; with vectors U in u, V^T in vt (see LinalgOp::Svd).
void svd(Solver& s) {
  const LinalgPlan& p = s.plan;
  const std::int64_t m = p.m, n = p.n, mn = std::min(m, n);
  const signed char job = !p.vectors ? 'N' : p.full ? 'A' : 'S';
  std::size_t device_bytes = 0, host_bytes = 0;
  if (m < n) {
    // The buffer is A^T [n, m] column-major: its U' is our V (written as V^T into vt), its V'^T our U.
    TINYNN_CUSOLVER_CHECK(cusolverDnXgesvd_bufferSize(s.handle, s.params, job, job, n, m, s.type, p.a, n, s.type, p.values, s.type, p.vt, n,
                                                      s.type, p.u, m, s.type, &device_bytes, &host_bytes));
    s.reserve(device_bytes, host_bytes);
    for (std::int64_t i = 0; i < p.batch; ++i) {
      if (s.skip(i)) continue;
      void* u = p.vectors ? s.at(p.u, i, s.size.u) : nullptr;
      void* vt = p.vectors ? s.at(p.vt, i, s.size.vt) : nullptr;
      TINYNN_CUSOLVER_CHECK(cusolverDnXgesvd(s.handle, s.params, job, job, n, m, s.type, s.at(p.a, i, m * n), n, s.type, s.at(p.values, i, mn),
                                             s.type, vt, n, s.type, u, m, s.type, s.device_work(), s.device_work_bytes(), s.host_work(),
                                             s.host_work_bytes(), s.info(i)));
    }
    s.finish(false);
    return;
  }
  // m >= n: A column-major into scratch; U [m, u_cols] and V^T [n, n] come back column-major.
  const std::int64_t u_cols = p.full ? m : n;
  DeviceScratch a = s.batch_buffer(m * n);
  DeviceScratch u = s.batch_buffer(p.vectors ? m * u_cols : 0), vt = s.batch_buffer(p.vectors ? n * n : 0);
  s.transpose(p.a, a.get(), m, n);
  TINYNN_CUSOLVER_CHECK(cusolverDnXgesvd_bufferSize(s.handle, s.params, job, job, m, n, s.type, a.get(), m, s.type, p.values, s.type, u.get(), m,
                                                    s.type, vt.get(), n, s.type, &device_bytes, &host_bytes));
  s.reserve(device_bytes, host_bytes);
  for (std::int64_t i = 0; i < p.batch; ++i) {
    if (s.skip(i)) continue;
    void* ui = p.vectors ? s.at(u.get(), i, m * u_cols) : nullptr;
    void* vti = p.vectors ? s.at(vt.get(), i, n * n) : nullptr;
    TINYNN_CUSOLVER_CHECK(cusolverDnXgesvd(s.handle, s.params, job, job, m, n, s.type, s.at(a.get(), i, m * n), m, s.type, s.at(p.values, i, mn),
                                           s.type, ui, m, s.type, vti, n, s.type, s.device_work(), s.device_work_bytes(), s.host_work(),
                                           s.host_work_bytes(), s.info(i)));
  }
  if (p.vectors) {
    s.transpose(u.get(), p.u, u_cols, m);
    s.transpose(vt.get(), p.vt, n, n);
  }
  s.finish(false);
}

// a [n, n], lower triangle read -> eigenvalues ascending; with vectors, eigenvectors in a's columns.
void eigh(Solver& s) {
  const LinalgPlan& p = s.plan;
  const std::int64_t n = p.n;
  const cusolverEigMode_t job = p.vectors ? CUSOLVER_EIG_MODE_VECTOR : CUSOLVER_EIG_MODE_NOVECTOR;
  std::size_t device_bytes = 0, host_bytes = 0;
  TINYNN_CUSOLVER_CHECK(cusolverDnXsyevd_bufferSize(s.handle, s.params, job, CUBLAS_FILL_MODE_UPPER, n, s.type, p.a, n, s.type, p.values, s.type,
                                                    &device_bytes, &host_bytes));
  s.reserve(device_bytes, host_bytes);
  for (std::int64_t i = 0; i < p.batch; ++i) {
    if (s.skip(i)) continue;
    TINYNN_CUSOLVER_CHECK(cusolverDnXsyevd(s.handle, s.params, job, CUBLAS_FILL_MODE_UPPER, n, s.type, s.at(p.a, i, n * n), n, s.type,
                                           s.at(p.values, i, n), s.type, s.device_work(), s.device_work_bytes(), s.host_work(),
                                           s.host_work_bytes(), s.info(i)));
  }
  if (p.vectors) {
    // The eigenvectors are the columns of a column-major matrix, rows of the row-major buffer.
    DeviceScratch columns = s.batch_buffer(n * n);
    s.transpose(p.a, columns.get(), n, n);
    s.copy(p.a, columns.get(), p.batch * n * n);
  }
  s.finish(false);
}

// a [n, n] -> eigenvalues' real parts in values, imaginary parts in values2.
void eigvals(Solver& s) {
  const LinalgPlan& p = s.plan;
  const std::int64_t n = p.n;
  DeviceScratch a = s.batch_buffer(n * n), w = s.batch_buffer(2 * n);  // w: n real parts, then n imaginary parts
  s.transpose(p.a, a.get(), n, n);
  const cusolverEigMode_t none = CUSOLVER_EIG_MODE_NOVECTOR;
  std::size_t device_bytes = 0, host_bytes = 0;
  TINYNN_CUSOLVER_CHECK(cusolverDnXgeev_bufferSize(s.handle, s.params, none, none, n, s.type, a.get(), n, s.type, w.get(), s.type, nullptr, n,
                                                   s.type, nullptr, n, s.type, &device_bytes, &host_bytes));
  s.reserve(device_bytes, host_bytes);
  for (std::int64_t i = 0; i < p.batch; ++i) {
    if (s.skip(i)) continue;
    TINYNN_CUSOLVER_CHECK(cusolverDnXgeev(s.handle, s.params, none, none, n, s.type, s.at(a.get(), i, n * n), n, s.type, s.at(w.get(), i, 2 * n),
                                          s.type, nullptr, n, s.type, nullptr, n, s.type, s.device_work(), s.device_work_bytes(), s.host_work(),
                                          s.host_work_bytes(), s.info(i)));
  }
  const std::size_t row = static_cast<std::size_t>(n) * s.element;
  const auto rows = static_cast<std::size_t>(p.batch);
  TINYNN_CUDA_CHECK(cudaMemcpy2DAsync(p.values, row, w.get(), 2 * row, row, rows, cudaMemcpyDeviceToDevice, s.backend.stream()));
  TINYNN_CUDA_CHECK(cudaMemcpy2DAsync(p.values2, row, static_cast<unsigned char*>(w.get()) + row, 2 * row, row, rows, cudaMemcpyDeviceToDevice,
                                      s.backend.stream()));
  s.finish(false);
}

}  // namespace

cusolverDnHandle_t CudaBackend::cusolver() {
  std::lock_guard<std::mutex> lock(cusolver_mutex_);
  if (cusolver_ == nullptr) {
    // Created on first use: its setup takes a noticeable fraction of a second and most programs never factor.
    TINYNN_CUSOLVER_CHECK(cusolverDnCreate(&cusolver_));
    TINYNN_CUSOLVER_CHECK(cusolverDnSetStream(cusolver_, stream_));
    TINYNN_CUSOLVER_CHECK(cusolverDnCreateParams(&cusolver_params_));
  }
  return cusolver_;
}

cusolverDnParams_t CudaBackend::cusolver_params() {
  cusolver();
  return cusolver_params_;
}

void CudaBackend::linalg(const LinalgPlan& plan) {
  if (plan.dtype != DType::Float32 && plan.dtype != DType::Float64)
    throw DTypeError(fmt::format("tinynn::linalg: {} is not supported (float32 or float64)", dtype_name(plan.dtype)));
  if (plan.batch == 0) return;
  if (plan.op == LinalgOp::Lstsq || plan.sizes().a == 0) return linalg_on_host(plan);
  activate();
  Solver solver(*this, plan);
  switch (plan.op) {
    case LinalgOp::LuFactor: return lu_factor(solver);
    case LinalgOp::Solve: return solve(solver);
    case LinalgOp::Cholesky: return cholesky(solver);
    case LinalgOp::Qr:
      if (plan.dtype == DType::Float32) return qr<float>(solver);
      return qr<double>(solver);
    case LinalgOp::Svd: return svd(solver);
    case LinalgOp::Eigh: return eigh(solver);
    case LinalgOp::Eigvals: return eigvals(solver);
    case LinalgOp::Lstsq: break;
  }
  throw Error("tinynn: unknown linalg op");
}

// LAPACK on host copies of the plan's buffers (through the CPU backend); the results are copied back.
void CudaBackend::linalg_on_host(const LinalgPlan& plan) {
  const LinalgPlan::Sizes size = plan.sizes();
  const std::size_t element = dtype_size(plan.dtype);
  LinalgPlan host = plan;
  struct Staged {
    void* device;
    std::vector<unsigned char> bytes;
  };
  std::vector<Staged> staged;
  auto stage = [&](auto*& pointer, std::int64_t per_matrix, std::size_t element_size) {
    if (pointer == nullptr || per_matrix == 0) return;
    Staged& s = staged.emplace_back(Staged{pointer, std::vector<unsigned char>(static_cast<std::size_t>(plan.batch * per_matrix) * element_size)});
    copy_to_host(s.bytes.data(), pointer, s.bytes.size());
    pointer = reinterpret_cast<std::remove_reference_t<decltype(pointer)>>(s.bytes.data());
  };
  stage(host.a, size.a, element);
  stage(host.b, size.b, element);
  stage(host.values, size.values, element);
  stage(host.values2, size.values, element);
  stage(host.u, size.u, element);
  stage(host.vt, size.vt, element);
  stage(host.pivots, size.pivots, sizeof(std::int64_t));
  detail::cpu_backend().linalg(host);
  for (const Staged& s : staged) copy_from_host(s.device, s.bytes.data(), s.bytes.size());
}

}  // namespace tinynn::cuda
