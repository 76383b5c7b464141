// Every CUDA runtime and cuBLAS call goes through TINYNN_CUDA_CHECK / TINYNN_CUBLAS_CHECK: a
// failure throws DeviceError with the call text, file and line.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include <tinynn/core/error.h>

namespace tinynn::cuda {

inline bool succeeded(cudaError_t status) { return status == cudaSuccess; }
inline bool succeeded(cublasStatus_t status) { return status == CUBLAS_STATUS_SUCCESS; }
inline const char* reason(cudaError_t status) { return cudaGetErrorString(status); }
inline const char* reason(cublasStatus_t status) { return cublasGetStatusString(status); }

template <class Status>
void check_call(Status status, const char* library, const char* call, const char* file, int line) {
  if (!succeeded(status))
    throw DeviceError(std::string("tinynn: ") + library + " call " + call + " failed at " + file + ":" +
                      std::to_string(line) + ": " + reason(status));
}

}  // namespace tinynn::cuda

#define TINYNN_CUDA_CHECK(call) ::tinynn::cuda::check_call((call), "CUDA", #call, __FILE__, __LINE__)
#define TINYNN_CUBLAS_CHECK(call) ::tinynn::cuda::check_call((call), "cuBLAS", #call, __FILE__, __LINE__)
