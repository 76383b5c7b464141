// conv2d, the pools and batch_norm: hand-computed values, oneDNN against the reference kernels on
// random shapes (strides, padding, dilation, groups, odd sizes, batch 1), the primitive cache, and
// an error for every shape rule. Gradients: tests/test_gradcheck.cpp and the PyTorch goldens
// (tests/test_conv_golden.cpp).
#include "test_helpers.h"

#include "../core/detail/window_ops.h"
#include "../kernels/cpu/conv_patches.h"
#ifdef TINYNN_HAVE_ONEDNN
#include "../kernels/cpu/onednn_conv.h"
#endif

using namespace tinynn;
using test::left_blocked;

namespace {

Tensor image(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  return arange(0, static_cast<double>(n * c * h * w), 1, {DType::Float32}).reshape({n, c, h, w});
}

}  // namespace

TEST_CASE("conv2d: hand-computed values with stride, padding, dilation, groups and bias", "[conv]") {
  // x = 0..15 in a 4x4 plane; a 2x2 kernel of ones sums each 2x2 block.
  const Tensor x = image(1, 1, 4, 4), ones2 = ones({1, 1, 2, 2});
  CHECK(equal(conv2d(x, ones2), tensor({{{{10.0f, 14.0f, 18.0f}, {26.0f, 30.0f, 34.0f}, {42.0f, 46.0f, 50.0f}}}})));
  CHECK(equal(conv2d(x, ones2, Tensor(), {2, 2}), tensor({{{{10.0f, 18.0f}, {42.0f, 50.0f}}}})));
  // Padding 1: the corner window holds only x[0, 0] = 0; the next one x[0, 0] + x[0, 1] = 1.
  const Tensor padded = conv2d(x, ones2, tensor({0.5f}), {3, 3}, {1, 1});
  CHECK(equal(padded, tensor({{{{0.5f, 5.5f}, {20.5f, 50.5f}}}})));
  // Dilation 2: a 2x2 kernel reads x[i, j] + x[i, j + 2] + x[i + 2, j] + x[i + 2, j + 2].
  CHECK(equal(conv2d(x, ones2, Tensor(), {1, 1}, {0, 0}, {2, 2}), tensor({{{{20.0f, 24.0f}, {36.0f, 40.0f}}}})));
  // Groups 2: output channel 0 reads input channel 0 only, channel 1 reads channel 1 (times 2).
  const Tensor two = image(1, 2, 2, 2), w = cat({ones({1, 1, 2, 2}), full({1, 1, 2, 2}, 2.0)}, 0);
  CHECK(equal(conv2d(two, w, Tensor(), {1, 1}, {0, 0}, {1, 1}, 2), tensor({{{{6.0f}}, {{44.0f}}}})));
  // An empty batch gives an empty output; float64 runs the reference kernel.
  CHECK(conv2d(zeros({0, 1, 4, 4}), ones2).shape() == Shape{0, 1, 3, 3});
  CHECK(equal(conv2d(x.to(DType::Float64), ones2.to(DType::Float64)), conv2d(x, ones2).to(DType::Float64)));
}

TEST_CASE("pooling: hand-computed values, ceil_mode, padding and count_include_pad", "[conv][pool]") {
  const Tensor x = image(1, 1, 4, 4);
  CHECK(equal(max_pool2d(x, {2, 2}), tensor({{{{5.0f, 7.0f}, {13.0f, 15.0f}}}})));
  CHECK(equal(avg_pool2d(x, {2, 2}), tensor({{{{2.5f, 4.5f}, {10.5f, 12.5f}}}})));
  // 3x3 windows at stride 2 on 4x4: one window without ceil_mode, two per axis with it (the second
  // starts at row 2 and holds rows 2..3).
  CHECK(max_pool2d(x, {3, 3}, Size2{2, 2}).shape() == Shape{1, 1, 1, 1});
  CHECK(equal(max_pool2d(x, {3, 3}, Size2{2, 2}, {0, 0}, {1, 1}, true), tensor({{{{10.0f, 11.0f}, {14.0f, 15.0f}}}})));
  // avg with padding 1, windows 2x2 at stride 2: the corner window covers x[0, 0] and three pads.
  CHECK(equal(avg_pool2d(x, {2, 2}, std::nullopt, {1, 1}).select(3, 0).flatten(), tensor({0.0f, 3.0f, 3.0f})));
  CHECK(equal(avg_pool2d(x, {2, 2}, std::nullopt, {1, 1}, false, false).select(3, 0).flatten(), tensor({0.0f, 6.0f, 12.0f})));
  CHECK(equal(adaptive_avg_pool2d(x, {1, 1}).flatten(), tensor({7.5f})));
  // Uneven: rows {0, 1}, {1, 2}, {2, 3} of a 4-row plane into 3 outputs; columns all.
  CHECK(equal(adaptive_avg_pool2d(x, {3, 1}).flatten(), tensor({3.5f, 7.5f, 11.5f})));
  // A NaN wins its window (as in PyTorch), in the 2x2 / stride 2 fast path and in the general one.
  Tensor with_nan = x.clone();
  with_nan.data_ptr<float>()[5] = NAN;
  // x[1, 1] lies in window (0, 0) of the first and window (1, 1) of the padded one (a 3x3 output).
  for (const auto& [pooled, at] : {std::pair{max_pool2d(with_nan, {2, 2}), 0}, {max_pool2d(with_nan, {2, 2}, Size2{2, 2}, {1, 1}), 4}}) {
    const auto v = pooled.to_vector<float>();
    CHECK(std::isnan(v[static_cast<std::size_t>(at)]));
    CHECK(std::count_if(v.begin(), v.end(), [](float f) { return std::isnan(f); }) == 1);
  }
  // Max pool's gradient goes to each window's winner.
  Tensor xg = x.clone().requires_grad_();
  sum(max_pool2d(xg, {2, 2})).backward();
  CHECK(equal(xg.grad().flatten(), tensor({0.0f, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1})));
}

TEST_CASE("2x2 / stride 2 max pool: float32's vector loop picks the same winners as the scalar one", "[conv][pool]") {
  // Widths with one partial vector of outputs (2, 5 and 27: odd, the last column unread), exactly
  // one (32), a full and a partial one (35), two (64); values from {0, 1, 2}, so most windows tie
  // (the first in row-major order wins). float64 runs the scalar loop.
  Generator gen(5);
  for (const std::int64_t width : {2, 5, 27, 32, 35, 64}) {
    INFO("width " << width);
    const Tensor x = randint(0, 3, {3, 2, 6, width}, {DType::Float64}, &gen);
    auto run = [&](DType t) {
      Tensor xt = x.to(t).detach().requires_grad_();
      const Tensor y = max_pool2d(xt, {2, 2});
      y.backward(arange(1, static_cast<double>(y.numel()) + 1, 1, {t}).reshape(y.shape()));  // a distinct weight a window
      return std::pair{y.detach(), xt.grad()};
    };
    const auto [y32, g32] = run(DType::Float32);
    const auto [y64, g64] = run(DType::Float64);
    CHECK(equal(y32.to(DType::Float64), y64));
    CHECK(equal(g32.to(DType::Float64), g64));
  }
}

TEST_CASE("oneDNN convolution matches the reference kernels, forward and both backward passes", "[conv]") {
  struct Case {
    Shape x, w;
    Size2 stride, padding, dilation;
    std::int64_t groups;
  };
  const std::vector<Case> cases = {
      {{2, 3, 9, 9}, {8, 3, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1},   {{1, 1, 28, 28}, {6, 1, 5, 5}, {1, 1}, {2, 2}, {1, 1}, 1},
      {{3, 4, 7, 5}, {6, 2, 3, 2}, {2, 1}, {1, 0}, {1, 1}, 2},   {{2, 6, 8, 8}, {6, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 6},
      {{1, 2, 10, 9}, {4, 2, 3, 3}, {3, 2}, {2, 1}, {2, 3}, 1},  {{2, 5, 6, 6}, {3, 5, 2, 1}, {1, 1}, {0, 0}, {1, 1}, 1},
      {{4, 16, 6, 6}, {32, 16, 3, 3}, {2, 2}, {1, 1}, {1, 1}, 1}, {{1, 3, 4, 3}, {2, 3, 6, 5}, {1, 1}, {1, 1}, {1, 1}, 1},
      // From 16 input channels a group oneDNN may pick Winograd (3x3, stride 1); with groups it has none.
      {{4, 16, 14, 14}, {32, 16, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1}, {{2, 32, 8, 8}, {16, 16, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 2},
  };
  Generator gen(7);
  for (const Case& c : cases) {
    INFO("input " << shape_str(c.x) << " weight " << shape_str(c.w) << " groups " << c.groups);
    const Tensor x = randn(c.x, {DType::Float64}, &gen), w = randn(c.w, {DType::Float64}, &gen);
    const Tensor b = randn({c.w[0]}, {DType::Float64}, &gen);
    // float64 runs the reference; float32 runs oneDNN (when built with it).
    auto run = [&](DType t) {
      Tensor xt = x.to(t).detach().requires_grad_(), wt = w.to(t).detach().requires_grad_(), bt = b.to(t).detach().requires_grad_();
      const Tensor y = conv2d(xt, wt, bt, c.stride, c.padding, c.dilation, c.groups);
      const Tensor g = cos(arange(0, static_cast<double>(y.numel()), 1, {t})).reshape(y.shape());
      y.backward(g);
      return std::vector<Tensor>{y.detach(), xt.grad(), wt.grad(), bt.grad()};
    };
    const auto ref = run(DType::Float64), fast = run(DType::Float32);
    for (std::size_t i = 0; i < ref.size(); ++i) {
      INFO("output " << i << " (y, d x, d w, d bias)");
      CHECK(allclose(fast[i].to(DType::Float64), ref[i], 1e-4, 1e-4));
    }
  }
}

TEST_CASE("conv2d of few taps runs on the patch loops (forward, weight gradient) and matches the reference", "[conv]") {
  struct Case {
    Shape x, w;
    Size2 padding;
  };
  // Output planes (P Q) that end in a partial vector of 16 (11 x 13, 20 x 37, 8 x 15, 3 x 4) or
  // whole ones (28 x 28, 16 x 16), and of fewer than 16 positions (1 x 1, 4 x 5 with padding wider
  // than the kernel); one to nine taps; one to nine input channels; odd and single output
  // channels; a batch large enough to be split between threads.
  const std::vector<Case> cases = {
      {{3, 1, 13, 11}, {5, 1, 3, 3}, {1, 1}}, {{2, 1, 20, 35}, {4, 1, 3, 3}, {0, 2}}, {{2, 2, 9, 16}, {3, 2, 2, 2}, {0, 0}},
      {{1, 1, 28, 28}, {32, 1, 3, 3}, {1, 1}}, {{2, 1, 16, 16}, {3, 1, 1, 1}, {0, 0}}, {{4, 9, 5, 5}, {2, 9, 1, 1}, {0, 0}},
      {{1, 1, 3, 4}, {2, 1, 3, 2}, {2, 1}}, {{2, 1, 3, 3}, {1, 1, 3, 3}, {0, 0}}, {{2, 1, 2, 3}, {3, 1, 1, 1}, {2, 2}},
      {{8, 1, 28, 28}, {32, 1, 3, 3}, {1, 1}},  // the last on all threads
      // Padding wider than the output (kernel wider than the padded input's middle), and output as
      // wide as the input with channels and padding on one side only, or a plane under 16 positions.
      {{1, 1, 4, 1}, {1, 1, 1, 6}, {0, 3}}, {{2, 3, 7, 10}, {4, 3, 1, 3}, {0, 1}}, {{2, 2, 5, 6}, {3, 2, 3, 1}, {1, 0}},
      {{2, 1, 3, 3}, {2, 1, 3, 3}, {1, 1}},
  };
  Generator gen(11);
  for (const Case& c : cases) {
    INFO("input " << shape_str(c.x) << " weight " << shape_str(c.w));
    const Tensor x = randn(c.x, {DType::Float64}, &gen), w = randn(c.w, {DType::Float64}, &gen);
    const Tensor b = randn({c.w[0]}, {DType::Float64}, &gen);
    const std::size_t before = cpu::patch_conv2d_calls();
    const Tensor fast = conv2d(x.to(DType::Float32), w.to(DType::Float32), b.to(DType::Float32), {1, 1}, c.padding);
    const Tensor no_bias = conv2d(x.to(DType::Float32), w.to(DType::Float32), Tensor(), {1, 1}, c.padding);
    const Tensor ref = conv2d(x, w, b, {1, 1}, c.padding);  // float64: the reference kernel
    const Tensor gy = randn(ref.shape(), {DType::Float64}, &gen);
    const ConvPlan plan = detail::conv_plan(x, w, b, {1, 1}, c.padding, {1, 1}, 1);
    const Tensor gw_fast = detail::conv2d_backward_weight(x.to(DType::Float32), gy.to(DType::Float32), plan);
    CHECK(cpu::patch_conv2d_calls() - before == 3);
    CHECK(allclose(fast.to(DType::Float64), ref, 1e-5, 1e-5));
    CHECK(allclose(no_bias.to(DType::Float64), conv2d(x, w, Tensor(), {1, 1}, c.padding), 1e-5, 1e-5));
    // Sums over up to 25 088 products: float lanes within an image, double across images.
    CHECK(allclose(gw_fast.to(DType::Float64), detail::conv2d_backward_weight(x, gy, plan), 1e-4, 1e-4));
  }
  // A NaN reaches the outputs whose windows hold it, and no other; and the weight gradient's taps
  // that see it (at row 3 of 5, unpadded: kernel rows 1 and 2), and no other, with 3 x 18 output
  // positions (not whole vectors: the lanes past them must stay clean too).
  Tensor x = zeros({1, 1, 5, 20});
  x.data_ptr<float>()[2 * 20 + 17] = NAN;
  const auto y = conv2d(x, ones({2, 1, 3, 3}), Tensor(), {1, 1}, {1, 1}).to_vector<float>();
  CHECK(std::count_if(y.begin(), y.end(), [](float v) { return std::isnan(v); }) == 2 * 9);
  {
    Tensor xn = randn({1, 1, 5, 20}, {}, &gen);
    xn.data_ptr<float>()[3 * 20 + 5] = NAN;
    const ConvPlan plan = detail::conv_plan(xn, ones({2, 1, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 1);
    const auto gw = detail::conv2d_backward_weight(xn, randn({1, 2, 3, 18}, {}, &gen), plan).to_vector<float>();
    for (std::size_t i = 0; i < gw.size(); ++i) {
      INFO("tap " << i % 9);
      CHECK(std::isnan(gw[i]) == (i % 9 >= 3));
    }
  }
  // The weight gradient's sums do not depend on the thread count.
  {
    const Tensor xt = randn({16, 1, 28, 28}, {}, &gen), gy = randn({16, 8, 28, 28}, {}, &gen);
    const ConvPlan plan = detail::conv_plan(xt, ones({8, 1, 3, 3}), Tensor(), {1, 1}, {1, 1}, {1, 1}, 1);
    const int threads = num_threads();
    set_num_threads(1);
    const Tensor one = detail::conv2d_backward_weight(xt, gy, plan);
    set_num_threads(threads);
    CHECK(equal(one, detail::conv2d_backward_weight(xt, gy, plan)));
  }
  // Stride, dilation, groups or more taps take the other kernels.
  const std::size_t before = cpu::patch_conv2d_calls();
  conv2d(randn({1, 1, 8, 8}), randn({2, 1, 3, 3}), Tensor(), {2, 2});
  conv2d(randn({1, 1, 8, 8}), randn({2, 1, 3, 3}), Tensor(), {1, 1}, {0, 0}, {2, 2});
  conv2d(randn({1, 2, 8, 8}), randn({2, 1, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 2);
  conv2d(randn({1, 2, 8, 8}), randn({2, 2, 3, 3}));
  conv2d(randn({1, 1, 8, 8}), zeros({2, 1, 0, 3}), Tensor(), {1, 1}, {1, 1});  // no taps at all
  CHECK(cpu::patch_conv2d_calls() == before);
}

#ifdef TINYNN_HAVE_ONEDNN
TEST_CASE("oneDNN convolution primitives are created once per shape", "[conv]") {
  const Tensor x = randn({2, 3, 8, 8}), w = randn({4, 3, 3, 3});
  conv2d(x, w, Tensor(), {1, 1}, {1, 1});
  const std::size_t after_first = cpu::onednn_conv_primitives_created();
  for (int i = 0; i < 3; ++i) conv2d(x, w, Tensor(), {1, 1}, {1, 1});
  CHECK(cpu::onednn_conv_primitives_created() == after_first);
  conv2d(randn({3, 3, 8, 8}), w, Tensor(), {1, 1}, {1, 1});  // another batch size: another primitive
  CHECK(cpu::onednn_conv_primitives_created() == after_first + 1);
  // Switched off, float32 takes the reference kernel: the same values within float32 rounding.
  const Tensor fast = conv2d(x, w);
  cpu::set_onednn_conv_enabled(false);
  const Tensor reference = conv2d(x, w);
  cpu::set_onednn_conv_enabled(true);
  CHECK(allclose(fast, reference, 1e-5, 1e-5));
}
#endif

#ifdef TINYNN_HAVE_ONEDNN
TEST_CASE("bare convolutions in a row pass activations and gradients in oneDNN's blocked layout, values unchanged",
          "[conv]") {
  // x [2, 16, 7, 7] -> 16 -> 32 -> 16 channels, 3x3, padding 1. Where oneDNN picks a channel-blocked
  // layout (nChw16c with AVX-512, nChw8c with AVX2), each convolution leaves its output in it only
  // (the plain values written when read), the next reads that, and each backward data pass leaves
  // its gradient so for the pass before. Everything equals the reference kernels (oneDNN off);
  // views and plain reads of the blocked outputs see the same values.
  Generator gen(11);
  const Tensor x0 = randn({2, 16, 7, 7}, {}, &gen), gz = randn({2, 16, 7, 7}, {}, &gen);
  const std::vector<Tensor> w0 = {randn({16, 16, 3, 3}, {}, &gen) * 0.2, randn({32, 16, 3, 3}, {}, &gen) * 0.2,
                                  randn({16, 32, 3, 3}, {}, &gen) * 0.2};
  const Tensor b0 = randn({32}, {}, &gen);
  struct Run {
    std::vector<Tensor> values;  // y1, y2, y3, then the gradients of x, w1, w2, w3, y1, y2
    bool y1_blocked = false, y2_blocked = false, g1_blocked = false;
  };
  auto run = [&]() {
    const Tensor x = x0.clone().requires_grad_();
    std::vector<Tensor> w;
    for (const Tensor& t : w0) w.push_back(t.clone().requires_grad_());
    const Tensor y1 = conv2d(x, w[0], b0.narrow(0, 0, 16), {1, 1}, {1, 1});
    const Tensor y2 = conv2d(y1, w[1], Tensor(), {1, 1}, {1, 1});
    const Tensor y3 = conv2d(y2, w[2], Tensor(), {1, 1}, {1, 1});
    const std::vector<Tensor> g = grad({sum(y3 * gz)}, {x, w[0], w[1], w[2], y1, y2});
    Run r;
    r.y1_blocked = left_blocked(y1), r.y2_blocked = left_blocked(y2), r.g1_blocked = left_blocked(g[4]);
    r.values = {y1.detach(), y2.detach(), y3.detach()};
    r.values.insert(r.values.end(), g.begin(), g.end());
    return r;
  };
  const Run fast = run();
  cpu::set_onednn_conv_enabled(false);
  const Run reference = run();
  cpu::set_onednn_conv_enabled(true);
  CHECK_FALSE(reference.y1_blocked);
  const ConvLayouts layouts = backend_for(Device::cpu()).conv2d_layouts(detail::conv_plan(x0, w0[1], Tensor(), {1, 1}, {1, 1}, {1, 1}, 1),
                                                                         DType::Float32, ConvPass::Forward, false);
  if (layouts.lanes == 0) {
    WARN("oneDNN picks no channel-blocked layout on this machine: only the values are checked");
  } else {
    CHECK(fast.y1_blocked);
    CHECK(fast.y2_blocked);
    CHECK(fast.g1_blocked);
  }
  // A view of a blocked-only output reads its plain values (written from the blocked ones first).
  CHECK(allclose(fast.values[1].narrow(1, 3, 5), reference.values[1].narrow(1, 3, 5), 1e-4, 1e-4));
  for (std::size_t i = 0; i < reference.values.size(); ++i) {
    INFO("value " << i << " (y1, y2, y3, d x, d w1, d w2, d w3, d y1, d y2)");
    CHECK(allclose(fast.values[i], reference.values[i], 1e-4, 1e-4));
  }
}

TEST_CASE("a convolution's output written in place after it was left blocked: the next one reads the new values", "[conv]") {
  Generator gen(12);
  const Tensor x = randn({2, 16, 6, 6}, {}, &gen), w1 = randn({16, 16, 3, 3}, {}, &gen), w2 = randn({16, 16, 3, 3}, {}, &gen);
  Tensor y = conv2d(x, w1, Tensor(), {1, 1}, {1, 1});
  const bool was_blocked = left_blocked(y);
  y.copy_(y + 1.0);  // the blocked copy is stale now
  CHECK_FALSE(left_blocked(y));
  const Tensor expected = conv2d(y.clone(), w2, Tensor(), {1, 1}, {1, 1});
  CHECK(conv2d(y, w2, Tensor(), {1, 1}, {1, 1}).to_vector<float>() == expected.to_vector<float>());
  if (!was_blocked) WARN("oneDNN picks no channel-blocked layout on this machine");
}
#endif

TEST_CASE("batch_norm: batch statistics and running updates in training, running statistics in eval", "[conv][batch_norm]") {
  // Channel 0 holds 0, 2, 4, 6 (mean 3, biased variance 5, unbiased 20/3); channel 1 all 1.
  const Tensor x = tensor({0.0, 2.0, 1.0, 1.0, 4.0, 6.0, 1.0, 1.0}, DType::Float64).reshape({2, 2, 1, 2});
  Tensor rm = zeros({2}, {DType::Float64}), rv = ones({2}, {DType::Float64});
  const Tensor y = batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.5, 0.0);
  CHECK(allclose(y.select(1, 0).flatten(), tensor({-3.0, -1.0, 1.0, 3.0}, DType::Float64) / std::sqrt(5.0)));
  CHECK(allclose(rm, tensor({1.5, 0.5}, DType::Float64)));
  CHECK(allclose(rv, tensor({0.5 + 0.5 * 20.0 / 3.0, 0.5}, DType::Float64)));
  // Eval: (x - running_mean) / sqrt(running_var + eps) * weight + bias.
  const Tensor e = batch_norm(x, rm, rv, tensor({2.0, 1.0}, DType::Float64), tensor({0.0, 1.0}, DType::Float64), false, 0.5, 0.0);
  CHECK(allclose(e.select(1, 1).flatten(), (ones({4}, {DType::Float64}) - 0.5) / std::sqrt(0.5) + 1.0));
  TINYNN_REQUIRE_THROWS_CONTAINING(batch_norm(ones({1, 2, 1, 1}, {DType::Float64}), rm, rv, Tensor(), Tensor(), true), ShapeError,
                                   "training needs more than one value per channel, got input [1, 2, 1, 1]");
  TINYNN_REQUIRE_THROWS_CONTAINING(batch_norm(x, zeros({3}, {DType::Float64}), rv, Tensor(), Tensor(), true), ShapeError,
                                   "running_mean [3] must be [2]");
}

TEST_CASE("bad shapes are errors that print the shapes and the rule", "[conv][errors]") {
  const Tensor x = randn({2, 4, 5, 5});
  TINYNN_REQUIRE_THROWS_CONTAINING(conv2d(x, randn({3, 4, 7, 7})), ShapeError,
                                   "kernel 7x7 (dilation (1, 1)) is larger than the padded input 5x5");
  TINYNN_REQUIRE_THROWS_CONTAINING(conv2d(x, randn({3, 2, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 2), ShapeError,
                                   "input channels (4) and output channels (3) must both be divisible by groups (2)");
  TINYNN_REQUIRE_THROWS_CONTAINING(conv2d(x, randn({4, 3, 3, 3})), ShapeError,
                                   "weight [4, 3, 3, 3] expects 3 input channels per group, but input [2, 4, 5, 5] has 4");
  TINYNN_REQUIRE_THROWS_CONTAINING(conv2d(randn({4, 5, 5}), randn({3, 4, 3, 3})), ShapeError,
                                   "expected a 4-D input [N, C, H, W], got [4, 5, 5]");
  TINYNN_REQUIRE_THROWS_CONTAINING(conv2d(x, randn({3, 4, 3, 3}), randn({4})), ShapeError, "bias [4] must be [3]");
  TINYNN_REQUIRE_THROWS_CONTAINING(conv2d(x, randn({3, 4, 3, 3}), Tensor(), {0, 1}), ValueError, "stride must be positive");
  TINYNN_REQUIRE_THROWS_CONTAINING(conv2d(x, randn({3, 4, 3, 3}, {DType::Float64})), DTypeError,
                                   "input is float32 but weight is float64");
  TINYNN_REQUIRE_THROWS_CONTAINING(max_pool2d(x, {2, 2}, std::nullopt, {2, 2}), ValueError,
                                   "padding (2, 2) must be at most half the kernel size (2, 2)");
  TINYNN_REQUIRE_THROWS_CONTAINING(max_pool2d(x, {6, 6}), ShapeError, "input [2, 4, 5, 5] is too small for kernel (6, 6)");
  TINYNN_REQUIRE_THROWS_CONTAINING(avg_pool2d(randn({5, 5}), {2, 2}), ShapeError, "expected a 4-D input [N, C, H, W], got [5, 5]");
  TINYNN_REQUIRE_THROWS_CONTAINING(max_pool2d(zeros({1, 1, 4, 4}, {DType::Int64}), {2, 2}), DTypeError,
                                   "expected a float32 or float64 input, got int64");
}
