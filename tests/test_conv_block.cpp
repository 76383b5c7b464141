// conv_block (conv2d -> batch_norm -> relu -> max_pool2d as one op): the fused oneDNN chain
// against the four ops, forward, running statistics, gradients and gradients of gradients.
#include <tinynn/core/detail/window_ops.h>

#include "test_helpers.h"

#include "../kernels/cpu/blocked_bn_relu_pool.h"
#include "../kernels/cpu/onednn_conv_block.h"

using namespace tinynn;
using test::left_blocked;

namespace {

struct BlockCase {
  Shape x;  // [N, C, H, W]
  std::int64_t k, r;
  ConvBlockOptions o;
};

struct BlockInputs {
  Tensor x, w, b, gamma, beta, mean, var;
};

BlockInputs inputs_for(const BlockCase& c, std::uint64_t seed, DType t = DType::Float32) {
  Generator gen(seed);
  BlockInputs in;
  in.x = randn(c.x, {t}, &gen).requires_grad_();
  in.w = (randn({c.k, c.x[1] / c.o.groups, c.r, c.r}, {t}, &gen) * 0.3).detach().requires_grad_();
  in.b = randn({c.k}, {t}, &gen).requires_grad_();
  in.gamma = (rand({c.k}, {t}, &gen) + 0.5).detach().requires_grad_();
  in.beta = randn({c.k}, {t}, &gen).requires_grad_();
  in.mean = randn({c.k}, {t}, &gen) * 0.1;
  in.var = rand({c.k}, {t}, &gen) + 0.5;
  return in;
}

// Largest |a - b| over max(1, |b|), elementwise.
double max_relative_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]) / std::max(1.0, std::abs(y[i])));
  return worst;
}

// Backpropagates sum(y * r) and sum(z * r) for the same random r.
void backward_alike(const Tensor& y, const Tensor& z, std::uint64_t seed) {
  Generator gen(seed);
  const Tensor weights = randn(y.shape(), {}, &gen);
  sum(y * weights).backward();
  sum(z * weights).backward();
}

// The conv weight's and the batch norm's gradients of two input sets agree.
void check_weight_gradients(const BlockInputs& a, const BlockInputs& b) {
  CHECK(max_relative_error(a.w.grad(), b.w.grad()) < 1e-4);
  CHECK(max_relative_error(a.gamma.grad(), b.gamma.grad()) < 1e-4);
  CHECK(max_relative_error(a.beta.grad(), b.beta.grad()) < 1e-4);
}

std::vector<ConvBlockOptions> options_to_try() {
  std::vector<ConvBlockOptions> all;
  ConvBlockOptions pooled;
  pooled.padding = {1, 1};
  pooled.pool_kernel = Size2{2, 2};
  all.push_back(pooled);
  ConvBlockOptions plain;  // no pool, no padding
  all.push_back(plain);
  ConvBlockOptions strided = pooled;  // stride, dilation, groups, an overlapping pool with padding and ceil mode
  strided.stride = {2, 1}, strided.dilation = {1, 2}, strided.groups = 2;
  strided.pool_kernel = Size2{3, 3}, strided.pool_stride = Size2{2, 2}, strided.pool_padding = {1, 1};
  strided.pool_ceil_mode = true;
  all.push_back(strided);
  return all;
}

}  // namespace

TEST_CASE("conv_block equals conv2d -> batch_norm -> relu -> max_pool2d, forward and backward", "[conv][conv_block]") {
  const Shape shapes[] = {{4, 1, 12, 12}, {3, 4, 11, 9}, {1, 6, 8, 10}};
  int fused_cases = 0;
  const std::size_t own_tails_before = cpu::onednn_conv_block_own_tail_plans();
  // 20 output channels: a blocked layout with padded channels.
  for (std::int64_t channels : {8, 20})
  for (const Shape& shape : shapes)
    for (const ConvBlockOptions& base : options_to_try())
      for (bool training : {true, false}) {
        ConvBlockOptions o = base;
        o.training = training;
        if (shape[1] % o.groups != 0) continue;
        const BlockCase c{shape, channels, 3, o};
        INFO("input " << shape_str(shape) << ", " << channels << " channels, stride " << o.stride[0] << ", groups " << o.groups
                      << ", pool " << (o.pool_kernel ? (*o.pool_kernel)[0] : 0) << (training ? ", training" : ", eval"));
        const BlockInputs a = inputs_for(c, 11), b = inputs_for(c, 11);
        const Tensor y = conv_block(a.x, a.w, a.b, a.mean, a.var, a.gamma, a.beta, o);
        const Tensor z = detail::conv_block_composed(b.x, b.w, b.b, b.mean, b.var, b.gamma, b.beta, o);
        fused_cases += y.grad_fn_name() == "ConvBlockBackward";
        CHECK(max_relative_error(y, z) < 2e-5);
        CHECK(max_relative_error(a.mean, b.mean) < 1e-6);  // the running statistics moved alike
        CHECK(max_relative_error(a.var, b.var) < 1e-6);
        backward_alike(y, z, 12);
        CHECK(max_relative_error(a.x.grad(), b.x.grad()) < 1e-4);
        CHECK(max_relative_error(a.b.grad(), b.b.grad()) < 1e-4);
        check_weight_gradients(a, b);
      }
  // oneDNN takes every one of these on the CPU; the 2x2 pools in training (one per shape and
  // channel count) run tinynn's own batch norm + ReLU + pool loops.
  CHECK(fused_cases == 32);
  CHECK(cpu::onednn_conv_block_own_tail_plans() - own_tails_before == 6);
}

TEST_CASE("conv_block with 16 or more input channels (oneDNN's Winograd convolutions) equals the four ops",
          "[conv][conv_block]") {
  ConvBlockOptions o;
  o.padding = {1, 1};
  o.pool_kernel = Size2{2, 2};
  for (bool training : {true, false}) {
    o.training = training;
    INFO((training ? "training" : "eval"));
    const BlockCase c{{4, 32, 14, 14}, 64, 3, o};
    const BlockInputs a = inputs_for(c, 51), b = inputs_for(c, 51);
    const Tensor y = conv_block(a.x, a.w, a.b, a.mean, a.var, a.gamma, a.beta, o);
    const Tensor z = detail::conv_block_composed(b.x, b.w, b.b, b.mean, b.var, b.gamma, b.beta, o);
    REQUIRE(y.grad_fn_name() == "ConvBlockBackward");
    // Winograd rounds differently from the direct convolution the ops run.
    CHECK(max_relative_error(y, z) < 1e-4);
    CHECK(max_relative_error(a.mean, b.mean) < 1e-5);
    CHECK(max_relative_error(a.var, b.var) < 1e-5);
    backward_alike(y, z, 52);
    CHECK(max_relative_error(a.x.grad(), b.x.grad()) < 1e-4);
    check_weight_gradients(a, b);
  }
}

TEST_CASE("conv_block on a one-channel input that needs no gradient: statistics and weight gradient from its patches",
          "[conv][conv_block]") {
  struct Case {
    Shape x;
    std::int64_t k, r, pad;
  };
  // Odd sizes, padding 0 to 2, kernels 2 and 3, batch 1, padded channels (20 of 32 lanes).
  const Case cases[] = {{{4, 1, 12, 12}, 12, 3, 1}, {{3, 1, 11, 9}, 20, 2, 0}, {{1, 1, 8, 10}, 8, 3, 2}, {{6, 1, 7, 7}, 20, 3, 1}};
  const std::size_t linear_before = cpu::onednn_conv_block_linear_plans();
  for (const Case& cs : cases) {
    ConvBlockOptions o;
    o.padding = {cs.pad, cs.pad};
    o.pool_kernel = Size2{2, 2};
    const BlockCase c{cs.x, cs.k, cs.r, o};
    INFO("input " << shape_str(cs.x) << ", " << cs.k << " channels, kernel " << cs.r << ", padding " << cs.pad);
    BlockInputs a = inputs_for(c, 31), b = inputs_for(c, 31);
    // An input far from zero: the patch covariance must not cancel.
    a.x = (a.x.detach() * 0.5 + 3.0).detach(), b.x = a.x.clone();
    const Tensor y = conv_block(a.x, a.w, a.b, a.mean, a.var, a.gamma, a.beta, o);
    const Tensor z = detail::conv_block_composed(b.x, b.w, b.b, b.mean, b.var, b.gamma, b.beta, o);
    REQUIRE(y.grad_fn_name() == "ConvBlockBackward");
    CHECK(max_relative_error(y, z) < 2e-5);
    CHECK(max_relative_error(a.mean, b.mean) < 1e-6);
    CHECK(max_relative_error(a.var, b.var) < 1e-5);
    backward_alike(y, z, 32);
    check_weight_gradients(a, b);
    CHECK(max_relative_error(a.b.grad(), b.b.grad()) < 1e-4);  // zero: the batch norm cancels it
    CHECK(a.b.grad().abs().max().item() == 0.0);
  }
  CHECK(cpu::onednn_conv_block_linear_plans() - linear_before == 4);
}

TEST_CASE("the blocked batch norm + ReLU + pool loops equal the three ops, 8 and 16 lanes", "[conv][conv_block]") {
  // Called directly on a hand-blocked [N][K/B][H][W][B] buffer: both lane widths run here, whatever
  // layout oneDNN picks on this machine; 12 channels leave padded lanes, odd H and W unpooled edges.
  const std::int64_t n = 3, k = 12, h = 7, w = 9;
  Generator gen(41);
  const Tensor y = (randn({n, k, h, w}, {}, &gen) * 2.0 + 0.5).detach().requires_grad_();
  const Tensor gamma = (rand({k}, {}, &gen) + 0.5).detach().requires_grad_(), beta = randn({k}, {}, &gen).requires_grad_();
  const Tensor z = max_pool2d(relu(batch_norm(y, Tensor(), Tensor(), gamma, beta, true)), {2, 2});
  const Tensor gz = randn(z.shape(), {}, &gen);
  const std::vector<Tensor> want = grad({sum(z * gz)}, {y, gamma, beta});
  const auto yv = y.to_vector<float>(), gzv = gz.contiguous().to_vector<float>();
  for (std::int64_t lanes : {8, 16}) {
    INFO(lanes << " lanes");
    cpu::BlockedBnPool plan;
    plan.n = n, plan.k = k, plan.h = h, plan.w = w, plan.p = h / 2, plan.q = w / 2, plan.block = lanes;
    cpu::BlockedBnPoolScratch scratch;
    scratch.reserve(plan);
    const std::int64_t blocks = plan.channel_blocks();
    auto at = [&](std::int64_t i, std::int64_t c, std::int64_t r, std::int64_t q) {
      return (((i * blocks + c / lanes) * h + r) * w + q) * lanes + c % lanes;
    };
    std::vector<float> blocked(static_cast<std::size_t>(n * blocks * lanes * h * w), 0.0f), g_blocked(blocked.size());
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t c = 0; c < k; ++c)
        for (std::int64_t r = 0; r < h; ++r)
          for (std::int64_t q = 0; q < w; ++q) blocked[at(i, c, r, q)] = yv[((i * k + c) * h + r) * w + q];
    std::vector<float> mean(k), var(k), out(z.numel()), at_max(plan.where_bytes()), ggamma(k), gbeta(k);
    const auto gv = gamma.to_vector<float>(), bv = beta.to_vector<float>();
    std::vector<std::uint8_t> where(plan.where_bytes());
    // The output also blocked, [N][K/B][P][Q][B]: the same values as the plain one.
    auto pooled_at = [&](std::int64_t i, std::int64_t c, std::int64_t r, std::int64_t q) {
      return (((i * blocks + c / lanes) * plan.p + r) * plan.q + q) * lanes + c % lanes;
    };
    std::vector<float> out_blocked(static_cast<std::size_t>(n * blocks * lanes * plan.p * plan.q), -1.0f);
    cpu::bn_relu_pool_forward(plan, scratch, blocked.data(), gv.data(), bv.data(), mean.data(), var.data(), out.data(),
                              out_blocked.data(), where.data(), at_max.data(), nullptr, nullptr, nullptr);
    CHECK(max_relative_error(from_vector(out, z.shape()), z) < 2e-5);
    std::vector<float> gz_blocked(out_blocked.size(), 0.0f);
    int differ = 0;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t c = 0; c < k; ++c)
        for (std::int64_t r = 0; r < plan.p; ++r)
          for (std::int64_t q = 0; q < plan.q; ++q) {
            const std::int64_t plain = ((i * k + c) * plan.p + r) * plan.q + q;
            differ += out_blocked[pooled_at(i, c, r, q)] != out[plain];
            gz_blocked[pooled_at(i, c, r, q)] = gzv[plain];
          }
    CHECK(differ == 0);
    // The backward from the blocked gradient gives what it gives from the plain one, bit for bit.
    std::vector<float> g_from_blocked(g_blocked.size());
    cpu::bn_relu_pool_backward(plan, scratch, blocked.data(), mean.data(), var.data(), gv.data(), nullptr, gz_blocked.data(),
                               where.data(), at_max.data(), g_from_blocked.data(), ggamma.data(), gbeta.data());
    cpu::bn_relu_pool_backward(plan, scratch, blocked.data(), mean.data(), var.data(), gv.data(), gzv.data(), nullptr,
                               where.data(), at_max.data(), g_blocked.data(), ggamma.data(), gbeta.data());
    CHECK(g_from_blocked == g_blocked);
    std::vector<float> gy(yv.size());
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t c = 0; c < k; ++c)
        for (std::int64_t r = 0; r < h; ++r)
          for (std::int64_t q = 0; q < w; ++q) gy[((i * k + c) * h + r) * w + q] = g_blocked[at(i, c, r, q)];
    for (std::int64_t i = 0; i < n; ++i)  // padded lanes stay zero (oneDNN's layouts require it)
      for (std::int64_t c = k; c < blocks * lanes; ++c) CHECK(g_blocked[at(i, c, 0, 0)] == 0.0f);
    CHECK(max_relative_error(from_vector(gy, y.shape()), want[0]) < 1e-4);
    CHECK(max_relative_error(from_vector(ggamma, {k}), want[1]) < 1e-4);
    CHECK(max_relative_error(from_vector(gbeta, {k}), want[2]) < 1e-4);
  }
}

TEST_CASE("conv_block's own batch norm + ReLU + pool loops pass NaN on, as the four ops do", "[conv][conv_block]") {
  ConvBlockOptions o;
  o.padding = {1, 1};
  o.pool_kernel = Size2{2, 2};
  const BlockCase c{{2, 3, 8, 8}, 16, 3, o};
  const BlockInputs a = inputs_for(c, 21), b = inputs_for(c, 21);
  for (const BlockInputs* in : {&a, &b}) {
    NoGradGuard no_grad;
    Tensor(in->x).narrow(2, 3, 1).narrow(3, 5, 1).copy_(zeros({2, 3, 1, 1}) + std::nan(""));
  }
  const Tensor y = conv_block(a.x, a.w, a.b, a.mean, a.var, a.gamma, a.beta, o);
  const Tensor z = detail::conv_block_composed(b.x, b.w, b.b, b.mean, b.var, b.gamma, b.beta, o);
  REQUIRE(y.grad_fn_name() == "ConvBlockBackward");
  // A NaN input makes every channel's statistics NaN (each channel reads the NaN through the 3x3
  // kernel): every output is NaN, not a ReLU'd zero.
  auto nans = [](const Tensor& t) {
    const auto v = t.to_vector<double>();
    return std::count_if(v.begin(), v.end(), [](double e) { return std::isnan(e); });
  };
  CHECK(nans(z) == z.numel());
  CHECK(nans(y) == y.numel());
}

TEST_CASE("conv_block composes its ops for float64, gradients of gradients and when switched off", "[conv][conv_block]") {
  ConvBlockOptions o;
  o.padding = {1, 1};
  o.pool_kernel = Size2{2, 2};
  const BlockCase c{{2, 2, 6, 6}, 3, 3, o};
  // Float64: the four ops (and their gradients are checked by finite differences).
  const BlockInputs d = inputs_for(c, 3, DType::Float64);
  CHECK(conv_block(d.x, d.w, d.b, d.mean, d.var, d.gamma, d.beta, o).grad_fn_name() != "ConvBlockBackward");
  CHECK(gradcheck([&](const std::vector<Tensor>& t) { return conv_block(t[0], t[1], t[2], Tensor(), Tensor(), t[3], t[4], o); },
                  {d.x, d.w, d.b, d.gamma, d.beta}));

  // Switched off: the four ops on float32 too.
  cpu::set_onednn_conv_block_enabled(false);
  const BlockInputs off = inputs_for(c, 4);
  CHECK(conv_block(off.x, off.w, off.b, off.mean.clone(), off.var.clone(), off.gamma, off.beta, o).grad_fn_name() != "ConvBlockBackward");
  cpu::set_onednn_conv_block_enabled(true);

  // Second order through the fused op: it composes the ops again, so grad of grad matches theirs.
  const BlockInputs a = inputs_for(c, 5), b = inputs_for(c, 5);
  const Tensor y = conv_block(a.x, a.w, a.b, a.mean, a.var, a.gamma, a.beta, o);
  REQUIRE(y.grad_fn_name() == "ConvBlockBackward");
  const Tensor z = detail::conv_block_composed(b.x, b.w, b.b, b.mean, b.var, b.gamma, b.beta, o);
  const Tensor gy = grad({sum(y * y)}, {a.x}, {}, true, true)[0], gz = grad({sum(z * z)}, {b.x}, {}, true, true)[0];
  CHECK(max_relative_error(gy, gz) < 1e-4);
  sum(gy * gy).backward();
  sum(gz * gz).backward();
  CHECK(max_relative_error(a.w.grad(), b.w.grad()) < 1e-3);
  CHECK(max_relative_error(a.gamma.grad(), b.gamma.grad()) < 1e-3);

  // Two blocks in a row, second order: each block's composed gradient asks grad() for its own
  // inputs only (the graph before them is not run again), and the result matches the four ops'.
  ConvBlockOptions inner = o;
  inner.pool_kernel.reset();
  const BlockCase c2{{2, 3, 6, 6}, 3, 3, inner};
  const BlockInputs p = inputs_for(c2, 6), q = inputs_for(c2, 6);
  const Tensor y2 = conv_block(conv_block(a.x, a.w, a.b, a.mean, a.var, a.gamma, a.beta, o), p.w, p.b, p.mean, p.var, p.gamma, p.beta, inner);
  const Tensor z2 = detail::conv_block_composed(detail::conv_block_composed(b.x, b.w, b.b, b.mean, b.var, b.gamma, b.beta, o), q.w,
                                                q.b, q.mean, q.var, q.gamma, q.beta, inner);
  const Tensor g2 = grad({sum(y2 * y2)}, {a.x}, {}, true, true)[0], h2 = grad({sum(z2 * z2)}, {b.x}, {}, true, true)[0];
  CHECK(max_relative_error(g2, h2) < 1e-4);
  const Tensor gg = grad({sum(g2 * g2)}, {p.w})[0], hh = grad({sum(h2 * h2)}, {q.w})[0];
  CHECK(max_relative_error(gg, hh) < 1e-3);

  // Bad arguments fail as the ops do.
  CHECK_THROWS_WITH(conv_block(a.x, a.w, a.b, a.mean, a.var, a.gamma, a.beta.narrow(0, 0, 2), o),
                    Catch::Contains("bias [2] must be [3]"));
  CHECK_THROWS_WITH(conv_block(a.x.reshape({2, 2, 36}), a.w, a.b, a.mean, a.var, a.gamma, a.beta, o),
                    Catch::Contains("tinynn::conv2d: expected a 4-D input"));
}

namespace {

// A conv block's parameters as fresh leaves (k output channels, c input channels, 3x3; its x unused).
BlockInputs block_params(std::int64_t k, std::int64_t c, std::uint64_t seed) {
  return inputs_for(BlockCase{{1, c, 1, 1}, k, 3, {}}, seed);
}
Tensor run_block(const Tensor& x, const BlockInputs& p, bool feeds_conv_block) {
  ConvBlockOptions o;
  o.padding = {1, 1}, o.pool_kernel = Size2{2, 2}, o.feeds_conv_block = feeds_conv_block;
  return conv_block(x, p.w, p.b, p.mean, p.var, p.gamma, p.beta, o);
}

}  // namespace

TEST_CASE("conv blocks in a row pass the output and its gradient in the blocked layout, values unchanged",
          "[conv][conv_block]") {
  // x [4, 1, 16, 16] -> block 1 (16 channels, pooled to 8 x 8) -> block 2 (16, 4 x 4) -> block 3 (32,
  // 2 x 2). With the hint each block but the last leaves its output blocked only, the next reads
  // that and hands its input gradient back blocked only, which the block before reads (block 2
  // both); the values are bit for bit those without the hint (the reorders it skips copy exactly),
  // and an output or gradient read as a plain tensor is written from the blocked one then. Block 1 both ways:
  // the first-layer weight gradient (x needs none) and the loops' full backward (x needs one).
  const bool x_needs_grad = GENERATE(false, true);
  INFO("x needs a gradient: " << x_needs_grad);
  Generator gen(5);
  const Tensor x = randn({4, 1, 16, 16}, {}, &gen), gz = randn({4, 32, 2, 2}, {}, &gen);
  struct Result {
    std::vector<std::vector<float>> values;
    bool y1_blocked, y2_blocked, g1_blocked, g2_blocked;
  };
  auto run = [&](bool hint) {
    const Tensor input = x_needs_grad ? x.clone().requires_grad_() : x;
    const BlockInputs p1 = block_params(16, 1, 7), p2 = block_params(16, 16, 8), p3 = block_params(32, 16, 9);
    const Tensor y1 = run_block(input, p1, hint);
    const Tensor y2 = run_block(y1, p2, hint);
    const Tensor y3 = run_block(y2, p3, false);
    std::vector<Tensor> wrt = {y1, y2, p1.w, p1.gamma, p2.w, p3.w};
    if (x_needs_grad) wrt.push_back(input);
    const std::vector<Tensor> g = grad({sum(y3 * gz)}, wrt);
    Result r{{y3.to_vector<float>()}, left_blocked(y1), left_blocked(y2), left_blocked(g[0]), left_blocked(g[1])};
    // The plain values of the outputs and gradients that only the blocked layout held so far.
    r.values.push_back(y1.to_vector<float>());
    r.values.push_back(y2.to_vector<float>());
    for (const Tensor& t : g) r.values.push_back(t.to_vector<float>());
    return r;
  };
  const Result plain = run(false), blocked = run(true);
  CHECK_FALSE(plain.y1_blocked);
  CHECK_FALSE(plain.g1_blocked);
  CHECK(blocked.y1_blocked);
  CHECK(blocked.y2_blocked);
  CHECK(blocked.g1_blocked);  // block 2 read y1 blocked: it gives y1's gradient so
  CHECK(blocked.g2_blocked);
  REQUIRE(blocked.values.size() == plain.values.size());
  for (std::size_t i = 0; i < plain.values.size(); ++i) {
    INFO("value " << i);
    CHECK(blocked.values[i] == plain.values[i]);
  }
}

TEST_CASE("a conv block's output written in place after it was left blocked: the next block reads the new values",
          "[conv][conv_block]") {
  Generator gen(6);
  const Tensor x = randn({4, 1, 12, 12}, {}, &gen);
  const BlockInputs p1 = block_params(16, 1, 7), p2 = block_params(32, 16, 8);
  Tensor y1 = run_block(x, p1, true).detach();
  REQUIRE(left_blocked(y1));
  y1.copy_(randn(y1.shape(), {}, &gen));  // the blocked copy is stale now
  CHECK_FALSE(left_blocked(y1));
  const NoGradGuard no_grad;
  const Tensor fresh = y1.clone();
  CHECK(run_block(y1, p2, false).to_vector<float>() == run_block(fresh, p2, false).to_vector<float>());
}

TEST_CASE("Sequential runs Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d as one conv_block", "[nn][conv_block]") {
  Generator gen(9);
  auto conv = std::make_shared<nn::Conv2d>(3, 8, Size2{3, 3}, Size2{1, 1}, Size2{1, 1}, Size2{1, 1}, 1, true, &gen);
  auto norm = std::make_shared<nn::BatchNorm2d>(8);
  auto relu = std::make_shared<nn::Pointwise>(UnaryOp::Relu);
  auto pool = std::make_shared<nn::MaxPool2d>(Size2{2, 2});
  nn::Sequential model({conv, norm, relu, pool});
  const Tensor x = randn({4, 3, 10, 10}, {}, &gen);
  const Tensor running_mean = norm->running_mean().clone(), running_var = norm->running_var().clone();
  const Tensor y = model(x);
  CHECK(y.grad_fn_name() == "ConvBlockBackward");
  CHECK(y.shape() == Shape{4, 8, 5, 5});
  // The layers one by one, from the same running statistics.
  {
    NoGradGuard no_grad;
    Tensor(norm->running_mean()).copy_(running_mean);
    Tensor(norm->running_var()).copy_(running_var);
  }
  const Tensor z = (*pool)((*relu)((*norm)((*conv)(x))));
  CHECK(max_relative_error(y, z) < 2e-5);
  CHECK(norm->state_dict().at("num_batches_tracked").item() == 2.0);  // each path counted its batch
  model.eval();
  CHECK(max_relative_error(model(x), (*pool)((*relu)((*norm)((*conv)(x))))) < 2e-5);
}
