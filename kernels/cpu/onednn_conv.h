// float32 convolution through oneDNN's convolution primitives (forward, backward data, backward
// weights), created once per plan and cached.
#pragma once
#include <dnnl.hpp>

#include <tinynn/core/backend.h>

namespace tinynn::cpu {

// A plan's oneDNN descriptors: plain layouts (NCHW, OIHW or GOIHW, x) and `any` twins, strides,
// dilations counted from 0 and the paddings that give the plan's output size; and the algorithm.
struct ConvDescs {
  dnnl::memory::desc src, weights, bias, dst;
  dnnl::memory::desc any_src, any_weights, any_bias, any_dst;
  dnnl::memory::dims strides, dilates, pad_l, pad_r;
  // From 16 input channels a group oneDNN's choice: Winograd F(4x4, 3x3) where it has one (3x3,
  // stride 1: the shipped CNN's second convolution, 15-25 % faster in each of the three passes),
  // direct elsewhere. Below that, direct: oneDNN's choice for a one-channel input is Winograd too,
  // and 4x slower there.
  dnnl::algorithm algorithm = dnnl::algorithm::convolution_direct;
};
ConvDescs conv_descs(const ConvPlan& plan);

// Which tensors the pass's primitive takes in the channel-blocked layout (Backend::conv2d_layouts):
// those whose chosen layout is nChw16c (or nChw8c) with a whole number of blocks. `bias`: the forward
// with one. None when oneDNN cannot run the pass.
ConvLayouts onednn_conv2d_layouts(const ConvPlan& plan, ConvPass pass, bool bias);

// Each returns false when oneDNN cannot run the plan (then the reference kernel does); never with a
// blocked tensor that onednn_conv2d_layouts named. A blocked tensor is read or written as it is, with
// no reorder; its plain pointer is null.
bool onednn_conv2d_f32(const ConvPlan& plan, float* y, const float* x, const float* w, const float* bias,
                       const ChannelBlockedArgs& blocked);
bool onednn_conv2d_backward_data_f32(const ConvPlan& plan, float* gx, const float* gy, const float* w,
                                     const ChannelBlockedArgs& blocked);
bool onednn_conv2d_backward_weight_f32(const ConvPlan& plan, float* gw, const float* x, const float* gy,
                                       const ChannelBlockedArgs& blocked);

// blocked [N, C/B, H, W, B] -> plain [N, C, H, W] through oneDNN's reorder (cached per shape); false
// for lanes other than 8 or 16.
bool onednn_channel_blocked_to_plain(const std::int64_t (&nchw)[4], int lanes, float* plain, const float* blocked);

// Switches the oneDNN path off (tests compare it against the reference). Default on.
void set_onednn_conv_enabled(bool enabled);
// Distinct primitives created so far (a cache test checks reuse).
std::size_t onednn_conv_primitives_created();

}  // namespace tinynn::cpu
