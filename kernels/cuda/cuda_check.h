// Every CUDA runtime and cuBLAS call goes through TINYNN_CUDA_CHECK / TINYNN_CUBLAS_CHECK: a
// failure throws DeviceError with the call text, file and line.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include <tinynn/core/error.h>

namespace tinynn::cuda {

[[noreturn]] inline void throw_call_error(const char* library, const char* reason, const char* call, const char* file,
                                          int line) {
  throw DeviceError(std::string("tinynn: ") + library + " call " + call + " failed at " + file + ":" +
                    std::to_string(line) + ": " + reason);
}

}  // namespace tinynn::cuda

#define TINYNN_CUDA_CHECK(call)                                                                              \
  do {                                                                                                       \
    const cudaError_t tinynn_err_ = (call);                                                                  \
    if (tinynn_err_ != cudaSuccess)                                                                          \
      ::tinynn::cuda::throw_call_error("CUDA", cudaGetErrorString(tinynn_err_), #call, __FILE__, __LINE__); \
  } while (0)

#define TINYNN_CUBLAS_CHECK(call)                                                                               \
  do {                                                                                                          \
    const cublasStatus_t tinynn_status_ = (call);                                                               \
    if (tinynn_status_ != CUBLAS_STATUS_SUCCESS)                                                                \
      ::tinynn::cuda::throw_call_error("cuBLAS", cublasGetStatusString(tinynn_status_), #call, __FILE__, __LINE__); \
  } while (0)
