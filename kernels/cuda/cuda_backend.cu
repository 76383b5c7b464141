// CUDA device discovery, memory, transfers, and the per-GPU backend instances.
#include <fmt/format.h>

#include <memory>
#include <mutex>
#include <vector>

#include "cuda_backend.h"
#include "cuda_check.h"

namespace tinynn {

namespace cuda {

CudaBackend::CudaBackend(int index) : index_(index) {
  activate();
  TINYNN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  TINYNN_CUDA_CHECK(cudaMalloc(&error_flag_, 2 * sizeof(std::int64_t)));
}

CudaBackend::~CudaBackend() {
  // No throw from a destructor.
  if (error_flag_ != nullptr) cudaFree(error_flag_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void CudaBackend::activate() const { TINYNN_CUDA_CHECK(cudaSetDevice(index_)); }

void* CudaBackend::allocate(std::size_t nbytes) {
  activate();
  void* p = nullptr;
  TINYNN_CUDA_CHECK(cudaMalloc(&p, std::max<std::size_t>(nbytes, 1)));
  return p;
}

void CudaBackend::deallocate(void* ptr, std::size_t) {
  cudaSetDevice(index_);
  cudaFree(ptr);  // called from destructors: errors here cannot be thrown
}

void CudaBackend::copy_from_host(void* dst, const void* host_src, std::size_t nbytes) {
  activate();
  TINYNN_CUDA_CHECK(cudaMemcpyAsync(dst, host_src, nbytes, cudaMemcpyHostToDevice, stream_));
  TINYNN_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the host buffer may be freed on return
}

void CudaBackend::copy_to_host(void* host_dst, const void* src, std::size_t nbytes) {
  activate();
  TINYNN_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, nbytes, cudaMemcpyDeviceToHost, stream_));
  TINYNN_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaBackend::synchronize() {
  activate();
  TINYNN_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

namespace {
[[noreturn]] void not_built(const char* what) {
  throw NotImplementedError(fmt::format("tinynn: {} is not implemented on CUDA yet; move the tensor to the cpu", what));
}
}  // namespace

void CudaBackend::reduce(ReduceOp, const ReducePlan&, DType, void*, const void*) { not_built("reduction"); }
void CudaBackend::scan(ScanOp, const ScanPlan&, DType, void*, const void*) { not_built("cumsum/cumprod"); }
void CudaBackend::gather(const IndexPlan&, DType, void*, const std::int64_t*, const void*) { not_built("gather"); }
void CudaBackend::scatter_add(const IndexPlan&, DType, void*, const std::int64_t*, const void*) {
  not_built("scatter_add");
}
void CudaBackend::matmul(const MatmulPlan&, DType, void*, const void*, const void*) { not_built("matmul"); }
void CudaBackend::linalg(const LinalgPlan&) { not_built("linear algebra (cuSOLVER)"); }

}  // namespace cuda

namespace detail {

int cuda_device_count_impl() {
  static const int count = [] {
    int n = 0;
    // No driver or no GPU is not an error here: it means zero devices.
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

Backend* cuda_backend(int index) {
  static std::mutex mutex;
  static std::vector<std::unique_ptr<cuda::CudaBackend>> backends;
  if (index < 0 || index >= cuda_device_count_impl()) return nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (backends.empty()) backends.resize(static_cast<std::size_t>(cuda_device_count_impl()));
  auto& slot = backends[static_cast<std::size_t>(index)];
  if (!slot) slot = std::make_unique<cuda::CudaBackend>(index);
  return slot.get();
}

}  // namespace detail

}  // namespace tinynn
