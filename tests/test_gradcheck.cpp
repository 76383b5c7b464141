// Every differentiable op is gradchecked (first and second order) in float64 on random inputs,
// including broadcast and non-contiguous cases. The last test fails when an op kind or a
// pointwise row has no case here.
#include <tinynn/core/detail/autograd_hooks.h>
#include <tinynn/core/detail/window_ops.h>

#include <functional>

#include "op_domains.h"
#include "test_helpers.h"

using namespace tinynn;

namespace {

struct GradCase {
  std::string name;
  std::vector<Shape> shapes;
  DifferentiableFn fn;
  bool positive = false;  // inputs in [0.5, 2.5) instead of N(0, 1)
  double eps = 1e-6;
  bool second_order = true;  // false where second-order gradients throw by design (svdvals, eigvalsh)
  std::optional<std::pair<double, double>> range;  // inputs uniform in [lo, hi) (an op's domain)
};

std::vector<Tensor> make_inputs(const GradCase& c, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<Tensor> inputs;
  for (const Shape& s : c.shapes) {
    Tensor t = c.range      ? rand(s, {DType::Float64}, &gen) * (c.range->second - c.range->first) + c.range->first
               : c.positive ? rand(s, {DType::Float64}, &gen) * 2.0 + 0.5
                            : randn(s, {DType::Float64}, &gen);
    inputs.push_back(t.requires_grad_());
  }
  return inputs;
}

void run_case(const GradCase& c, bool second_order = true) {
  INFO("case " << c.name);
  const auto inputs = make_inputs(c, std::hash<std::string>{}(c.name));
  try {
    CHECK(gradcheck(c.fn, inputs, c.eps, 1e-6, 1e-4));
    if (second_order && c.second_order) CHECK(gradgradcheck(c.fn, inputs, c.eps, 1e-5, 1e-3));
  } catch (const GradcheckError& e) {
    FAIL(e.what());
  }
}

std::vector<GradCase> structural_cases() {
  return {
      {"where broadcast", {{2, 3}, {3}}, [](auto v) { return where(tensor({{1, 0, 1}, {0, 0, 1}}) == 1, v[0], v[1]); }},
      {"masked_fill", {{2, 3}}, [](auto v) { return masked_fill(v[0], tensor({1, 0, 1}) == 1, 2.0); }},
      {"sum axes", {{2, 3, 4}}, [](auto v) { return sum(v[0], {0, 2}); }},
      {"sum keepdim strided", {{3, 4}}, [](auto v) { return sum(v[0].t(), {1}, true); }},
      {"sum all", {{2, 3}}, [](auto v) { return sum(v[0]); }},
      {"mean", {{3, 4}}, [](auto v) { return mean(v[0], {-1}); }},
      {"prod", {{2, 4}}, [](auto v) { return prod(v[0], {1}); }},
      {"prod all axes", {{2, 3}}, [](auto v) { return prod(v[0]); }},
      {"prod with a zero", {{2, 3}}, [](auto v) { return prod(v[0] * tensor({{1.0, 0.0, 1.0}, {1.0, 1.0, 1.0}}, DType::Float64), {1}); }},
      {"amax", {{3, 4}}, [](auto v) { return amax(v[0], {1}); }},
      {"amin keepdim", {{3, 4}}, [](auto v) { return amin(v[0], {0}, true); }},
      {"var", {{3, 4}}, [](auto v) { return var(v[0], {1}); }},
      {"std", {{3, 4}}, [](auto v) { return tinynn::std(v[0], {0}); }},
      {"logsumexp", {{3, 4}}, [](auto v) { return logsumexp(v[0], {1}); }},
      {"norm 2", {{3, 4}}, [](auto v) { return norm(v[0], 2, {1}); }},
      {"norm 1", {{3, 4}}, [](auto v) { return norm(v[0], 1); }},
      {"norm inf", {{3, 4}}, [](auto v) { return norm(v[0], INFINITY, {0}); }},
      {"norm 3", {{5}}, [](auto v) { return norm(v[0], 3); }},
      {"cumsum", {{3, 4}}, [](auto v) { return cumsum(v[0], 1); }},
      {"cumprod", {{2, 4}}, [](auto v) { return cumprod(v[0], 1); }, true},
      {"cumprod with a zero", {{2, 4}}, [](auto v) { return cumprod(v[0] * tensor({1.0, 1.0, 0.0, 1.0}, DType::Float64), 1); }},
      {"softmax", {{3, 4}}, [](auto v) { return softmax(v[0], 1); }},
      {"log_softmax", {{3, 4}}, [](auto v) { return log_softmax(v[0], 0); }},
      {"softmax_cross_entropy", {{4, 5}}, [](auto v) { return softmax_cross_entropy(v[0], tensor({0, 3, 4, 1})); }},
      {"softmax_cross_entropy smoothed, transposed logits, mean",
       {{5, 4}}, [](auto v) { return mean(softmax_cross_entropy(v[0].t(), tensor({2, 2, 0, 4}), 0.1)); }},
      {"bias_activation relu", {{4, 5}, {5}}, [](auto v) { return bias_activation(v[0], v[1], UnaryOp::Relu); }},
      {"bias_activation gelu, 3-d, transposed", {{2, 6, 3}, {2}},
       [](auto v) { return bias_activation(v[0].transpose(1, 2).narrow(2, 0, 2), v[1], UnaryOp::Gelu); }},
      {"bias_activation leaky_relu", {{3, 4}, {4}}, [](auto v) { return bias_activation(v[0], v[1], UnaryOp::LeakyRelu, {0.2, 0}); }},
      // Convolution and pooling (their backward ops are recorded ops, so second order covers
      // Conv2dBackwardData/Weight and AvgPool2dBackward too).
      {"conv2d stride 2, padding, bias", {{2, 2, 5, 6}, {3, 2, 3, 2}, {3}},
       [](auto v) { return conv2d(v[0], v[1], v[2], {2, 1}, {1, 0}); }},
      {"conv2d dilation, groups, strided input", {{1, 7, 4, 4}, {4, 2, 2, 2}},
       [](auto v) { return conv2d(v[0].transpose(1, 3).narrow(1, 0, 4), v[1], Tensor(), {1, 1}, {1, 1}, {2, 1}, 2); }},
      {"max_pool2d padding, dilation, ceil_mode", {{2, 2, 7, 5}},
       [](auto v) { return max_pool2d(v[0], {3, 2}, Size2{2, 2}, {1, 1}, {1, 2}, true); }},
      {"avg_pool2d ceil_mode, count_include_pad off", {{2, 1, 6, 7}},
       [](auto v) { return avg_pool2d(v[0], {3, 3}, Size2{2, 2}, {1, 1}, true, false); }},
      // The convolution's backward ops as functions of their two inputs (they are linear in each).
      {"conv2d_backward_data", {{2, 4, 3, 2}, {4, 1, 2, 3}}, [](auto v) {
         ConvPlan plan;
         plan.n = 2, plan.c = 2, plan.h = 5, plan.w = 5, plan.k = 4, plan.r = 2, plan.s = 3, plan.p = 3, plan.q = 2;
         plan.stride_h = 2, plan.stride_w = 2, plan.pad_h = 1, plan.groups = 2;
         return detail::conv2d_backward_data(v[0], v[1], plan);
       }},
      {"conv2d_backward_weight", {{1, 3, 4, 4}, {1, 2, 3, 3}}, [](auto v) {
         ConvPlan plan;
         plan.n = 1, plan.c = 3, plan.h = 4, plan.w = 4, plan.k = 2, plan.r = 2, plan.s = 2, plan.p = 3, plan.q = 3;
         return detail::conv2d_backward_weight(v[0], v[1], plan);
       }},
      // avg_pool2d's gradient as a function of the incoming gradient (its transpose, recorded).
      {"avg_pool2d_backward", {{1, 2, 2, 2}}, [](auto v) {
         PoolPlan plan;
         plan.n = 1, plan.c = 2, plan.h = 5, plan.w = 5, plan.p = 2, plan.q = 2;
         plan.kh = plan.kw = 3, plan.stride_h = plan.stride_w = 2;
         return detail::avg_pool2d_backward(v[0], plan);
       }},
      {"adaptive_avg_pool2d uneven", {{1, 2, 5, 7}}, [](auto v) { return adaptive_avg_pool2d(v[0], {3, 2}); }},
      {"batch_norm training", {{3, 2, 2, 3}, {2}, {2}},
       [](auto v) { return batch_norm(v[0], Tensor(), Tensor(), v[1], v[2], true, 0.1, 1e-5); }},
      {"batch_norm training, no affine, 2-d", {{5, 3}}, [](auto v) { return batch_norm(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }},
      {"batch_norm eval", {{2, 3, 2, 2}, {3}},
       [](auto v) {
         return batch_norm(v[0], tensor({0.5, -1.0, 0.0}, DType::Float64), tensor({1.5, 0.5, 2.0}, DType::Float64), v[1], Tensor(), false);
       }},
      {"sum_of_squares", {{3, 4}}, [](auto v) { return sum_of_squares(v[0], {1}) + sum_of_squares(v[0]); }},
      {"reshape", {{2, 6}}, [](auto v) { return v[0].reshape({3, 4}) * tensor({1.0, 2.0, 3.0, 4.0}, DType::Float64); }},
      {"reshape of strided", {{3, 4}}, [](auto v) { return v[0].t().reshape({-1}) * arange(0, 12, 1, {DType::Float64}); }},
      {"transpose", {{2, 3}}, [](auto v) { return v[0].transpose(0, 1) * tensor({1.0, 2.0}, DType::Float64); }},
      {"permute", {{2, 3, 4}}, [](auto v) { return v[0].permute({2, 0, 1}) * arange(0, 3, 1, {DType::Float64}); }},
      {"squeeze unsqueeze flatten", {{2, 1, 3}}, [](auto v) { return v[0].squeeze(1).unsqueeze(0).flatten() * 2.0; }},
      {"expand", {{3, 1}}, [](auto v) { return v[0].expand({2, 3, 4}) * arange(0, 4, 1, {DType::Float64}); }},
      {"slice with step", {{5, 3}}, [](auto v) { return v[0].slice(0, 1, 5, 2) * 3.0; }},
      {"narrow", {{4, 3}}, [](auto v) { return v[0].narrow(1, 1, 2) * v[0].narrow(1, 0, 2); }},
      {"select", {{3, 4}}, [](auto v) { return v[0].select(1, -1) * v[0].select(0, 2).narrow(0, 0, 3); }},
      {"slice_backward", {{2, 3}}, [](auto v) { return slice_backward(v[0], {5, 3}, 0, 1, 5, 2) * 2.0; }},
      {"cat", {{2, 3}, {1, 3}}, [](auto v) { return cat({v[0], v[1] * 2.0}) * arange(0, 3, 1, {DType::Float64}); }},
      {"stack", {{2, 3}, {2, 3}}, [](auto v) { return stack({v[0], v[1]}, 1) * v[0].unsqueeze(1); }},
      {"gather", {{3, 4}}, [](auto v) { return gather(v[0], 1, tensor({{0, 0}, {3, 1}, {2, 2}})); }},
      {"index_select", {{3, 4}}, [](auto v) { return index_select(v[0], 0, tensor({2, 0, 2})); }},
      {"scatter_add", {{3, 4}, {3, 2}}, [](auto v) { return scatter_add(v[0], 1, tensor({{0, 0}, {3, 1}, {2, 2}}), v[1]); }},
      {"scatter_add short index", {{3, 4}, {3, 3}}, [](auto v) { return scatter_add(v[0], 1, tensor({{0, 1}, {3, 3}}), v[1]); }},
      {"matmul 2d", {{3, 4}, {4, 2}}, [](auto v) { return matmul(v[0], v[1]); }},
      {"matmul transposed", {{4, 3}, {2, 4}}, [](auto v) { return matmul(v[0].t(), v[1].t()); }},
      {"matmul broadcast batch", {{2, 1, 2, 3}, {3, 3, 2}}, [](auto v) { return matmul(v[0], v[1]); }},
      {"matmul vector", {{3}, {2, 3, 4}}, [](auto v) { return matmul(v[0], v[1]); }},
      {"dot mv outer", {{3}, {2, 3}}, [](auto v) { return outer(mv(v[1], v[0]), v[0]) + dot(v[0], v[0]); }},
      {"bmm", {{2, 2, 3}, {2, 3, 2}}, [](auto v) { return bmm(v[0], v[1]); }},
      {"to float32 and back", {{2, 3}}, [](auto v) { return v[0].to(DType::Float32).to(DType::Float64) * 2.0; }, false, 1e-3},
      {"clone contiguous", {{3, 2}}, [](auto v) { return v[0].t().contiguous() * v[0].t().clone(); }},
  };
}

// Square inputs get 3 I added so they stay well conditioned for finite differences.
Tensor well_conditioned(const Tensor& x) { return x + 3.0 * eye(x.size(-1), std::nullopt, {DType::Float64}); }
Tensor symmetric(const Tensor& x) { return x + x.transpose(-1, -2); }

std::vector<GradCase> linalg_cases() {
  const bool first_only = false;
  return {
      {"linalg solve, batch broadcast", {{2, 3, 3}, {3, 2}}, [](auto v) { return linalg::solve(well_conditioned(v[0]), v[1]); }},
      {"linalg solve vector", {{3, 3}, {3}}, [](auto v) { return linalg::solve(well_conditioned(v[0]), v[1]); }},
      {"linalg inv", {{2, 3, 3}}, [](auto v) { return linalg::inv(well_conditioned(v[0])); }},
      {"linalg det", {{2, 3, 3}}, [](auto v) { return linalg::det(v[0]); }},
      {"linalg slogdet", {{3, 3}}, [](auto v) { return linalg::slogdet(well_conditioned(v[0])).logabsdet; }},
      {"linalg cholesky of X X^T + I", {{3, 3}}, [](auto v) {
         return linalg::cholesky(matmul(v[0], v[0].t()) + eye(3, std::nullopt, {DType::Float64}));
       }},
      {"linalg pinv wide", {{2, 3}}, [](auto v) { return linalg::pinv(v[0]); }},
      {"linalg pinv tall, batched", {{2, 4, 3}}, [](auto v) { return linalg::pinv(v[0]); }},
      {"linalg matrix_power -2", {{3, 3}}, [](auto v) { return linalg::matrix_power(well_conditioned(v[0]), -2); }},
      {"linalg trace and fro/1/inf norms", {{3, 4}}, [](auto v) {
         return linalg::trace(v[0]) + linalg::matrix_norm(v[0]) + linalg::matrix_norm(v[0], 1.0) +
                linalg::matrix_norm(v[0], -INFINITY);
       }},
      {"linalg distances", {{4, 3}, {3}}, [](auto v) {
         return linalg::euclidean_distance(v[0], v[1]) + linalg::manhattan_distance(v[0], v[1]) +
                linalg::cosine_similarity(v[0], v[1]) + linalg::project(v[0], v[1]).sum({-1});
       }},
      {"linalg cdist", {{2, 3, 2}, {4, 2}}, [](auto v) { return linalg::cdist(v[0], v[1]) + linalg::cdist(v[0], v[1], 1.5); }},
      {"linalg svdvals", {{4, 3}}, [](auto v) { return linalg::svdvals(v[0]); }, false, 1e-6, first_only},
      {"linalg nuclear and spectral norms, cond", {{2, 3, 3}}, [](auto v) {
         return linalg::matrix_norm(v[0], "nuc") + linalg::matrix_norm(v[0], 2.0) + linalg::cond(v[0]);
       }, false, 1e-6, first_only},
      {"linalg eigvalsh", {{2, 3, 3}}, [](auto v) { return linalg::eigvalsh(symmetric(v[0])); }, false, 1e-6, first_only},
  };
}

}  // namespace

TEST_CASE("gradcheck: every unary row, on a transposed input", "[gradcheck]") {
  // Inputs from the op's domain (tests/op_domains.h) where it is restricted, N(0, 1) elsewhere.
#define TINYNN_CASE(Name, name)                                                                                  \
  {                                                                                                              \
    const test::OpDomain d = test::unary_domain(UnaryOp::Name);                                                  \
    GradCase c{#name, {{4, 3}}, [](const std::vector<Tensor>& v) {                                               \
                 return unary(UnaryOp::Name, v[0].t(), test::unary_domain(UnaryOp::Name).params);                \
               }};                                                                                               \
    if (d.lo != test::OpDomain{}.lo || d.hi != test::OpDomain{}.hi) c.range = std::make_pair(d.lo, d.hi);       \
    run_case(c);                                                                                                 \
  }
  TINYNN_UNARY_OPS(TINYNN_CASE)
#undef TINYNN_CASE
}

TEST_CASE("gradcheck: every differentiable binary row, with broadcasting both ways", "[gradcheck]") {
#define TINYNN_CASE(Name, name)                                                                                      \
  if (!binary_op_is_comparison(BinaryOp::Name)) {                                                                    \
    const bool positive = BinaryOp::Name == BinaryOp::Pow || BinaryOp::Name == BinaryOp::Div;                       \
    run_case({#name " [2,3] with [3]", {{2, 3}, {3}},                                                               \
              [](const std::vector<Tensor>& v) { return binary(BinaryOp::Name, v[0], v[1]); }, positive});           \
    run_case({#name " [2,1] with [1,3]", {{2, 1}, {1, 3}},                                                          \
              [](const std::vector<Tensor>& v) { return binary(BinaryOp::Name, v[0], v[1]); }, positive});           \
    run_case({#name " with scalar", {{3}},                                                                           \
              [](const std::vector<Tensor>& v) { return binary(BinaryOp::Name, v[0], 1.7); }, positive});            \
  }
  TINYNN_BINARY_OPS(TINYNN_CASE)
#undef TINYNN_CASE
}

TEST_CASE("gradcheck: reductions, scans, views, indexing and products", "[gradcheck]") {
  for (const auto& c : structural_cases()) run_case(c);
}

TEST_CASE("gradcheck: linear algebra", "[gradcheck][linalg]") {
  for (const auto& c : linalg_cases()) run_case(c);
}

TEST_CASE("gradcheck catches a wrong gradient", "[gradcheck]") {
  // sign's true derivative is 0, but a function that hides x*2 behind detach() has a missing gradient.
  Tensor x = tensor({0.5, 1.5}, DType::Float64).requires_grad_();
  CHECK_THROWS_AS(gradcheck([](auto v) { return v[0] + v[0].detach() * 2.0; }, {x}), GradcheckError);
  CHECK_THROWS_AS(gradcheck([](auto v) { return v[0]; }, {tensor({1.0}).requires_grad_()}), DTypeError);
}

TEST_CASE("every recorded op kind has been gradchecked", "[gradcheck][coverage]") {
  // Runs the cases here so the test stands alone, then asks which kinds were recorded.
  for (const auto& c : structural_cases()) run_case(c, false);
  for (const auto& c : linalg_cases()) run_case(c, false);
  for (int k = 0; k < static_cast<int>(detail::OpKind::Count_); ++k) {
    const auto kind = static_cast<detail::OpKind>(k);
    if (kind == detail::OpKind::ToDevice && !cuda_available()) {
      WARN("SKIPPED: ToDevice is gradchecked only where a CUDA device is present");
      continue;
    }
    if (kind == detail::OpKind::ConvBlock) {
      // Recorded for float32 only (the fused oneDNN chain), too coarse for finite differences: its
      // gradients are compared with the four composed ops' in tests/test_conv_block.cpp, and those
      // ops (and the block composed in float64) are gradchecked.
      continue;
    }
    INFO("op kind " << detail::op_kind_name(kind) << " has no gradcheck case in tests/test_gradcheck.cpp");
    CHECK(detail::recorded_op_count(kind) > 0);
  }
}
