// Every CUDA runtime, cuBLAS and cuSOLVER call goes through TINYNN_CUDA_CHECK / TINYNN_CUBLAS_CHECK /
// TINYNN_CUSOLVER_CHECK: a failure throws DeviceError with the call text, file and line.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolver_common.h>

#include <string>

#include <tinynn/core/error.h>

namespace tinynn::cuda {

inline bool succeeded(cudaError_t status) { return status == cudaSuccess; }
inline bool succeeded(cublasStatus_t status) { return status == CUBLAS_STATUS_SUCCESS; }
inline const char* reason(cudaError_t status) { return cudaGetErrorString(status); }
inline const char* reason(cublasStatus_t status) { return cublasGetStatusString(status); }
inline bool succeeded(cusolverStatus_t status) { return status == CUSOLVER_STATUS_SUCCESS; }
inline const char* reason(cusolverStatus_t status) {  // cuSOLVER has no status-string function
  switch (status) {
    case CUSOLVER_STATUS_NOT_INITIALIZED: return "not initialized";
    case CUSOLVER_STATUS_ALLOC_FAILED: return "out of memory";
    case CUSOLVER_STATUS_INVALID_VALUE: return "invalid value";
    case CUSOLVER_STATUS_ARCH_MISMATCH: return "not supported on this GPU";
    case CUSOLVER_STATUS_EXECUTION_FAILED: return "execution failed";
    case CUSOLVER_STATUS_INTERNAL_ERROR: return "internal error";
    case CUSOLVER_STATUS_NOT_SUPPORTED: return "not supported";
    case CUSOLVER_STATUS_INVALID_WORKSPACE: return "invalid workspace";
    default: return "error";
  }
}

template <class Status>
void check_call(Status status, const char* library, const char* call, const char* file, int line) {
  if (!succeeded(status))
    throw DeviceError(std::string("tinynn: ") + library + " call " + call + " failed at " + file + ":" +
                      std::to_string(line) + ": " + reason(status));
}

}  // namespace tinynn::cuda

#define TINYNN_CUDA_CHECK(call) ::tinynn::cuda::check_call((call), "CUDA", #call, __FILE__, __LINE__)
#define TINYNN_CUBLAS_CHECK(call) ::tinynn::cuda::check_call((call), "cuBLAS", #call, __FILE__, __LINE__)
#define TINYNN_CUSOLVER_CHECK(call) ::tinynn::cuda::check_call((call), "cuSOLVER", #call, __FILE__, __LINE__)
