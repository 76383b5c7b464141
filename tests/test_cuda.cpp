// CPU vs CUDA parity for the ops the CUDA backend implements; skipped, visibly, without a GPU.
// With TINYNN_TEST_CUDA_ON_CPU=1 the "GPU" side runs on the CPU too: CI runs them that way (ctest
// cuda.harness_on_cpu) so the tests' own logic (shapes, tolerances, NaN handling, API use) is
// checked on machines that have no GPU.
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>

#include "op_domains.h"
#include "test_helpers.h"

using namespace tinynn;

namespace {
bool harness_on_cpu() {
  const char* flag = std::getenv("TINYNN_TEST_CUDA_ON_CPU");
  return flag != nullptr && std::string(flag) == "1";
}
// The device compared with the CPU: the first GPU, else the CPU itself in harness mode.
std::optional<Device> device_under_test() {
  if (cuda_available()) return Device::cuda(0);
  if (harness_on_cpu()) return Device::cpu();
  return std::nullopt;
}
bool have_gpu() {
  if (device_under_test()) return true;
  WARN("SKIPPED: no CUDA device present (" << build_summary() << ")");
  return false;
}
Device gpu_device() { return *device_under_test(); }

// Values agree within tol, with NaN in the same places on both sides.
bool close_with_nans(const Tensor& x, const Tensor& y, double tol) {
  const Tensor a = x.to(Device::cpu()).to(DType::Float64), b = y.to(Device::cpu()).to(DType::Float64);
  if (a.shape() != b.shape() || !equal(a != a, b != b)) return false;
  return allclose(where(a != a, 0.0, a), where(b != b, 0.0, b), tol, tol);
}
}  // namespace

TEST_CASE("CUDA: transfers round-trip and elementwise ops match the CPU", "[cuda]") {
  if (!have_gpu()) return;
  Generator gen(5);
  const Device gpu = gpu_device();
  Tensor a = randn({33, 17}, {}, &gen), b = randn({17}, {}, &gen);
  Tensor ga = a.to(gpu), gb = b.to(gpu);
  CHECK(ga.device() == gpu);
  CHECK(equal(ga.to(Device::cpu()), a));
#define TINYNN_CHECK_UNARY(Name, name) \
  CHECK(close_with_nans(unary(UnaryOp::Name, ga.t(), test::unary_domain(UnaryOp::Name).params),             \
                        unary(UnaryOp::Name, a.t(), test::unary_domain(UnaryOp::Name).params), 1e-5));
  TINYNN_UNARY_OPS(TINYNN_CHECK_UNARY)
#undef TINYNN_CHECK_UNARY
#define TINYNN_CHECK_BINARY(Name, name) \
  CHECK(close_with_nans(binary(BinaryOp::Name, ga, gb), binary(BinaryOp::Name, a, b), 1e-5));
  TINYNN_BINARY_OPS(TINYNN_CHECK_BINARY)
#undef TINYNN_CHECK_BINARY
  CHECK(equal(where(ga > 0, ga, gb).to(Device::cpu()), where(a > 0, a, b)));
  CHECK(equal(ones({3}, {DType::Int64, gpu}).to(Device::cpu()), ones({3}, {DType::Int64})));
}

TEST_CASE("CUDA: devices describe themselves; a missing one is an error", "[cuda]") {
  TINYNN_REQUIRE_THROWS_CONTAINING(cuda_device_description(cuda_device_count()), DeviceError,
                                   "there is no CUDA device " + std::to_string(cuda_device_count()));
  if (!have_gpu() || !cuda_available()) return;
  CHECK_THAT(cuda_device_description(0), Catch::Matchers::Contains("compute capability"));
}

TEST_CASE("CUDA: mixing devices is an error naming both", "[cuda]") {
  if (!have_gpu() || !cuda_available()) return;
  TINYNN_REQUIRE_THROWS_CONTAINING(ones({2}) + ones({2}).to(Device::cuda(0)), DeviceError,
                                   "tensors are on different devices: cpu and cuda:0");
}

namespace {

// fn on CPU inputs and on their CUDA copies: the values, and the gradients of sum(out * w) with
// respect to every floating input, agree within float32 rounding.
void check_parity(const std::string& name, const std::vector<Tensor>& cpu_inputs,
                  const std::function<Tensor(const std::vector<Tensor>&)>& fn, double tol = 1e-5) {
  INFO("op " << name);
  const Device gpu = gpu_device();
  std::vector<Tensor> cpu, cuda;
  for (const Tensor& t : cpu_inputs) {
    const bool grads = is_floating(t.dtype());
    cpu.push_back(grads ? t.detach().requires_grad_() : t);
    cuda.push_back(grads ? t.detach().to(gpu).requires_grad_() : t.to(gpu));
  }
  const Tensor out_cpu = fn(cpu), out_cuda = fn(cuda);
  REQUIRE(out_cuda.device() == gpu);
  const Tensor back = out_cuda.to(Device::cpu());
  REQUIRE(back.shape() == out_cpu.shape());
  if (!is_floating(out_cpu.dtype())) {
    CHECK(equal(back, out_cpu));
    return;
  }
  CHECK(close_with_nans(back, out_cpu, tol));
  std::vector<Tensor> diff_cpu, diff_cuda;
  for (std::size_t i = 0; i < cpu.size(); ++i)
    if (cpu[i].requires_grad()) {
      diff_cpu.push_back(cpu[i]);
      diff_cuda.push_back(cuda[i]);
    }
  if (diff_cpu.empty() || !out_cpu.requires_grad()) return;
  Generator gen(9);
  const Tensor w = randn(out_cpu.shape(), {out_cpu.dtype()}, &gen);
  const auto g_cpu = grad({sum(out_cpu * w)}, diff_cpu, {}, std::nullopt, false, true);
  const auto g_cuda = grad({sum(out_cuda * w.to(gpu))}, diff_cuda, {}, std::nullopt, false, true);
  for (std::size_t i = 0; i < g_cpu.size(); ++i) {
    INFO("gradient of input " << i);
    REQUIRE(g_cpu[i].defined() == g_cuda[i].defined());
    if (g_cpu[i].defined()) CHECK(close_with_nans(g_cuda[i], g_cpu[i], tol));
  }
}

}  // namespace

TEST_CASE("CUDA: pointwise gradients, fused bias + activation, views and copies match the CPU", "[cuda]") {
  if (!have_gpu()) return;
  Generator gen(31);
  const Tensor x = randn({7, 9}, {}, &gen), row = randn({9}, {}, &gen), col = randn({7, 1}, {}, &gen);
  using V = std::vector<Tensor>;
#define TINYNN_CHECK_UNARY(Name, name) \
  check_parity(#name, {x}, [](const V& v) { return unary(UnaryOp::Name, v[0], test::unary_domain(UnaryOp::Name).params); });
  TINYNN_UNARY_OPS(TINYNN_CHECK_UNARY)
#undef TINYNN_CHECK_UNARY
#define TINYNN_CHECK_BINARY(Name, name)                                                        \
  check_parity(#name " broadcast over rows", {x, row}, [](const V& v) { return binary(BinaryOp::Name, v[0], v[1]); }); \
  check_parity(#name " broadcast both ways", {col, row}, [](const V& v) { return binary(BinaryOp::Name, v[0], v[1]); });
  TINYNN_BINARY_OPS(TINYNN_CHECK_BINARY)
#undef TINYNN_CHECK_BINARY
  check_parity("where", {x, row}, [](const V& v) { return where(v[0] > 0, v[0], v[1]); });
  for (UnaryOp op : {UnaryOp::Relu, UnaryOp::Gelu, UnaryOp::Tanh, UnaryOp::Sigmoid, UnaryOp::LeakyRelu})
    check_parity("bias_activation", {x, row}, [op](const V& v) { return bias_activation(v[0], v[1], op, {0.1, 0.0}); });
  check_parity("cat", {x, col}, [](const V& v) { return cat({v[0], v[1], v[0]}, 1); });
  check_parity("stack", {x, row}, [](const V& v) { return stack({v[0].narrow(0, 0, 1).squeeze(0), v[1]}, 1); });
  check_parity("permute and copy", {randn({3, 4, 5}, {}, &gen)}, [](const V& v) { return permute(v[0], {2, 0, 1}).contiguous(); });
  check_parity("expand", {col}, [](const V& v) { return v[0].expand({7, 9}) * 2.0; });
  check_parity("int64 to float casts", {randint(-5, 5, {4, 6}, {DType::Int64}, &gen)}, [](const V& v) { return v[0].to(DType::Float32) * 0.5; });
}

TEST_CASE("CUDA: reductions, scans, softmax and the fused loss match the CPU, with gradients", "[cuda]") {
  if (!have_gpu()) return;
  Generator gen(21);
  const Tensor x = randn({6, 5, 40}, {}, &gen), y = randn({300, 7}, {}, &gen);
  const Tensor labels = randint(0, 7, {300}, {DType::Int64}, &gen);
  const Tensor with_nan = tensor({{1.0, NAN, 2.0}, {3.0, 3.0, -1.0}});
  using V = std::vector<Tensor>;
  check_parity("sum all", {x}, [](const V& v) { return sum(v[0]); });
  check_parity("sum axes", {x}, [](const V& v) { return sum(v[0], {0, 2}, true); });
  check_parity("sum of a transposed view", {x}, [](const V& v) { return sum(v[0].transpose(0, 2), {1}); });
  check_parity("mean", {y}, [](const V& v) { return mean(v[0], {0}); });
  check_parity("sum_of_squares", {x}, [](const V& v) { return sum_of_squares(v[0], {1}); });
  check_parity("prod", {x}, [](const V& v) { return prod(v[0].narrow(2, 0, 4), {2}); });
  check_parity("amax", {x}, [](const V& v) { return amax(v[0], {1}); });
  check_parity("amin", {x}, [](const V& v) { return amin(v[0], {0, 1}); });
  check_parity("argmax", {y}, [](const V& v) { return argmax(v[0], 1); });
  check_parity("argmin", {y}, [](const V& v) { return argmin(v[0]); });
  check_parity("max with NaN and ties", {with_nan}, [](const V& v) { return argmax(v[0], 1); });
  check_parity("sum of bools", {y}, [](const V& v) { return sum(v[0] > 0, {0}); });
  check_parity("sum of int64", {labels}, [](const V& v) { return sum(v[0]); });
  // Few outputs over long inner blocks: the GPU splits these across blocks and combines the parts.
  const Tensor long_rows = randn({3, 100003}, {}, &gen);
  check_parity("split sum", {long_rows}, [](const V& v) { return sum(v[0]); }, 1e-4);
  check_parity("split sum per row", {long_rows}, [](const V& v) { return sum(v[0], {1}); }, 1e-4);
  check_parity("split sum of a column-major view", {long_rows}, [](const V& v) { return sum(v[0].t(), {0}); }, 1e-4);
  check_parity("split sum_of_squares", {long_rows}, [](const V& v) { return sum_of_squares(v[0]); }, 1e-4);
  check_parity("split prod", {long_rows}, [](const V& v) { return prod(1.0 + v[0] * 1e-3, {1}); }, 1e-4);
  check_parity("split count", {long_rows}, [](const V& v) { return sum(v[0] > 0.5); });
  check_parity("var", {y}, [](const V& v) { return var(v[0], {0}); });
  check_parity("norm", {x}, [](const V& v) { return norm(v[0], 2.0, {2}); });
  check_parity("logsumexp", {x}, [](const V& v) { return logsumexp(v[0], {2}); });
  check_parity("cumsum", {x}, [](const V& v) { return cumsum(v[0], 1); });
  check_parity("cumprod", {x}, [](const V& v) { return cumprod(v[0].narrow(2, 0, 5) * 0.5, 2); });
  check_parity("softmax", {y}, [](const V& v) { return softmax(v[0], 1); });
  check_parity("log_softmax", {x}, [](const V& v) { return log_softmax(v[0], 0); });
  for (double eps : {0.0, 0.1})
    check_parity("softmax_cross_entropy", {y, labels}, [eps](const V& v) { return softmax_cross_entropy(v[0], v[1], eps); });
  check_parity("softmax_cross_entropy, 70 classes", {randn({5, 70}, {}, &gen), tensor({0, 69, 33, 32, 31})},
               [](const V& v) { return softmax_cross_entropy(v[0], v[1], 0.05); });
  check_parity("nn::cross_entropy with weights", {y, labels},
               [](const V& v) { return nn::cross_entropy(v[0], v[1], {arange(1, 8, 1, {DType::Float32, v[0].device()})}); });
}

TEST_CASE("CUDA: indexing and matmul match the CPU, with gradients", "[cuda]") {
  if (!have_gpu()) return;
  Generator gen(22);
  const Tensor a = randn({4, 3, 8}, {}, &gen), b = randn({3, 8, 5}, {}, &gen), m = randn({65, 33}, {}, &gen);
  const Tensor idx = tensor({{0, 2, 2}, {1, 0, 7}});
  using V = std::vector<Tensor>;
  check_parity("gather", {m, idx}, [](const V& v) { return gather(v[0], 1, v[1]); });
  check_parity("index_select", {m, tensor({5, 5, 64, 0})}, [](const V& v) { return index_select(v[0], 0, v[1]); });
  check_parity("scatter_add", {zeros({3, 8}), idx, randn({2, 3}, {}, &gen)},
               [](const V& v) { return scatter_add(v[0], 1, v[1], v[2]); });
  check_parity("matmul", {m, randn({33, 17}, {}, &gen)}, [](const V& v) { return matmul(v[0], v[1]); });
  check_parity("matmul of transposed views", {m, randn({17, 65}, {}, &gen)},
               [](const V& v) { return matmul(v[0].t(), v[1].t()); });
  check_parity("batched matmul, broadcast batch", {a, b}, [](const V& v) { return matmul(v[0].unsqueeze(1), v[1]); });
  check_parity("matmul of a strided slice", {m}, [](const V& v) { return matmul(v[0].slice(0, 0, 65, 2), v[0].narrow(0, 0, 33).slice(1, 0, 33, 2)); });
  check_parity("matrix @ vector", {m, randn({33}, {}, &gen)}, [](const V& v) { return matmul(v[0], v[1]); });
  check_parity("int64 matmul", {tensor({{1, 2}, {3, 4}}), tensor({{5}, {6}})}, [](const V& v) { return matmul(v[0], v[1]); });
  check_parity("float64 matmul", {m.to(DType::Float64), m.to(DType::Float64)}, [](const V& v) { return matmul(v[0], v[1].t()); }, 1e-12);
  check_parity("matmul with an empty inner axis", {zeros({3, 0}), zeros({0, 4})}, [](const V& v) { return matmul(v[0], v[1]); });
}

// On the GPU the error comes at the next wait for the device (here: reading the result), not
// from the launch: checking at once would stall the queue at every gather.
TEST_CASE("CUDA: bad indices are errors, as on the CPU", "[cuda]") {
  if (!have_gpu()) return;
  const Device gpu = gpu_device();
  TINYNN_REQUIRE_THROWS_CONTAINING(gather(ones({2, 3}, {DType::Float32, gpu}), 1, tensor({{0}, {3}}).to(gpu)).to(Device::cpu()),
                                   IndexError, "gather: index 3 is out of range for an axis of size 3");
  TINYNN_REQUIRE_THROWS_CONTAINING(scatter_add(zeros({2, 3}).to(gpu), 1, tensor({{-1}, {0}}).to(gpu), ones({2, 1}).to(gpu)).to(Device::cpu()),
                                   IndexError, "scatter_add: index -1 is out of range for an axis of size 3");
  TINYNN_REQUIRE_THROWS_CONTAINING(softmax_cross_entropy(zeros({2, 3}).to(gpu), tensor({0, 4}).to(gpu)).to(Device::cpu()), IndexError,
                                   "class targets must lie in [0, 3), found 4");
  // Reported once, and the device is still usable: the next read finds nothing pending.
  CHECK(sum(ones({4}, {DType::Float32, gpu})).item() == 4.0);
}

TEST_CASE("CUDA: training steps match the CPU, and steady state allocates no new device memory", "[cuda][nn]") {
  if (!have_gpu()) return;
  const Device gpu = gpu_device();
  auto make_model = [] {
    Generator gen(4);
    auto model = std::make_shared<nn::Sequential>();
    model->add(std::make_shared<nn::Linear>(20, 32, true, &gen)).add(std::make_shared<nn::ReLU>());
    model->add(std::make_shared<nn::Linear>(32, 5, true, &gen));
    return model;
  };
  Generator gen(6);
  const Tensor x = randn({64, 20}, {}, &gen);
  const Tensor y = randint(0, 5, {64}, {DType::Int64}, &gen);
  auto cpu_model = make_model(), gpu_model = make_model();
  gpu_model->to(gpu);
  nn::Adam cpu_opt(cpu_model->parameters(), nn::adamw_options(1e-2, 1e-2));
  nn::Adam gpu_opt(gpu_model->parameters(), nn::adamw_options(1e-2, 1e-2));
  const Tensor gx = x.to(gpu), gy = y.to(gpu);
  auto step = [](nn::Sequential& model, nn::Adam& opt, const Tensor& in, const Tensor& target) {
    opt.zero_grad();
    Tensor loss = nn::cross_entropy(model(in), target, {Tensor(), 0.05});
    loss.backward();
    nn::clip_grad_norm(model.parameters(), 1.0);
    opt.step();
    return loss.item();
  };
  for (int i = 0; i < 20; ++i) CHECK(step(*gpu_model, gpu_opt, gx, gy) == Approx(step(*cpu_model, cpu_opt, x, y)).epsilon(1e-4));
  const auto gpu_params = gpu_model->parameters(), cpu_params = cpu_model->parameters();
  for (std::size_t i = 0; i < cpu_params.size(); ++i)
    CHECK(allclose(gpu_params[i].to(Device::cpu()), cpu_params[i], 1e-4, 1e-5));
  const auto before = memory_stats(gpu).system_allocations;
  for (int i = 0; i < 50; ++i) step(*gpu_model, gpu_opt, gx, gy);
  CHECK(memory_stats(gpu).system_allocations == before);
}

TEST_CASE("CUDA: a seed draws the same random numbers as on the CPU", "[cuda][random]") {
  if (!have_gpu()) return;
  const Device gpu = gpu_device();
  Generator cpu_gen(12), gpu_gen(12);
  CHECK(equal(rand({1001}, {DType::Float32, gpu}, &gpu_gen).to(Device::cpu()), rand({1001}, {DType::Float32}, &cpu_gen)));
  CHECK(equal(randint(0, 9, {77}, {DType::Int64, gpu}, &gpu_gen).to(Device::cpu()), randint(0, 9, {77}, {DType::Int64}, &cpu_gen)));
  CHECK(equal(bernoulli({999}, 0.3, {DType::Float32, gpu}, &gpu_gen, 2.0).to(Device::cpu()),
              bernoulli({999}, 0.3, {DType::Float32}, &cpu_gen, 2.0)));
  CHECK(allclose(randn({1001}, {DType::Float64, gpu}, &gpu_gen).to(Device::cpu()), randn({1001}, {DType::Float64}, &cpu_gen),
                 1e-12, 1e-12));
  CHECK(gpu_gen.offset() == cpu_gen.offset());
}

TEST_CASE("CUDA: linear algebra matches the CPU, with gradients", "[cuda][linalg]") {
  if (!have_gpu()) return;
  Generator gen(23);
  using V = std::vector<Tensor>;
  const Tensor a = randn({3, 4, 4}, {DType::Float64}, &gen) + eye(4, std::nullopt, {DType::Float64}) * 3.0;
  const Tensor b = randn({3, 4, 2}, {DType::Float64}, &gen), rect = randn({5, 3}, {DType::Float64}, &gen);
  const Tensor spd = matmul(a, a.transpose(-1, -2)) + eye(4, std::nullopt, {DType::Float64});
  const double tol = 1e-9;
  check_parity("solve", {a, b}, [](const V& v) { return linalg::solve(v[0], v[1]); }, tol);
  check_parity("det", {a}, [](const V& v) { return linalg::det(v[0]); }, tol);
  check_parity("inv", {a}, [](const V& v) { return linalg::inv(v[0]); }, tol);
  check_parity("cholesky", {spd}, [](const V& v) { return linalg::cholesky(v[0]); }, tol);
  check_parity("svdvals", {rect}, [](const V& v) { return linalg::svdvals(v[0]); }, tol);
  check_parity("svdvals of a wide matrix", {rect.t().contiguous()}, [](const V& v) { return linalg::svdvals(v[0]); }, tol);
  check_parity("eigvalsh", {spd}, [](const V& v) { return linalg::eigvalsh(v[0]); }, tol);
  check_parity("pinv", {rect}, [](const V& v) { return linalg::pinv(v[0]); }, tol);
  check_parity("lstsq", {rect, randn({5, 2}, {DType::Float64}, &gen)}, [](const V& v) { return linalg::lstsq(v[0], v[1]); }, tol);
  check_parity("qr: Q R", {rect}, [](const V& v) { const auto f = linalg::qr(v[0]); return matmul(f.Q, f.R); }, tol);
  check_parity("lu: P L U", {rect}, [](const V& v) { const auto f = linalg::lu(v[0]); return matmul(f.P, matmul(f.L, f.U)); }, tol);
  check_parity("svd: U S Vh", {rect}, [](const V& v) {
    const auto f = linalg::svd(v[0], false);
    return matmul(f.U * f.S.unsqueeze(0), f.Vh);
  }, tol);
  check_parity("eigvals", {a}, [](const V& v) { return sum(linalg::eigvals(v[0]).real, {-1}); }, tol);
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::inv(zeros({2, 2}, {DType::Float64, gpu_device()})), LinalgError, "singular");
}

namespace {
// max |x - y| over two tensors of any device, in float64 on the CPU.
double max_diff(const Tensor& x, const Tensor& y) {
  return amax(abs(x.to(Device::cpu()).to(DType::Float64) - y.to(Device::cpu()).to(DType::Float64))).item<double>();
}
// max |Q^T Q - I| for Q [..., m, k].
double orthogonality_error(const Tensor& q) {
  return max_diff(matmul(q.transpose(-1, -2), q), eye(q.size(-1), std::nullopt, {q.dtype(), q.device()}));
}
}  // namespace

// cuSOLVER is column-major: each op transposes or reinterprets its buffers, and SVD takes a
// different path for wide and tall matrices. Every path, batched, in both precisions, with the
// statuses (NaN, singular, not positive definite) reported per batch element.
TEST_CASE("CUDA: cuSOLVER factorizations on tall, wide and batched matrices", "[cuda][linalg]") {
  if (!have_gpu()) return;
  const Device gpu = gpu_device();
  for (DType t : {DType::Float64, DType::Float32}) {
    INFO("dtype " << dtype_name(t));
    const double tol = t == DType::Float64 ? 1e-10 : 2e-4;
    Generator gen(41);
    for (const Shape& shape : {Shape{2, 5, 3}, Shape{2, 3, 5}, Shape{2, 4, 4}}) {
      INFO("shape " << shape_str(shape));
      const Tensor a = randn(shape, {t}, &gen), ga = a.to(gpu);
      for (bool full : {false, true}) {
        INFO("full " << full);
        const auto s = linalg::svd(ga, full);
        CHECK(max_diff(s.S, linalg::svdvals(a)) < tol);
        const std::int64_t k = s.S.size(-1);
        CHECK(max_diff(matmul(s.U.narrow(-1, 0, k) * s.S.unsqueeze(-2), s.Vh.narrow(-2, 0, k)), a) < tol);
        CHECK(orthogonality_error(s.U) < tol);
        CHECK(orthogonality_error(s.Vh.transpose(-1, -2)) < tol);
        const auto f = linalg::qr(ga, full);
        CHECK(max_diff(matmul(f.Q, f.R), a) < tol);
        CHECK(orthogonality_error(f.Q) < tol);
        CHECK(max_diff(f.R, linalg::triu(f.R)) == 0.0);
      }
      const auto lu = linalg::lu(ga);
      CHECK(max_diff(matmul(lu.P, matmul(lu.L, lu.U)), a) < tol);
      CHECK(max_diff(lu.P, linalg::lu(a).P) == 0.0);  // the same partial pivoting
    }
    const Tensor m = randn({3, 4, 4}, {t}, &gen) + eye(4, std::nullopt, {t}) * 4.0;
    const Tensor spd = matmul(m, m.transpose(-1, -2)) + eye(4, std::nullopt, {t});
    const Tensor gm = m.to(gpu), gspd = spd.to(gpu), rhs = randn({3, 4, 2}, {t}, &gen);
    CHECK(max_diff(matmul(gm, linalg::solve(gm, rhs.to(gpu))), rhs) < tol * 10);
    CHECK(max_diff(linalg::det(gm), linalg::det(m)) < tol * 100);
    const Tensor l = linalg::cholesky(gspd);
    CHECK(max_diff(l, linalg::tril(l)) == 0.0);
    CHECK(max_diff(matmul(l, l.transpose(-1, -2)), spd) < tol * 10);
    const auto e = linalg::eigh(gspd);
    CHECK(max_diff(e.eigenvalues, linalg::eigvalsh(spd)) < tol * 10);
    CHECK(max_diff(matmul(gspd, e.eigenvectors), e.eigenvectors * e.eigenvalues.unsqueeze(-2)) < tol * 10);
    const auto ev = linalg::eigvals(gm), ev_cpu = linalg::eigvals(m);
    // The order of eigenvalues may differ from LAPACK's: compare sum(l) = trace(A) and
    // sum(Re(l^2)) = trace(A^2), both order-free.
    auto sums = [](const linalg::EigvalsResult& r) {
      return stack({sum(r.real, {-1}), sum(r.real * r.real - r.imag * r.imag, {-1})});
    };
    CHECK(max_diff(sums(ev), sums(ev_cpu)) < tol * 100);
  }
  // Statuses name the batch element; the others are still computed.
  std::vector<double> eyes(27, 0.0), singular_eyes(18, 0.0);
  for (int i = 0; i < 9; ++i) eyes[static_cast<std::size_t>(i * 3 + i % 3)] = 1.0;  // three 3x3 identities
  for (int i = 0; i < 6; ++i) singular_eyes[static_cast<std::size_t>(i * 3 + i % 3)] = 1.0;
  eyes[9 + 2 * 3 + 2] = NAN;
  singular_eyes[9 + 2 * 3 + 2] = 0.0;
  const Tensor bad = from_vector(eyes, {3, 3, 3});
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::svdvals(bad.to(gpu)), LinalgError, "NaN or infinity (batch element 1)");
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::eigvalsh(bad.to(gpu)), LinalgError, "NaN or infinity (batch element 1)");
  const Tensor singular = from_vector(singular_eyes, {2, 3, 3});
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::solve(singular.to(gpu), ones({2, 3, 1}, {DType::Float64, gpu})), LinalgError,
                                   "singular (U[2, 2] of its LU factorization is exactly zero) (batch element 1)");
  CHECK(linalg::det(singular.to(gpu)).to(Device::cpu()).data_ptr<double>()[1] == 0.0);
  TINYNN_REQUIRE_THROWS_CONTAINING(linalg::cholesky(-eye(3, std::nullopt, {DType::Float64, gpu})), LinalgError,
                                   "not positive definite (its leading minor of order 1");
}

TEST_CASE("CUDA: convolution, pooling and batch norm match the CPU, with gradients", "[cuda][conv]") {
  if (!have_gpu()) return;
  using V = std::vector<Tensor>;
  Generator gen(11);
  const Tensor x = randn({3, 4, 9, 7}, {}, &gen), w = randn({6, 2, 3, 2}, {}, &gen), b = randn({6}, {}, &gen);
  // Float32 on the CPU runs oneDNN or tinynn's loops; the GPU runs cuDNN (FMA math, no TF32) or,
  // in a build without it, the reference kernels: sums in another order.
  check_parity("conv2d groups, stride, padding, dilation", {x, w, b},
               [](const V& v) { return conv2d(v[0], v[1], v[2], {2, 1}, {1, 1}, {1, 2}, 2); }, 1e-4);
  check_parity("conv2d 1x1, batch 1", {x.narrow(0, 0, 1), randn({5, 4, 1, 1}, {}, &gen)},
               [](const V& v) { return conv2d(v[0], v[1]); }, 1e-4);
  // The shipped CNNs' convolutions (a few images), and float64 (cuDNN's double kernels).
  check_parity("conv2d 1 -> 32, 28 x 28", {randn({4, 1, 28, 28}, {}, &gen), randn({32, 1, 3, 3}, {}, &gen), randn({32}, {}, &gen)},
               [](const V& v) { return conv2d(v[0], v[1], v[2], {1, 1}, {1, 1}); }, 1e-4);
  check_parity("conv2d 32 -> 64, 14 x 14",
               {randn({4, 32, 14, 14}, {}, &gen), randn({64, 32, 3, 3}, {}, &gen) * 0.1, randn({64}, {}, &gen)},
               [](const V& v) { return conv2d(v[0], v[1], v[2], {1, 1}, {1, 1}); }, 1e-4);
  check_parity("conv2d float64", {x.to(DType::Float64), w.to(DType::Float64), b.to(DType::Float64)},
               [](const V& v) { return conv2d(v[0], v[1], v[2], {1, 2}, {0, 1}, {1, 1}, 2); }, 1e-10);
  check_parity("max_pool2d 2x2", {x}, [](const V& v) { return max_pool2d(v[0], {2, 2}); });
  check_parity("max_pool2d padding, dilation, ceil_mode", {x},
               [](const V& v) { return max_pool2d(v[0], {3, 2}, Size2{2, 2}, {1, 1}, {2, 1}, true); });
  check_parity("avg_pool2d count_include_pad off, ceil_mode", {x},
               [](const V& v) { return avg_pool2d(v[0], {3, 3}, Size2{2, 2}, {1, 1}, true, false); });
  check_parity("adaptive_avg_pool2d", {x}, [](const V& v) { return adaptive_avg_pool2d(v[0], {2, 3}); });
  const Tensor gamma = randn({4}, {}, &gen), beta = randn({4}, {}, &gen);
  check_parity("batch_norm training", {x, gamma, beta},
               [](const V& v) { return batch_norm(v[0], Tensor(), Tensor(), v[1], v[2], true); }, 1e-4);
  check_parity("batch_norm eval", {x, gamma},
               [](const V& v) {
                 const Tensor mean = full({4}, 0.25, {DType::Float32, v[0].device()});
                 const Tensor var = full({4}, 2.0, {DType::Float32, v[0].device()});
                 return batch_norm(v[0], mean, var, v[1], Tensor(), false);
               });
}
