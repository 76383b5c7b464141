// The image ops of the shipped CNN configs: each convolution pass through tinynn::conv2d against
// the oneDNN primitive for it (the algorithm and, for backward data, the layouts tinynn picks;
// where tinynn runs its own loops, the 1 -> 32 forward and weight gradient, the primitive it
// stands in for) called directly, twice: each side with its data already in the layouts it takes
// (oneDNN's picks; tinynn's channel-blocked twins, as convolutions in a row leave them, its output
// left so), and as a caller holding NCHW tensors must call it (oneDNN: reorders in and out by its
// own reorder primitives, weights included, as they change every step; tinynn: plain inputs, its
// output read as plain after the pass). Then the conv blocks, the step floors, pooling and batch
// norm on their own. Prints one TSV line per measurement:
//   name <tab> shape <tab> tinynn_ms <tab> direct_ms (or -) <tab> direct / tinynn
#include <dnnl.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <tinynn/core/backend.h>
#include <tinynn/core/detail/channel_blocked.h>
#include <tinynn/core/detail/window_ops.h>
#include <tinynn/tinynn.h>

#include "../kernels/cpu/onednn_conv.h"
#include "bench_util.h"
#include "onednn_direct.h"

using namespace tinynn;

namespace {

struct ConvShape {
  std::int64_t n, c, h, w, k, r, pad;
};

std::string shape_text(const ConvShape& s) {
  return std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w) + " k" +
         std::to_string(s.k) + " " + std::to_string(s.r) + "x" + std::to_string(s.r) + " pad " + std::to_string(s.pad);
}

// oneDNN memory filled with ordinary values through a reorder from a plain buffer (which keeps a
// blocked layout's padding zero, as oneDNN requires); as allocated it may hold anything, and NaNs
// or subnormals take slow paths. Workspaces (not float32) start at zero; the forward writes them.
dnnl::memory filled_memory(const dnnl::memory::desc& d, const dnnl::engine& engine) {
  dnnl::memory m(d, engine);
  if (d.data_type() != dnnl::memory::data_type::f32) {
    std::memset(m.get_data_handle(), 0, d.get_size());
    return m;
  }
  const dnnl::memory::dims dims = d.dims();
  dnnl::memory::dims strides(dims.size(), 1);
  for (std::size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
  dnnl::memory plain({dims, dnnl::memory::data_type::f32, strides}, engine);
  auto* p = static_cast<float*>(plain.get_data_handle());
  const std::size_t n = plain.get_desc().get_size() / sizeof(float);
  for (std::size_t i = 0; i < n; ++i) p[i] = 0.25f + 0.01f * static_cast<float>(i % 17);
  dnnl::stream stream(engine);
  dnnl::reorder(plain, m).execute(stream, plain, m);
  stream.wait();
  return m;
}

// The shape's plan (stride 1, the output as large as the padding allows).
ConvPlan plan_of(const ConvShape& s) {
  ConvPlan plan;
  plan.n = s.n, plan.c = s.c, plan.h = s.h, plan.w = s.w, plan.k = s.k, plan.r = plan.s = s.r;
  plan.p = s.h + 2 * s.pad - s.r + 1, plan.q = s.w + 2 * s.pad - s.r + 1, plan.pad_h = plan.pad_w = s.pad;
  return plan;
}

// The algorithm tinynn's convolutions pick for the shape (ConvDescs::algorithm).
dnnl::algorithm tinynn_algorithm(const ConvShape& s) { return cpu::conv_descs(plan_of(s)).algorithm; }

// One argument of a primitive as a caller holding a plain NCHW/OIHW tensor passes it: the plain
// memory and, where the primitive wants another layout, the reorder into (or out of) it.
struct PlainArg {
  PlainArg(const dnnl::memory& inner, bool output, const dnnl::engine& engine) : inner(inner), output(output) {
    const dnnl::memory::desc& d = inner.get_desc();
    const dnnl::memory::dims dims = d.dims();
    dnnl::memory::dims strides(dims.size(), 1);
    for (std::size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
    const dnnl::memory::desc plain_desc(dims, dnnl::memory::data_type::f32, strides);
    if (plain_desc == d) return;
    plain = filled_memory(plain_desc, engine);
    reorder = output ? dnnl::reorder(inner, plain) : dnnl::reorder(plain, inner);
  }
  void run(dnnl::stream& stream) {
    if (!reorder) return;
    if (output) reorder.execute(stream, inner, plain);
    else reorder.execute(stream, plain, inner);
  }
  dnnl::memory inner, plain;
  bool output;
  dnnl::reorder reorder;
};

// The three passes of one convolution, created with format `any` and run on memory in the
// chosen layouts: what oneDNN itself can do for this shape; and each again with the reorders a
// caller holding plain tensors runs around it.
struct DirectConv {
  explicit DirectConv(const ConvShape& s, dnnl::algorithm alg) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const std::int64_t p = s.h + 2 * s.pad - s.r + 1, q = s.w + 2 * s.pad - s.r + 1;
    const dnnl::memory::desc src({s.n, s.c, s.h, s.w}, dt::f32, tag::any), wei({s.k, s.c, s.r, s.r}, dt::f32, tag::any),
        bias({s.k}, dt::f32, tag::any), dst({s.n, s.k, p, q}, dt::f32, tag::any);
    const dnnl::memory::dims strides{1, 1}, dil{0, 0}, pad{s.pad, s.pad};
    const dnnl::convolution_forward::primitive_desc fwd(
        {dnnl::prop_kind::forward_training, alg, src, wei, bias, dst, strides, dil, pad, pad}, engine);
    // Backward data of a few-channel input is fastest on plain NCHW (as tinynn picks it).
    const bool plain = s.c < 8;
    const dnnl::memory::desc src_nchw({s.n, s.c, s.h, s.w}, dt::f32, tag::nchw), dst_nchw({s.n, s.k, p, q}, dt::f32, tag::nchw);
    const dnnl::convolution_backward_data::primitive_desc bwd_data(
        {alg, plain ? src_nchw : src, wei, plain ? dst_nchw : dst, strides, dil, pad, pad}, engine, fwd);
    const dnnl::convolution_backward_weights::primitive_desc bwd_w({alg, src, wei, dst, strides, dil, pad, pad}, engine, fwd);
    forward = dnnl::convolution_forward(fwd);
    backward_data = dnnl::convolution_backward_data(bwd_data);
    backward_weights = dnnl::convolution_backward_weights(bwd_w);
    x = filled_memory(fwd.src_desc(), engine), w = filled_memory(fwd.weights_desc(), engine);
    b = filled_memory(fwd.bias_desc(), engine), y = filled_memory(fwd.dst_desc(), engine);
    gx = filled_memory(bwd_data.diff_src_desc(), engine), gy = filled_memory(bwd_data.diff_dst_desc(), engine);
    gw = filled_memory(bwd_w.diff_weights_desc(), engine), gyw = filled_memory(bwd_w.diff_dst_desc(), engine);
    xw = filled_memory(bwd_w.src_desc(), engine), wd = filled_memory(bwd_data.weights_desc(), engine);
    forward_plain = {{x, false, engine}, {w, false, engine}, {y, true, engine}};
    backward_data_plain = {{gy, false, engine}, {wd, false, engine}, {gx, true, engine}};
    backward_weights_plain = {{xw, false, engine}, {gyw, false, engine}, {gw, true, engine}};
  }
  void run_forward(bool with_reorders = false) {
    around(with_reorders, forward_plain, [&] {
      forward.execute(stream, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, y}});
    });
  }
  void run_backward_data(bool with_reorders = false) {
    around(with_reorders, backward_data_plain, [&] {
      backward_data.execute(stream, {{DNNL_ARG_DIFF_DST, gy}, {DNNL_ARG_WEIGHTS, wd}, {DNNL_ARG_DIFF_SRC, gx}});
    });
  }
  void run_backward_weights(bool with_reorders = false) {
    around(with_reorders, backward_weights_plain, [&] {
      backward_weights.execute(stream, {{DNNL_ARG_SRC, xw}, {DNNL_ARG_DIFF_DST, gyw}, {DNNL_ARG_DIFF_WEIGHTS, gw}});
    });
  }
  // The pass, with the reorders into its inputs before it and out of its output after it.
  template <class Pass>
  void around(bool with_reorders, std::vector<PlainArg>& args, const Pass& pass) {
    if (with_reorders)
      for (PlainArg& a : args)
        if (!a.output) a.run(stream);
    pass();
    if (with_reorders)
      for (PlainArg& a : args)
        if (a.output) a.run(stream);
    stream.wait();
  }
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::primitive forward, backward_data, backward_weights;
  dnnl::memory x, w, b, y, gx, gy, gw, gyw, xw, wd;  // wd: the weights in backward data's layout
  std::vector<PlainArg> forward_plain, backward_data_plain, backward_weights_plain;
};

// One conv block (conv -> batch norm with ReLU -> 2x2 max pool) as oneDNN's primitives chained on
// the layouts they chose, forward and backward, with no reorder at all: the floor of conv_block.
// The convolutions with the algorithm conv_block picks (tinynn_algorithm).

struct DirectBlock {
  explicit DirectBlock(const ConvShape& s) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const std::int64_t p = s.h + 2 * s.pad - s.r + 1, q = s.w + 2 * s.pad - s.r + 1;
    const dnnl::memory::desc src({s.n, s.c, s.h, s.w}, dt::f32, tag::any), wei({s.k, s.c, s.r, s.r}, dt::f32, tag::any),
        bias({s.k}, dt::f32, tag::x), dst({s.n, s.k, p, q}, dt::f32, tag::any), stat({s.k}, dt::f32, tag::x);
    const dnnl::memory::dims strides{1, 1}, dil{0, 0}, pad{s.pad, s.pad}, two{2, 2}, zero{0, 0};
    const auto alg = tinynn_algorithm(s);
    const dnnl::convolution_forward::primitive_desc fwd(
        {dnnl::prop_kind::forward_training, alg, src, wei, bias, dst, strides, dil, pad, pad}, engine);
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift |
                       dnnl::normalization_flags::fuse_norm_relu;
    const dnnl::batch_normalization_forward::primitive_desc bn({dnnl::prop_kind::forward_training, fwd.dst_desc(), 1e-5f, flags},
                                                               engine);
    const dnnl::memory::desc pooled({s.n, s.k, p / 2, q / 2}, dt::f32, tag::any);
    const dnnl::pooling_forward::primitive_desc pool(
        {dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max, fwd.dst_desc(), pooled, two, two, zero, zero}, engine);
    const dnnl::pooling_backward::primitive_desc pool_back(
        {dnnl::algorithm::pooling_max, fwd.dst_desc(), pool.dst_desc(), two, two, zero, zero}, engine, pool);
    const dnnl::batch_normalization_backward::primitive_desc bn_back(
        {dnnl::prop_kind::backward, fwd.dst_desc(), fwd.dst_desc(), 1e-5f, flags}, engine, bn);
    const dnnl::convolution_backward_weights::primitive_desc bww(
        {alg, fwd.src_desc(), wei, bias, fwd.dst_desc(), strides, dil, pad, pad}, engine, fwd);
    const dnnl::convolution_backward_data::primitive_desc bwd({alg, src, wei, fwd.dst_desc(), strides, dil, pad, pad}, engine, fwd);
    auto mem = [&](const dnnl::memory::desc& d) { return filled_memory(d, engine); };
    const dnnl::memory x = mem(fwd.src_desc()), w = mem(fwd.weights_desc()), b = mem(stat), y = mem(fwd.dst_desc()),
                       z = mem(fwd.dst_desc()), out = mem(pool.dst_desc()), mean = mem(stat), var = mem(stat), gamma = mem(stat),
                       beta = mem(stat), bn_ws = mem(bn.workspace_desc()), pool_ws = mem(pool.workspace_desc()),
                       g_out = mem(pool.dst_desc()), g_z = mem(fwd.dst_desc()), g_y = mem(fwd.dst_desc()),
                       g_w = mem(bww.diff_weights_desc()), g_b = mem(stat), g_gamma = mem(stat), g_beta = mem(stat),
                       w_data = mem(bwd.weights_desc()), g_x = mem(bwd.diff_src_desc());
    steps.push_back({dnnl::convolution_forward(fwd), {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, y}}});
    steps.push_back({dnnl::batch_normalization_forward(bn),
                     {{DNNL_ARG_SRC, y}, {DNNL_ARG_DST, z}, {DNNL_ARG_SCALE, gamma}, {DNNL_ARG_SHIFT, beta}, {DNNL_ARG_MEAN, mean},
                      {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_WORKSPACE, bn_ws}}});
    steps.push_back({dnnl::pooling_forward(pool), {{DNNL_ARG_SRC, z}, {DNNL_ARG_DST, out}, {DNNL_ARG_WORKSPACE, pool_ws}}});
    forward_steps = steps.size();
    steps.push_back({dnnl::pooling_backward(pool_back), {{DNNL_ARG_DIFF_DST, g_out}, {DNNL_ARG_WORKSPACE, pool_ws}, {DNNL_ARG_DIFF_SRC, g_z}}});
    steps.push_back({dnnl::batch_normalization_backward(bn_back),
                     {{DNNL_ARG_SRC, y}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_DIFF_DST, g_z},
                      {DNNL_ARG_SCALE, gamma}, {DNNL_ARG_SHIFT, beta}, {DNNL_ARG_WORKSPACE, bn_ws}, {DNNL_ARG_DIFF_SRC, g_y},
                      {DNNL_ARG_DIFF_SCALE, g_gamma}, {DNNL_ARG_DIFF_SHIFT, g_beta}}});
    steps.push_back({dnnl::convolution_backward_weights(bww),
                     {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, g_y}, {DNNL_ARG_DIFF_WEIGHTS, g_w}, {DNNL_ARG_DIFF_BIAS, g_b}}});
    if (s.c > 1)  // the first block's input needs no gradient
      steps.push_back({dnnl::convolution_backward_data(bwd), {{DNNL_ARG_DIFF_DST, g_y}, {DNNL_ARG_WEIGHTS, w_data}, {DNNL_ARG_DIFF_SRC, g_x}}});
  }
  void run() {
    for (auto& [primitive, args] : steps) primitive.execute(stream, args);
    stream.wait();
  }
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::vector<std::pair<dnnl::primitive, std::unordered_map<int, dnnl::memory>>> steps;
  std::size_t forward_steps = 0;
};

// A copy of t [N, C, H, W] that also holds its values in the channel-blocked layout of `lanes` lanes
// (core/detail/channel_blocked.h), as a convolution that wrote it leaves it; t itself where C is no
// multiple of the lanes (or there are none).
Tensor in_blocked_layout(const Tensor& t, int lanes) {
  const Shape& s = t.shape();
  if (lanes == 0 || s[1] % lanes != 0) return t;
  const Tensor copy = t.clone();
  const Tensor blocked = t.reshape({s[0], s[1] / lanes, lanes, s[2], s[3]}).permute({0, 1, 3, 4, 2}).contiguous();
  detail::set_channel_blocked(copy, blocked, true);
  return copy;
}

void report(const std::string& name, const std::string& shape, double tinynn_s, double direct_s) {
  if (direct_s > 0)
    std::printf("%s\t%s\t%.3f\t%.3f\t%.2f\n", name.c_str(), shape.c_str(), tinynn_s * 1e3, direct_s * 1e3, direct_s / tinynn_s);
  else
    std::printf("%s\t%s\t%.3f\t-\t-\n", name.c_str(), shape.c_str(), tinynn_s * 1e3);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::stoi(argv[1]) : 15;
  // The convolutions of configs/fashion_mnist_cnn.json and configs/mnist_cnn.json at batch 128.
  const ConvShape shapes[] = {{128, 1, 28, 28, 32, 3, 1}, {128, 32, 14, 14, 64, 3, 1}};
  Generator gen(0);
  for (const ConvShape& s : shapes) {
    const Tensor x = randn({s.n, s.c, s.h, s.w}, {}, &gen), w = randn({s.k, s.c, s.r, s.r}, {}, &gen), b = randn({s.k}, {}, &gen);
    const Tensor y = conv2d(x, w, b, {1, 1}, {s.pad, s.pad});
    const Tensor gy = randn(y.shape(), {}, &gen);
    const ConvPlan plan = plan_of(s);
    DirectConv direct(s, tinynn_algorithm(s));
    // x and gy as the convolution before or after leaves them: their values also in the layout
    // tinynn's passes take (where they take one), as the primitive's own layouts are for it.
    const int lanes = backend_for(Device::cpu()).conv2d_layouts(plan, DType::Float32, ConvPass::BackwardWeight, false).lanes;
    const Tensor x_in_layout = in_blocked_layout(x, lanes), gy_in_layout = in_blocked_layout(gy, lanes);
    // Each pass against the primitive on its own layouts (tinynn's inputs in its layouts, its output
    // left in its layout), then against a caller holding NCHW (tinynn's inputs plain, its output
    // read as plain NCHW after the pass: the reorders on both sides).
    auto pair = [&](const std::string& name, auto&& ours_in_layout, auto&& ours_plain, auto&& theirs) {
      const auto [t_direct, t_ours] = bench::interleaved_median_seconds([&] { theirs(false); }, ours_in_layout, rounds, 3);
      report(name, shape_text(s), t_ours, t_direct);
      const auto [t_plain, t_ours_plain] = bench::interleaved_median_seconds([&] { theirs(true); }, ours_plain, rounds, 3);
      report(name + " (NCHW in and out)", shape_text(s), t_ours_plain, t_plain);
    };
    pair(
        "conv2d forward", [&] { conv2d(x_in_layout, w, b, {1, 1}, {s.pad, s.pad}); },
        [&] { conv2d(x, w, b, {1, 1}, {s.pad, s.pad}).raw_data(); }, [&](bool plain) { direct.run_forward(plain); });
    pair(
        "conv2d backward data", [&] { detail::conv2d_backward_data(gy_in_layout, w, plan); },
        [&] { detail::conv2d_backward_data(gy, w, plan).raw_data(); }, [&](bool plain) { direct.run_backward_data(plain); });
    pair(
        "conv2d backward weight", [&] { detail::conv2d_backward_weight(x_in_layout, gy_in_layout, plan); },
        [&] { detail::conv2d_backward_weight(x, gy, plan); }, [&](bool plain) { direct.run_backward_weights(plain); });
  }
  // The shipped configs' blocks (conv -> batch norm -> ReLU -> max pool) through tinynn::conv_block,
  // forward and backward, against the same primitives chained directly.
  for (const ConvShape& s : shapes) {
    const Tensor x = randn({s.n, s.c, s.h, s.w}, {}, &gen);
    if (s.c > 1) Tensor(x).requires_grad_();
    const Tensor w = (randn({s.k, s.c, s.r, s.r}, {}, &gen) * 0.1).detach().requires_grad_();
    const Tensor b = zeros({s.k}).requires_grad_(), gamma = ones({s.k}).requires_grad_(), beta = zeros({s.k}).requires_grad_();
    const Tensor mean = zeros({s.k}), var = ones({s.k});
    ConvBlockOptions o;
    o.padding = {s.pad, s.pad}, o.pool_kernel = Size2{2, 2};
    const Tensor gy = randn(conv_block(x, w, b, mean, var, gamma, beta, o).shape(), {}, &gen);
    DirectBlock direct(s);
    const auto [t_direct, t_ours] = bench::interleaved_median_seconds(
        [&] { direct.run(); }, [&] { conv_block(x, w, b, mean, var, gamma, beta, o).backward(gy); }, rounds, 3);
    report("conv_block forward + backward", shape_text(s), t_ours, t_direct);
  }
  // The floor of one training step of configs/fashion_mnist_cnn.json at batch 128: its oneDNN
  // primitives called directly (conv1 forward and weight gradient, conv2 all three passes, the
  // dense layers' matmuls) with the algorithms conv_block's convolutions use (Winograd for conv2);
  // bench/bench_cnn_epoch.sh multiplies it by the steps of an epoch. Then the same with the direct
  // algorithm throughout (the floor as first measured).
  {
    bench::MlpMatmulFloor dense(128, {3136, 128, 10}, true);
    for (const bool as_block : {true, false}) {
      const auto direct = dnnl::algorithm::convolution_direct;
      DirectConv conv1(shapes[0], as_block ? tinynn_algorithm(shapes[0]) : direct),
          conv2(shapes[1], as_block ? tinynn_algorithm(shapes[1]) : direct);
      const double floor = bench::median_seconds(
          [&] {
            conv1.run_forward(), conv1.run_backward_weights();
            conv2.run_forward(), conv2.run_backward_data(), conv2.run_backward_weights();
            dense();
          },
          rounds, 3);
      std::printf("%s\tbatch 128\t%.3f\t-\t-\n", as_block ? "cnn_step_floor" : "cnn_step_floor_direct", floor * 1e3);
    }
    // The same with batch norm, ReLU and pooling as oneDNN primitives too (the two blocks chained
    // directly): what a step costs when everything but the loss runs at oneDNN's speed.
    DirectBlock block1(shapes[0]), block2(shapes[1]);
    const double all = bench::median_seconds([&] { block1.run(), block2.run(), dense(); }, rounds, 3);
    std::printf("cnn_step_all_primitives\tbatch 128\t%.3f\t-\t-\n", all * 1e3);
  }
  for (const Shape& s : {Shape{128, 32, 28, 28}, Shape{128, 64, 14, 14}}) {
    const Tensor x = randn(s, {}, &gen), weight = ones({s[1]}), bias = zeros({s[1]});
    const std::string text = shape_str(s);
    report("max_pool2d 2x2", text, bench::median_seconds([&] { max_pool2d(x, {2, 2}); }, rounds, 3), 0);
    report("batch_norm (training)", text,
           bench::median_seconds([&] { batch_norm(x, Tensor(), Tensor(), weight, bias, true); }, rounds, 3), 0);
    report("relu", text, bench::median_seconds([&] { relu(x); }, rounds, 3), 0);
    const Tensor xr = x.clone().requires_grad_();
    report("max_pool2d 2x2 forward+backward", text,
           bench::median_seconds([&] { sum(max_pool2d(xr, {2, 2})).backward(); }, rounds, 3), 0);
  }
}
