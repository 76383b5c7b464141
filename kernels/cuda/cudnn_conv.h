// Convolution on the GPU through cuDNN (shipped with the CUDA toolkit): forward, backward data and
// backward filter, float32 and float64, NCHW as tinynn's tensors are. Descriptors and the algorithm
// are chosen once per plan and device and cached; each call takes its workspace from the
// backend's caching allocator and runs on the backend's stream.
#pragma once
#include <tinynn/core/backend.h>

namespace tinynn::cuda {

class CudaBackend;

// Each returns false where cuDNN cannot take the plan (a build without cuDNN, sizes beyond its
// int dimensions, an output size it counts otherwise): then the caller runs its own kernel.
bool cudnn_conv2d(CudaBackend& backend, const ConvPlan& plan, DType t, void* y, const void* x, const void* w,
                  const void* bias);
bool cudnn_conv2d_backward_data(CudaBackend& backend, const ConvPlan& plan, DType t, void* gx, const void* gy,
                                const void* w);
bool cudnn_conv2d_backward_weight(CudaBackend& backend, const ConvPlan& plan, DType t, void* gw, const void* x,
                                  const void* gy);

}  // namespace tinynn::cuda
