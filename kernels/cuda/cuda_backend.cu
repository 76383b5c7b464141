// CUDA device discovery, memory (caching allocators over cudaMalloc and pinned host memory),
// transfers, and the per-GPU backend instances.
#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "../common/index_errors.h"
#include "cuda_backend.h"
#include "cuda_check.h"

namespace tinynn {

namespace cuda {

namespace {

MemorySource device_source(int index) {
  return {fmt::format("cuda:{}", index),
          [index](std::size_t n) -> void* {
            void* p = nullptr;
            if (cudaSetDevice(index) != cudaSuccess || cudaMalloc(&p, n) != cudaSuccess) {
              cudaGetLastError();  // out of memory is reported by the allocator, not left pending
              return nullptr;
            }
            return p;
          },
          [index](void* p) {
            cudaSetDevice(index);
            cudaFree(p);  // called from destructors: errors here cannot be thrown
          }};
}

MemorySource pinned_source() {
  return {"pinned host memory",
          [](std::size_t n) -> void* {
            void* p = nullptr;
            if (cudaMallocHost(&p, n) != cudaSuccess) {
              cudaGetLastError();
              return nullptr;
            }
            return p;
          },
          [](void* p) { cudaFreeHost(p); }};
}

}  // namespace

CudaBackend::CudaBackend(int index) : index_(index), device_memory_(device_source(index)), pinned_memory_(pinned_source()) {
  activate();
  TINYNN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  TINYNN_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&error_flag_host_), 3 * sizeof(std::int64_t), cudaHostAllocMapped));
  std::memset(error_flag_host_, 0, 3 * sizeof(std::int64_t));
  TINYNN_CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&error_flag_), error_flag_host_, 0));
  TINYNN_CUBLAS_CHECK(cublasCreate(&cublas_));
  TINYNN_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
}

CudaBackend::~CudaBackend() {
  // No throw from a destructor. (The backends live until the process ends; see cuda_backend().)
  release_finished_staging(true);
  for (cudaEvent_t e : free_events_) cudaEventDestroy(e);
  if (cusolver_params_ != nullptr) cusolverDnDestroyParams(cusolver_params_);
  if (cusolver_ != nullptr) cusolverDnDestroy(cusolver_);
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (error_flag_host_ != nullptr) cudaFreeHost(error_flag_host_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void CudaBackend::activate() const { TINYNN_CUDA_CHECK(cudaSetDevice(index_)); }

void* CudaBackend::allocate(std::size_t nbytes) { return device_memory_.allocate(nbytes); }

// Blocks go back to the cache at once: the next user of a block is queued on the same stream,
// so it runs after every kernel still reading or writing the block.
void CudaBackend::deallocate(void* ptr, std::size_t nbytes) { device_memory_.deallocate(ptr, nbytes); }

void CudaBackend::release_finished_staging(bool wait_all) {
  std::lock_guard<std::mutex> lock(staging_mutex_);
  while (!staging_.empty()) {
    Staging& s = staging_.front();
    if (wait_all) cudaEventSynchronize(s.done);
    else if (cudaEventQuery(s.done) != cudaSuccess) break;  // cudaErrorNotReady: still copying
    free_events_.push_back(s.done);  // reused by the next copy: no event created per copy
    pinned_memory_.deallocate(s.buffer, s.nbytes);
    staging_.pop_front();
  }
  cudaGetLastError();  // cudaErrorNotReady is not an error for later calls to find
}

// The host data is copied into a pinned staging buffer and the device copy is queued behind the
// running kernels: the caller may free its buffer on return, and the CPU goes on (assembling the
// next batch, say) while the GPU copies.
void CudaBackend::copy_from_host(void* dst, const void* host_src, std::size_t nbytes) {
  if (nbytes == 0) return;
  activate();
  release_finished_staging(false);
  void* staging = pinned_memory_.allocate(nbytes);
  std::memcpy(staging, host_src, nbytes);
  cudaEvent_t done = nullptr;
  {
    std::lock_guard<std::mutex> lock(staging_mutex_);
    if (!free_events_.empty()) {
      done = free_events_.back();
      free_events_.pop_back();
    }
  }
  try {
    TINYNN_CUDA_CHECK(cudaMemcpyAsync(dst, staging, nbytes, cudaMemcpyHostToDevice, stream_));
    if (done == nullptr) TINYNN_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    TINYNN_CUDA_CHECK(cudaEventRecord(done, stream_));
  } catch (...) {
    cudaStreamSynchronize(stream_);
    if (done != nullptr) cudaEventDestroy(done);
    pinned_memory_.deallocate(staging, nbytes);
    throw;
  }
  std::lock_guard<std::mutex> lock(staging_mutex_);
  staging_.push_back({staging, nbytes, done});
}

void CudaBackend::copy_to_host(void* host_dst, const void* src, std::size_t nbytes) {
  if (nbytes == 0) return;
  activate();
  TINYNN_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, nbytes, cudaMemcpyDeviceToHost, stream_));
  TINYNN_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the caller reads host_dst on return
  raise_index_errors();
}

void CudaBackend::synchronize() {
  activate();
  TINYNN_CUDA_CHECK(cudaStreamSynchronize(stream_));
  release_finished_staging(false);
  raise_index_errors();
}

// Called after the stream has drained, so every kernel's write to the flag is visible here.
void CudaBackend::raise_index_errors() {
  volatile std::int64_t* flag = error_flag_host_;
  const auto check = static_cast<IndexCheck>(flag[0]);
  if (check == IndexCheck::None) return;
  const std::int64_t bad = flag[1], size = flag[2];
  flag[0] = 0;
  if (check == IndexCheck::ClassTarget) throw IndexError(class_target_message(size, bad));
  throw IndexError(index_out_of_range_message(static_cast<IndexCaller>(check), bad, size));
}

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

std::string cuda_device_description_impl(int index) {
  cudaDeviceProp prop{};
  TINYNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
  return fmt::format("{}, {:.1f} GiB, compute capability {}.{}", prop.name,
                     static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0), prop.major, prop.minor);
}

Backend* cuda_backend(int index) {
  static std::mutex mutex;
  // Never destroyed: tensors in static storage may be freed after this would have been.
  static auto* backends = new std::vector<std::unique_ptr<cuda::CudaBackend>>();
  if (index < 0 || index >= cuda_device_count_impl()) return nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (backends->empty()) backends->resize(static_cast<std::size_t>(cuda_device_count_impl()));
  auto& slot = (*backends)[static_cast<std::size_t>(index)];
  if (!slot) slot = std::make_unique<cuda::CudaBackend>(index);
  return slot.get();
}

}  // namespace detail

}  // namespace tinynn
