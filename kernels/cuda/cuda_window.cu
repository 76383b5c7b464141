// CUDA convolution and pooling. Convolution runs on cuDNN (cudnn_conv.h) where the build has it
// and it takes the plan; else, and for pooling, one thread per output element runs the same
// per-element reference functions as the CPU (kernels/common/window_reference.h): the same sums
// in the same order, a correct baseline rather than a fast one.
#include <tinynn/core/detail/dispatch.h>

#include "../common/window_reference.h"
#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_plan.cuh"
#include "cudnn_conv.h"

namespace tinynn::cuda {

namespace {

constexpr unsigned kThreads = 256;

// y [N, K, P, Q]
template <class T>
__global__ void conv_kernel(ConvPlan pl, std::int64_t count, T* y, const T* x, const T* w, const T* bias) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const std::int64_t q = i % pl.q, p = i / pl.q % pl.p, k = i / (pl.q * pl.p) % pl.k, n = i / (pl.q * pl.p * pl.k);
  y[i] = window::conv_at(pl, x, w, bias, n, k, p, q);
}

// gx [N, C, H, W]
template <class T>
__global__ void conv_backward_data_kernel(ConvPlan pl, std::int64_t count, T* gx, const T* gy, const T* w) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const std::int64_t col = i % pl.w, h = i / pl.w % pl.h, c = i / (pl.w * pl.h) % pl.c, n = i / (pl.w * pl.h * pl.c);
  gx[i] = window::conv_backward_data_at(pl, gy, w, n, c, h, col);
}

// gw [K, C/G, R, S]
template <class T>
__global__ void conv_backward_weight_kernel(ConvPlan pl, std::int64_t count, T* gw, const T* x, const T* gy) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const std::int64_t cg = pl.c / pl.groups;
  const std::int64_t s = i % pl.s, r = i / pl.s % pl.r, ci = i / (pl.s * pl.r) % cg, k = i / (pl.s * pl.r * cg);
  gw[i] = window::conv_backward_weight_at(pl, x, gy, k, ci, r, s);
}

// y, indices [N, C, P, Q]
template <class T>
__global__ void max_pool_kernel(PoolPlan pl, std::int64_t count, T* y, std::int64_t* indices, const T* x) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const std::int64_t j = i % pl.q, row = i / pl.q % pl.p, plane = i / (pl.q * pl.p);
  y[i] = window::max_pool_at(pl, x + plane * pl.h * pl.w, row, j, &indices[i]);
}

template <class T>
__global__ void avg_pool_kernel(PoolPlan pl, std::int64_t count, T* y, const T* x) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const std::int64_t j = i % pl.q, row = i / pl.q % pl.p, plane = i / (pl.q * pl.p);
  y[i] = window::avg_pool_at(pl, x + plane * pl.h * pl.w, row, j);
}

// gx [N, C, H, W]
template <class T>
__global__ void avg_pool_backward_kernel(PoolPlan pl, std::int64_t count, T* gx, const T* gy) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const std::int64_t col = i % pl.w, h = i / pl.w % pl.h, plane = i / (pl.w * pl.h);
  gx[i] = window::avg_pool_backward_at(pl, gy + plane * pl.p * pl.q, h, col);
}

}  // namespace

#define TINYNN_LAUNCH(kernel, count, ...)                                                   \
  do {                                                                                      \
    const std::int64_t n_ = (count);                                                        \
    if (n_ == 0) return;                                                                    \
    activate();                                                                             \
    kernel<<<blocks_for(n_, kThreads), kThreads, 0, stream_>>>(__VA_ARGS__);                \
    TINYNN_CUDA_CHECK(cudaGetLastError());                                                  \
  } while (0)

// Plain NCHW only: conv2d_layouts names no blocked tensor, so `blocked` is always empty here.
ConvLayouts CudaBackend::conv2d_layouts(const ConvPlan&, DType, ConvPass, bool) { return {}; }
bool CudaBackend::channel_blocked_to_plain(const std::int64_t (&)[4], int, void*, const void*) { return false; }

void CudaBackend::conv2d(const ConvPlan& pl, DType t, void* y, const void* x, const void* w, const void* bias,
                         const ChannelBlockedArgs&) {
  if (cudnn_conv2d(*this, pl, t, y, x, w, bias)) return;
  TINYNN_DISPATCH_FLOATING(t, TINYNN_LAUNCH(conv_kernel<T>, pl.n * pl.k * pl.p * pl.q, pl, n_, static_cast<T*>(y),
                                            static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(bias)))
}

void CudaBackend::conv2d_backward_data(const ConvPlan& pl, DType t, void* gx, const void* gy, const void* w,
                                       const ChannelBlockedArgs&) {
  if (cudnn_conv2d_backward_data(*this, pl, t, gx, gy, w)) return;
  TINYNN_DISPATCH_FLOATING(t, TINYNN_LAUNCH(conv_backward_data_kernel<T>, pl.n * pl.c * pl.h * pl.w, pl, n_,
                                            static_cast<T*>(gx), static_cast<const T*>(gy), static_cast<const T*>(w)))
}

void CudaBackend::conv2d_backward_weight(const ConvPlan& pl, DType t, void* gw, const void* x, const void* gy,
                                         const ChannelBlockedArgs&) {
  if (cudnn_conv2d_backward_weight(*this, pl, t, gw, x, gy)) return;
  TINYNN_DISPATCH_FLOATING(t, TINYNN_LAUNCH(conv_backward_weight_kernel<T>, pl.k * (pl.c / pl.groups) * pl.r * pl.s, pl, n_,
                                            static_cast<T*>(gw), static_cast<const T*>(x), static_cast<const T*>(gy)))
}

void CudaBackend::max_pool2d(const PoolPlan& pl, DType t, void* y, std::int64_t* indices, const void* x) {
  TINYNN_DISPATCH_FLOATING(t, TINYNN_LAUNCH(max_pool_kernel<T>, pl.n * pl.c * pl.p * pl.q, pl, n_, static_cast<T*>(y), indices,
                                            static_cast<const T*>(x)))
}

void CudaBackend::avg_pool2d(const PoolPlan& pl, DType t, void* y, const void* x) {
  TINYNN_DISPATCH_FLOATING(t, TINYNN_LAUNCH(avg_pool_kernel<T>, pl.n * pl.c * pl.p * pl.q, pl, n_, static_cast<T*>(y),
                                            static_cast<const T*>(x)))
}

void CudaBackend::avg_pool2d_backward(const PoolPlan& pl, DType t, void* gx, const void* gy) {
  TINYNN_DISPATCH_FLOATING(t, TINYNN_LAUNCH(avg_pool_backward_kernel<T>, pl.n * pl.c * pl.h * pl.w, pl, n_,
                                            static_cast<T*>(gx), static_cast<const T*>(gy)))
}

#undef TINYNN_LAUNCH

}  // namespace tinynn::cuda
