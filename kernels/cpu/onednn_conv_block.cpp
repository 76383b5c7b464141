// The conv block on oneDNN. One cache entry per plan holds the primitives of both passes, the
// reorders between plain NCHW and the layouts the primitives chose, and scratch memory for the
// values that live only within one call (the batch norm's output, the gradients between the
// primitives). What the backward needs from the forward goes into the caller's saved buffers:
//   saved[0]  x in the convolution's source layout (empty when that is plain NCHW: x itself)
//   saved[1]  the convolution's output (the batch norm's source)
//   saved[2]  the batch norm's workspace (where ReLU let the gradient through)
//   saved[3]  the max pool's workspace (where each window's maximum was)
//   saved[4]  a first layer's input patch moments and padded input (below; else empty)
// A 2x2 max pool of stride 2 on a blocked layout (the shipped CNNs' blocks) takes tinynn's own
// batch norm + ReLU + pool loops instead of the three primitives (blocked_bn_relu_pool.h): fewer
// passes over the convolution's output, the block's output written as plain NCHW directly, and
// saved[2] the convolution's output at each window's maximum, saved[3] where that maximum was and
// whether ReLU passed it. A first layer (a one-channel input, a 3x3 kernel: conv_patches.h) takes
// its statistics, and its weight gradient when its input needs none, from the input's patches.
// Two such blocks in a row pass the first one's output and the second one's input gradient in the
// loops' blocked layout only, when core hands them so (ChannelBlockedArgs): the first block's loops
// write no plain output, the second block's convolution reads theirs without a reorder and writes
// its input gradient without one, and the first block's loops read that.
// In eval the batch norm is folded into the convolution's weights and bias and the ReLU is the
// convolution's post-op: a convolution and a pool.
#include "onednn_conv_block.h"

#include <array>
#include <cmath>
#include <bit>
#include <atomic>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "blocked_bn_relu_pool.h"
#include "onednn_conv.h"
#include "onednn_runtime.h"

namespace tinynn::cpu {

namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using md = dnnl::memory::desc;

std::atomic<bool> g_enabled{true};
std::atomic<std::size_t> g_own_tails{0}, g_linear_tails{0};

// A reorder from one layout to another, or nothing when they are the same.
struct Reorder {
  md from, to;
  std::unique_ptr<dnnl::reorder> primitive;  // null: same layout

  Reorder() = default;
  Reorder(const md& f, const md& t, const dnnl::engine& e) : from(f), to(t) {
    if (f != t) primitive = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(e, f, e, t));
  }
  // Data in `from`'s layout at src, wanted in `to`'s: returns where it is in `to`'s layout, dst when a
  // reorder ran, else src itself.
  void* run(const void* src, void* dst, const dnnl::engine& e, dnnl::stream& s) const {
    if (!primitive) return const_cast<void*>(src);
    dnnl::memory a(from, e, const_cast<void*>(src)), b(to, e, dst);
    primitive->execute(s, a, b);
    return dst;
  }
};

using Key = std::array<std::int64_t, 29>;

Key key_of(const ConvBlockPlan& b) {
  const ConvPlan& p = b.conv;
  const PoolPlan& q = b.pool;
  return {p.n, p.c, p.h, p.w, p.k, p.r, p.s, p.p, p.q, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dil_h, p.dil_w, p.groups,
          q.kh, q.kw, q.stride_h, q.stride_w, q.pad_h, q.pad_w, q.dil_h, q.dil_w, q.p, q.q, b.training ? 1 : 0,
          b.input_gradient ? 1 : 0, std::bit_cast<std::int64_t>(b.eps)};  // eps is built into the batch norm primitives
}

struct Block {
  bool training = true, pool = false;
  md plain_out, stat;  // the block's output as plain NCHW; a [K] vector
  md src, dst, pool_dst;  // the primitives' layouts: conv source, conv (and batch norm) output, pool output
  md bn_workspace, pool_workspace;
  dnnl::convolution_forward conv;
  dnnl::batch_normalization_forward bn;
  dnnl::pooling_forward pooling;
  Reorder x_in, w_in, out;  // x and w into the convolution's layouts; the block's output to plain
  // Training only.
  dnnl::pooling_backward pooling_backward;
  dnnl::batch_normalization_backward bn_backward;
  dnnl::convolution_backward_weights conv_weights;
  dnnl::convolution_backward_data conv_data;
  Reorder gy_in, gw_out, w_for_data, gx_out;
  // Scratch, one call at a time (calls hold the runtime's lock).
  dnnl::memory w_fwd, w_bwd, bn_out, block_out, x_eval, conv_eval, g_out, g_bn, g_conv, gw_inner, gx_inner;
  std::vector<float> w_folded, bias_folded;  // eval: the weights and bias with the batch norm folded in
  // Training with a 2x2 pool on a blocked layout: batch norm, ReLU and pool as tinynn's loops.
  std::optional<BlockedBnPool> tail;
  BlockedBnPoolScratch tail_scratch;
  ConvBlockSizes sizes;  // sizes_of(the block, its plan)
};

// The plan of tinynn's own batch norm + ReLU + pool loops, when they take the block: training, a
// 2x2 max pool of stride 2 without padding, the convolution's output in nChw16c or nChw8c.
std::optional<BlockedBnPool> own_tail(const ConvBlockPlan& b, const md& conv_dst) {
  const ConvPlan& p = b.conv;
  const PoolPlan& q = b.pool;
  if (!b.training || q.kh != 2 || q.kw != 2 || q.stride_h != 2 || q.stride_w != 2 || q.pad_h != 0 || q.pad_w != 0 ||
      q.dil_h != 1 || q.dil_w != 1 || 2 * q.p > p.p || 2 * q.q > p.q)
    return std::nullopt;
  for (const auto& [layout, lanes] : {std::pair{tag::nChw16c, 16}, std::pair{tag::nChw8c, 8}})
    if (conv_dst == md({p.n, p.k, p.p, p.q}, dt::f32, layout)) {
      BlockedBnPool t;
      t.n = p.n, t.k = p.k, t.h = p.p, t.w = p.q, t.p = q.p, t.q = q.q, t.block = lanes, t.eps = b.eps;
      t.patches = patch_plan(p);
      t.linear = patches_fit(p);
      t.own_conv = t.linear && !b.input_gradient;
      return t;
    }
  return std::nullopt;
}

std::unique_ptr<Block> create(const ConvBlockPlan& b, const dnnl::engine& e) {
  const ConvPlan& p = b.conv;
  const ConvDescs d = conv_descs(p);
  auto block = std::make_unique<Block>();
  Block& k = *block;
  k.training = b.training;
  k.pool = b.pool.kh > 0;
  k.stat = md({p.k}, dt::f32, tag::x);
  const auto prop = b.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;

  // In eval the batch norm is a per-channel affine map: folded into the convolution's weights and
  // bias (at each call, from the running statistics), with the ReLU as the convolution's post-op.
  dnnl::primitive_attr attr;
  if (!b.training) {
    dnnl::post_ops relu;
    relu.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(relu);
  }
  const dnnl::convolution_forward::primitive_desc conv_pd(
      {prop, d.algorithm, d.any_src, d.any_weights, d.bias, d.any_dst, d.strides, d.dilates, d.pad_l, d.pad_r}, attr, e);
  k.conv = dnnl::convolution_forward(conv_pd);
  k.src = conv_pd.src_desc(), k.dst = conv_pd.dst_desc();
  k.x_in = Reorder(d.src, k.src, e);
  k.w_in = Reorder(d.weights, conv_pd.weights_desc(), e);
  k.w_fwd = dnnl::memory(conv_pd.weights_desc(), e);

  const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift |
                     dnnl::normalization_flags::fuse_norm_relu;
  k.tail = own_tail(b, k.dst);
  if (k.tail) {
    ++g_own_tails;
    if (k.tail->linear) ++g_linear_tails;
    k.tail_scratch.reserve(*k.tail);
    k.plain_out = md({p.n, p.k, b.pool.p, b.pool.q}, dt::f32, tag::nchw);
  }
  dnnl::batch_normalization_forward::primitive_desc bn_pd;
  if (k.tail) {
    // the loops need none of the batch norm's or the pool's primitives
  } else if (b.training) {
    bn_pd = dnnl::batch_normalization_forward::primitive_desc({prop, k.dst, static_cast<float>(b.eps), flags}, e);
    k.bn = dnnl::batch_normalization_forward(bn_pd);
    k.bn_workspace = bn_pd.workspace_desc();
    k.bn_out = dnnl::memory(k.dst, e);
  } else {
    k.w_folded.resize(d.weights.get_size() / sizeof(float));
    k.bias_folded.resize(static_cast<std::size_t>(p.k));
  }

  dnnl::pooling_forward::primitive_desc pool_pd;
  const PoolPlan& q = b.pool;
  if (k.tail) {
    k.pool_dst = k.plain_out;
  } else if (k.pool) {
    const dims pool_dims{p.n, p.k, q.p, q.q}, strides{q.stride_h, q.stride_w}, kernel{q.kh, q.kw}, pad_l{q.pad_h, q.pad_w};
    const dims pad_r{(q.p - 1) * q.stride_h + q.kh - q.h - q.pad_h, (q.q - 1) * q.stride_w + q.kw - q.w - q.pad_w};
    pool_pd = dnnl::pooling_forward::primitive_desc(
        {prop, dnnl::algorithm::pooling_max, k.dst, md(pool_dims, dt::f32, tag::any), strides, kernel, pad_l, pad_r}, e);
    k.pooling = dnnl::pooling_forward(pool_pd);
    k.pool_dst = pool_pd.dst_desc();
    k.pool_workspace = pool_pd.workspace_desc();
    k.plain_out = md(pool_dims, dt::f32, tag::nchw);
    if (b.training) {
      const dnnl::pooling_backward::primitive_desc back_pd(
          {dnnl::algorithm::pooling_max, k.dst, k.pool_dst, strides, kernel, pad_l, pad_r}, e, pool_pd);
      k.pooling_backward = dnnl::pooling_backward(back_pd);
    }
  } else {
    k.pool_dst = k.dst;
    k.plain_out = d.dst;
  }
  k.out = Reorder(k.pool_dst, k.plain_out, e);
  k.block_out = dnnl::memory(k.pool_dst, e);
  if (!b.training) {
    k.x_eval = dnnl::memory(k.src, e);
    k.conv_eval = dnnl::memory(k.dst, e);
    return block;
  }

  // Backward: every gradient between the primitives stays in the output layout `dst`.
  // (A first layer computing its own convolution never has a convolution gradient: no buffer.)
  if (!k.tail || !k.tail->own_conv) k.g_conv = dnnl::memory(k.dst, e);
  if (!k.tail) {
    k.gy_in = Reorder(k.plain_out, k.pool_dst, e);
    k.g_out = dnnl::memory(k.pool_dst, e);
    k.g_bn = dnnl::memory(k.dst, e);
    const dnnl::batch_normalization_backward::primitive_desc bn_back_pd(
        {dnnl::prop_kind::backward, k.dst, k.dst, static_cast<float>(b.eps), flags}, e, bn_pd);
    k.bn_backward = dnnl::batch_normalization_backward(bn_back_pd);
  }

  const dnnl::convolution_backward_weights::primitive_desc weights_pd(
      {d.algorithm, k.src, d.any_weights, d.any_bias, k.dst, d.strides, d.dilates, d.pad_l, d.pad_r}, e, conv_pd);
  k.conv_weights = dnnl::convolution_backward_weights(weights_pd);
  k.gw_out = Reorder(weights_pd.diff_weights_desc(), d.weights, e);
  k.gw_inner = dnnl::memory(weights_pd.diff_weights_desc(), e);
  if (weights_pd.diff_bias_desc() != k.stat) throw dnnl::error(dnnl_unimplemented, "conv block: a blocked bias gradient");

  const dnnl::convolution_backward_data::primitive_desc data_pd(
      {d.algorithm, d.any_src, d.any_weights, k.dst, d.strides, d.dilates, d.pad_l, d.pad_r}, e, conv_pd);
  k.conv_data = dnnl::convolution_backward_data(data_pd);
  k.w_for_data = Reorder(d.weights, data_pd.weights_desc(), e);
  k.w_bwd = dnnl::memory(data_pd.weights_desc(), e);
  k.gx_out = Reorder(data_pd.diff_src_desc(), d.src, e);
  k.gx_inner = dnnl::memory(data_pd.diff_src_desc(), e);
  return block;
}

// What the caller keeps for the block's backward and which tensors it can pass blocked: fixed by
// the plan, worked out once when its entry is made.
ConvBlockSizes sizes_of(const Block& block, const ConvBlockPlan& plan) {
  ConvBlockSizes sizes;
  sizes.fused = true;
  if (!plan.training) return sizes;
  const bool own_conv = block.tail && block.tail->own_conv;  // no convolution output to keep
  sizes.saved[0] = block.x_in.primitive && !own_conv ? static_cast<std::int64_t>(block.src.get_size()) : 0;
  sizes.saved[1] = own_conv ? 0 : static_cast<std::int64_t>(block.dst.get_size());
  sizes.saved[2] = block.tail ? block.tail->where_bytes() * 4 : static_cast<std::int64_t>(block.bn_workspace.get_size());
  sizes.saved[3] = block.tail   ? block.tail->where_bytes()
                   : block.pool ? static_cast<std::int64_t>(block.pool_workspace.get_size())
                                : 0;
  sizes.saved[4] = block.tail && block.tail->linear ? PatchMoments::bytes(block.tail->patches) : 0;
  // The channel-blocked layout of the loops' lanes (without the loops, of the convolution's source)
  // in place of reorders: x and its gradient where the convolution's source and the input gradient
  // are in it; y and its gradient where the loops write and read them (every channel in a full block).
  const dims x_dims{plan.conv.n, plan.conv.c, plan.conv.h, plan.conv.w};
  const std::int64_t lanes = block.tail                                   ? block.tail->block
                             : block.src == md(x_dims, dt::f32, tag::nChw8c) ? 8
                                                                           : 16;
  const md x_blocked(x_dims, dt::f32, lanes == 16 ? tag::nChw16c : tag::nChw8c);
  sizes.lanes = static_cast<int>(lanes);
  sizes.blocked_x = block.src == x_blocked;
  sizes.blocked_gx = plan.input_gradient && block.gx_inner.get_desc() == x_blocked;
  sizes.blocked_y = sizes.blocked_gy = block.tail && plan.conv.k % lanes == 0;
  return sizes;
}

std::unordered_map<Key, std::unique_ptr<Block>, ArrayKeyHash>& cache() {
  static std::unordered_map<Key, std::unique_ptr<Block>, ArrayKeyHash> c;
  return c;
}

// The plan's entry, created once; null when oneDNN cannot run it. Call with the runtime locked.
Block* find(const ConvBlockPlan& plan, OnednnRuntime& rt) {
  const Key key = key_of(plan);
  auto it = cache().find(key);
  if (it == cache().end()) {
    std::unique_ptr<Block> block;
    try {
      block = create(plan, rt.engine);
      block->sizes = sizes_of(*block, plan);
    } catch (const dnnl::error&) {
      block = nullptr;  // remembered, so it is not retried
    }
    it = cache().emplace(key, std::move(block)).first;
  }
  return it->second.get();
}

Block& entry(const ConvBlockPlan& plan, OnednnRuntime& rt) {
  Block* block = find(plan, rt);
  if (block == nullptr) throw dnnl::error(dnnl_unimplemented, "conv block: not fused (conv_block_sizes says so)");
  return *block;
}

// Eval: relu(conv(x, w s) + (bias - mean) s + beta) with s = gamma / sqrt(var + eps) per output
// channel (the batch norm folded in), then the pool; nothing is kept.
void eval_forward(Block& k, const ConvBlockPlan& plan, float* y, const float* mean, const float* var, const float* x,
                  const float* w, const float* bias, const float* gamma, const float* beta, OnednnRuntime& rt) {
  const dnnl::engine& e = rt.engine;
  dnnl::stream& s = rt.stream;
  const std::int64_t channels = plan.conv.k, per_channel = static_cast<std::int64_t>(k.w_folded.size()) / channels;
  for (std::int64_t c = 0; c < channels; ++c) {
    const float scale = gamma[c] / std::sqrt(var[c] + static_cast<float>(plan.eps));
    for (std::int64_t i = c * per_channel; i < (c + 1) * per_channel; ++i) k.w_folded[i] = w[i] * scale;
    k.bias_folded[c] = (bias[c] - mean[c]) * scale + beta[c];
  }
  void* x_conv = k.x_in.run(x, k.x_eval.get_data_handle(), e, s);
  void* final_inner = k.out.primitive ? k.block_out.get_data_handle() : static_cast<void*>(y);
  dnnl::memory conv_out = k.pool ? k.conv_eval : dnnl::memory(k.dst, e, final_inner);
  k.conv.execute(s, {{DNNL_ARG_SRC, dnnl::memory(k.src, e, x_conv)},
                     {DNNL_ARG_WEIGHTS, dnnl::memory(k.w_fwd.get_desc(), e, k.w_in.run(k.w_folded.data(), k.w_fwd.get_data_handle(), e, s))},
                     {DNNL_ARG_BIAS, dnnl::memory(k.stat, e, k.bias_folded.data())},
                     {DNNL_ARG_DST, conv_out}});
  if (k.pool) k.pooling.execute(s, {{DNNL_ARG_SRC, conv_out}, {DNNL_ARG_DST, dnnl::memory(k.pool_dst, e, final_inner)}});
  k.out.run(final_inner, y, e, s);
  s.wait();
}

}  // namespace

void set_onednn_conv_block_enabled(bool enabled) { g_enabled = enabled; }
std::size_t onednn_conv_block_own_tail_plans() { return g_own_tails; }
std::size_t onednn_conv_block_linear_plans() { return g_linear_tails; }

ConvBlockSizes onednn_conv_block_sizes(const ConvBlockPlan& plan) {
  if (!g_enabled || plan.conv.n == 0 || plan.conv.c == 0 || plan.conv.k == 0) return {};
  OnednnRuntime& rt = onednn_runtime();
  std::lock_guard<std::mutex> lock(rt.mutex);
  const Block* block = find(plan, rt);
  return block != nullptr ? block->sizes : ConvBlockSizes{};
}

void onednn_conv_block_forward(const ConvBlockPlan& plan, float* y, float* mean, float* var, void* const* saved,
                               const float* x, const float* w, const float* bias, const float* gamma, const float* beta,
                               const ChannelBlockedArgs& blocked) {
  float* y_blocked = static_cast<float*>(blocked.y);
  OnednnRuntime& rt = onednn_runtime();
  std::lock_guard<std::mutex> lock(rt.mutex);
  Block& k = entry(plan, rt);
  if (y_blocked != nullptr && !k.tail)  // only the loops write it (conv_block_sizes says so)
    throw dnnl::error(dnnl_invalid_arguments, "conv block: a blocked output from a plan without the loops");
  if (!k.training) return eval_forward(k, plan, y, mean, var, x, w, bias, gamma, beta, rt);
  if (k.tail && k.tail->linear) k.tail_scratch.moments.place(k.tail->patches, saved[4]);
  if (k.tail && k.tail->own_conv) {  // a first layer: the loops compute the convolution too
    bn_relu_pool_forward(*k.tail, k.tail_scratch, nullptr, gamma, beta, mean, var, y, y_blocked,
                         static_cast<std::uint8_t*>(saved[3]), static_cast<float*>(saved[2]), x, w, bias);
    return;
  }
  const dnnl::engine& e = rt.engine;
  dnnl::stream& s = rt.stream;
  void* x_conv = blocked.x != nullptr ? const_cast<void*>(blocked.x) : k.x_in.run(x, saved[0], e, s);
  void* conv_out = saved[1];
  dnnl::memory src(k.src, e, x_conv), out(k.dst, e, conv_out);
  dnnl::memory weights(k.w_fwd.get_desc(), e, k.w_in.run(w, k.w_fwd.get_data_handle(), e, s));
  dnnl::memory b(k.stat, e, const_cast<float*>(bias));
  k.conv.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, out}});
  if (k.tail) {
    s.wait();
    bn_relu_pool_forward(*k.tail, k.tail_scratch, static_cast<const float*>(conv_out), gamma, beta, mean, var, y, y_blocked,
                         static_cast<std::uint8_t*>(saved[3]), static_cast<float*>(saved[2]), x, w, bias);
    return;
  }
  // ReLU(batch norm), then the pool, into the block's output layout; then plain NCHW in y.
  void* final_inner = k.out.primitive ? k.block_out.get_data_handle() : static_cast<void*>(y);
  dnnl::memory bn_dst = k.pool ? k.bn_out : dnnl::memory(k.dst, e, final_inner);
  dnnl::memory scale(k.stat, e, const_cast<float*>(gamma)), shift(k.stat, e, const_cast<float*>(beta));
  dnnl::memory m(k.stat, e, mean), v(k.stat, e, var);
  k.bn.execute(s, {{DNNL_ARG_SRC, out},
                   {DNNL_ARG_DST, bn_dst},
                   {DNNL_ARG_SCALE, scale},
                   {DNNL_ARG_SHIFT, shift},
                   {DNNL_ARG_MEAN, m},
                   {DNNL_ARG_VARIANCE, v},
                   {DNNL_ARG_WORKSPACE, dnnl::memory(k.bn_workspace, e, saved[2])}});
  if (k.pool)
    k.pooling.execute(s, {{DNNL_ARG_SRC, k.bn_out},
                          {DNNL_ARG_DST, dnnl::memory(k.pool_dst, e, final_inner)},
                          {DNNL_ARG_WORKSPACE, dnnl::memory(k.pool_workspace, e, saved[3])}});
  k.out.run(final_inner, y, e, s);
  s.wait();
}

void onednn_conv_block_backward(const ConvBlockPlan& plan, float* gx, float* gw, float* gbias, float* ggamma, float* gbeta,
                                const float* gy, const void* const* saved, const float* mean, const float* var, const float* x,
                                const float* w, const float* gamma, const float* beta, const ChannelBlockedArgs& blocked) {
  OnednnRuntime& rt = onednn_runtime();
  std::lock_guard<std::mutex> lock(rt.mutex);
  Block& k = entry(plan, rt);
  const dnnl::engine& e = rt.engine;
  dnnl::stream& s = rt.stream;
  const auto* gy_blocked = static_cast<const float*>(blocked.gy);
  if (gy_blocked != nullptr && !k.tail)  // only the loops read it (conv_block_sizes says so)
    throw dnnl::error(dnnl_invalid_arguments, "conv block: a blocked output gradient to a plan without the loops");
  const bool want_gx = gx != nullptr || blocked.gx != nullptr;
  if (k.tail && k.tail->own_conv && want_gx)
    throw dnnl::error(dnnl_invalid_arguments, "conv block: an input gradient from a plan made without one (input_gradient)");
  if (k.tail && k.tail->linear && !want_gx) {
    // A first layer: its weight gradient from the input's patches, no convolution pass at all.
    k.tail_scratch.moments.place(k.tail->patches, const_cast<void*>(saved[4]));  // read only
    bn_relu_pool_weight_backward(*k.tail, k.tail_scratch, w, mean, var, gamma, gy, gy_blocked,
                                 static_cast<const std::uint8_t*>(saved[3]), static_cast<const float*>(saved[2]), gw, gbias,
                                 ggamma, gbeta);
    return;
  }
  if (k.tail) {
    bn_relu_pool_backward(*k.tail, k.tail_scratch, static_cast<const float*>(saved[1]), mean, var, gamma, gy, gy_blocked,
                          static_cast<const std::uint8_t*>(saved[3]), static_cast<const float*>(saved[2]),
                          static_cast<float*>(k.g_conv.get_data_handle()),
                          ggamma, gbeta);
  } else {
    // gy into the output layout, back through the pool (its workspace routes each window's
    // gradient to its maximum), then through ReLU and the batch norm.
    void* g_in = k.gy_in.run(gy, k.g_out.get_data_handle(), e, s);
    dnnl::memory g_bn = k.g_bn;
    if (k.pool) {
      k.pooling_backward.execute(s, {{DNNL_ARG_DIFF_DST, dnnl::memory(k.pool_dst, e, g_in)},
                                     {DNNL_ARG_WORKSPACE, dnnl::memory(k.pool_workspace, e, const_cast<void*>(saved[3]))},
                                     {DNNL_ARG_DIFF_SRC, g_bn}});
    } else {
      g_bn = dnnl::memory(k.dst, e, g_in);
    }
    dnnl::memory conv_out(k.dst, e, const_cast<void*>(saved[1]));
    k.bn_backward.execute(s, {{DNNL_ARG_SRC, conv_out},
                              {DNNL_ARG_MEAN, dnnl::memory(k.stat, e, const_cast<float*>(mean))},
                              {DNNL_ARG_VARIANCE, dnnl::memory(k.stat, e, const_cast<float*>(var))},
                              {DNNL_ARG_DIFF_DST, g_bn},
                              {DNNL_ARG_SCALE, dnnl::memory(k.stat, e, const_cast<float*>(gamma))},
                              {DNNL_ARG_SHIFT, dnnl::memory(k.stat, e, const_cast<float*>(beta))},  // read with fused ReLU
                              {DNNL_ARG_WORKSPACE, dnnl::memory(k.bn_workspace, e, const_cast<void*>(saved[2]))},
                              {DNNL_ARG_DIFF_SRC, k.g_conv},
                              {DNNL_ARG_DIFF_SCALE, dnnl::memory(k.stat, e, ggamma)},
                              {DNNL_ARG_DIFF_SHIFT, dnnl::memory(k.stat, e, gbeta)}});
  }
  // The convolution's weight and bias gradients, and its input's.
  const void* x_conv = blocked.x != nullptr ? blocked.x : k.x_in.primitive ? saved[0] : static_cast<const void*>(x);
  void* gw_inner = k.gw_out.primitive ? k.gw_inner.get_data_handle() : static_cast<void*>(gw);
  k.conv_weights.execute(s, {{DNNL_ARG_SRC, dnnl::memory(k.src, e, const_cast<void*>(x_conv))},
                             {DNNL_ARG_DIFF_DST, k.g_conv},
                             {DNNL_ARG_DIFF_WEIGHTS, dnnl::memory(k.gw_inner.get_desc(), e, gw_inner)},
                             {DNNL_ARG_DIFF_BIAS, dnnl::memory(k.stat, e, gbias)}});
  k.gw_out.run(gw_inner, gw, e, s);
  if (want_gx) {
    void* gx_inner = blocked.gx != nullptr  ? blocked.gx
                     : k.gx_out.primitive ? k.gx_inner.get_data_handle()
                                          : static_cast<void*>(gx);
    k.conv_data.execute(s, {{DNNL_ARG_DIFF_DST, k.g_conv},
                            {DNNL_ARG_WEIGHTS, dnnl::memory(k.w_bwd.get_desc(), e, k.w_for_data.run(w, k.w_bwd.get_data_handle(), e, s))},
                            {DNNL_ARG_DIFF_SRC, dnnl::memory(k.gx_inner.get_desc(), e, gx_inner)}});
    if (blocked.gx == nullptr) k.gx_out.run(gx_inner, gx, e, s);
  }
  s.wait();
}

}  // namespace tinynn::cpu
