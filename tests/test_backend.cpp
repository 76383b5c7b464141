// The backend interface is complete: a backend that only forwards to the CPU one (and counts
// calls) runs training steps, reductions, indexing, random draws and linear algebra with the same
// results, so the core reaches hardware through core/backend.h alone. core/README.md walks
// through adding a backend; this forwarding one is its smallest example.
#include <tinynn/core/detail/forwarding_backend.h>

#include <map>
#include <string>

#include "test_helpers.h"

using namespace tinynn;

namespace {

// A little of everything the library does, returned as numbers to compare.
std::vector<double> workload() {
  Generator gen(4);
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_shared<nn::Linear>(6, 8, true, &gen)).add(std::make_shared<nn::ReLU>());
  model->add(std::make_shared<nn::Dropout>(0.25, &gen)).add(std::make_shared<nn::Linear>(8, 3, true, &gen));
  nn::Adam adam(model->parameters(), nn::adamw_options(1e-2));
  nn::StepOptions options;
  options.clip_max_norm = 1.0;
  options.count_correct = true;
  nn::TrainStep step(*model, adam, [](const Tensor& o, const Tensor& t) { return nn::cross_entropy(o, t); }, options);
  const Tensor x = randn({10, 6}, {}, &gen);
  const Tensor y = randint(0, 3, {10}, {DType::Int64}, &gen);
  std::vector<double> out;
  for (int i = 0; i < 3; ++i) {
    const nn::StepResult r = step(x, y);
    out.insert(out.end(), {r.loss, r.grad_norm, r.correct});
  }
  for (const Tensor& p : model->parameters())
    for (double v : p.to_vector<double>()) out.push_back(v);
  const Tensor a = randn({4, 4}, {DType::Float64}, &gen) + eye(4, std::nullopt, {DType::Float64}) * 4.0;
  for (double v : linalg::solve(a, ones({4, 1}, {DType::Float64})).to_vector<double>()) out.push_back(v);
  for (double v : cumsum(where(x > 0.0, x, 0.0), 1).to_vector<double>()) out.push_back(v);
  const Tensor idx = from_vector(std::vector<std::int64_t>{2, 0}, {2});
  for (double v : scatter_add(zeros({3, 6}), 0, idx.unsqueeze(1).expand({2, 6}), index_select(x, 0, idx)).to_vector<double>())
    out.push_back(v);
  // Convolution and pooling, forward and backward.
  const Tensor image = randn({2, 2, 5, 5}, {}, &gen).requires_grad_(), kernel = randn({3, 2, 3, 3}, {}, &gen).requires_grad_();
  const Tensor features = conv2d(image, kernel, Tensor(), {1, 1}, {1, 1});
  const Tensor bn_weight = ones({3}).requires_grad_();
  sum(max_pool2d(gelu(features), {2, 2}) + avg_pool2d(batch_norm(features, Tensor(), Tensor(), bn_weight, Tensor(), true), {2, 2}))
      .backward();
  for (const Tensor& t : {features.detach(), image.grad(), kernel.grad()})
    for (double v : t.to_vector<double>()) out.push_back(v);
  return out;
}

}  // namespace

TEST_CASE("a forwarding backend runs everything with the same results", "[backend]") {
  const std::vector<double> direct = workload();
  std::map<std::string, int> calls;
  detail::ForwardingBackend forwarding(detail::cpu_backend(), [&calls](const char* entry, const char*, double) { ++calls[entry]; });
  detail::set_cpu_backend_override(&forwarding);
  std::vector<double> through;
  try {
    through = workload();
  } catch (...) {
    detail::set_cpu_backend_override(nullptr);
    throw;
  }
  detail::set_cpu_backend_override(nullptr);
  CHECK(through == direct);  // bit for bit
  for (const char* entry : {"allocate", "fill", "copy", "unary", "unary_backward", "binary", "where", "reduce", "scan", "gather", "scatter_add",
                            "matmul", "cross_entropy", "cross_entropy_backward", "random", "bias_activation",
                            "bias_activation_backward", "optimizer_step", "linalg", "conv2d", "conv2d_backward_data",
                            "conv2d_backward_weight", "max_pool2d", "avg_pool2d", "avg_pool2d_backward",
                            "batch_norm_stats", "batch_norm_apply", "batch_norm_backward"}) {  // (the CPU's memory is read in place)
    INFO("backend entry " << entry);
    CHECK(calls[entry] > 0);
  }
}
