// Every CUDA runtime call goes through TINYNN_CUDA_CHECK: a failure throws DeviceError with the
// call text, file and line.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include <tinynn/core/error.h>

namespace tinynn::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  throw DeviceError(std::string("tinynn: CUDA call ") + call + " failed at " + file + ":" + std::to_string(line) +
                    ": " + cudaGetErrorString(err));
}

}  // namespace tinynn::cuda

#define TINYNN_CUDA_CHECK(call)                                                       \
  do {                                                                                \
    const cudaError_t tinynn_err_ = (call);                                           \
    if (tinynn_err_ != cudaSuccess) ::tinynn::cuda::throw_cuda_error(tinynn_err_, #call, __FILE__, __LINE__); \
  } while (0)
