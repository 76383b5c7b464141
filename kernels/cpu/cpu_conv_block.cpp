// The CPU backend's conv block: oneDNN's primitives chained on their own layout, when oneDNN takes
// the plan; otherwise (and in a build without oneDNN) core composes the block from its four ops.
#include <tinynn/core/error.h>

#include "cpu_backend.h"
#ifdef TINYNN_HAVE_ONEDNN
#include "onednn_conv_block.h"
#endif

namespace tinynn::cpu {

#ifndef TINYNN_HAVE_ONEDNN
ConvBlockSizes CpuBackend::conv_block_sizes(const ConvBlockPlan&) { return {}; }

void CpuBackend::conv_block_forward(const ConvBlockPlan&, void*, void*, void*, void* const*, const void*, const void*,
                                    const void*, const void*, const void*, const ChannelBlockedArgs&) {
  throw NotImplementedError("tinynn::conv_block: this build has no oneDNN; the block is composed (conv_block_sizes says so)");
}

void CpuBackend::conv_block_backward(const ConvBlockPlan&, void*, void*, void*, void*, void*, const void*, const void* const*,
                                     const void*, const void*, const void*, const void*, const void*, const void*,
                                     const ChannelBlockedArgs&) {
  throw NotImplementedError("tinynn::conv_block: this build has no oneDNN; the block is composed (conv_block_sizes says so)");
}
#else
ConvBlockSizes CpuBackend::conv_block_sizes(const ConvBlockPlan& plan) { return onednn_conv_block_sizes(plan); }

void CpuBackend::conv_block_forward(const ConvBlockPlan& plan, void* y, void* mean, void* var, void* const* saved,
                                    const void* x, const void* w, const void* bias, const void* gamma, const void* beta,
                                    const ChannelBlockedArgs& blocked) {
  onednn_conv_block_forward(plan, static_cast<float*>(y), static_cast<float*>(mean), static_cast<float*>(var), saved,
                            static_cast<const float*>(x), static_cast<const float*>(w), static_cast<const float*>(bias),
                            static_cast<const float*>(gamma), static_cast<const float*>(beta), blocked);
}

void CpuBackend::conv_block_backward(const ConvBlockPlan& plan, void* gx, void* gw, void* gbias, void* ggamma, void* gbeta,
                                     const void* gy, const void* const* saved, const void* mean, const void* var,
                                     const void* x, const void* w, const void* gamma, const void* beta,
                                     const ChannelBlockedArgs& blocked) {
  onednn_conv_block_backward(plan, static_cast<float*>(gx), static_cast<float*>(gw), static_cast<float*>(gbias),
                             static_cast<float*>(ggamma), static_cast<float*>(gbeta), static_cast<const float*>(gy), saved,
                             static_cast<const float*>(mean), static_cast<const float*>(var), static_cast<const float*>(x),
                             static_cast<const float*>(w), static_cast<const float*>(gamma), static_cast<const float*>(beta),
                             blocked);
}
#endif

}  // namespace tinynn::cpu
