// TINYNN_HD marks functions that CUDA kernels run too (__host__ __device__ under nvcc, nothing
// for the host compiler): the pointwise table, Philox and the random draws.
#pragma once

#ifdef __CUDACC__
#define TINYNN_HD __host__ __device__
#else
#define TINYNN_HD
#endif
