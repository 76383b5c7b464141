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

// Each returns false when oneDNN cannot run the plan (then the reference kernel does).
bool onednn_conv2d_f32(const ConvPlan& plan, float* y, const float* x, const float* w, const float* bias);
bool onednn_conv2d_backward_data_f32(const ConvPlan& plan, float* gx, const float* gy, const float* w);
bool onednn_conv2d_backward_weight_f32(const ConvPlan& plan, float* gw, const float* x, const float* gy);

// Switches the oneDNN path off (tests compare it against the reference). Default on.
void set_onednn_conv_enabled(bool enabled);
// Distinct primitives created so far (a cache test checks reuse).
std::size_t onednn_conv_primitives_created();

}  // namespace tinynn::cpu
