// The backend interface is complete: a backend that only forwards to the CPU one (and counts
// calls) runs training steps, reductions, indexing, random draws and linear algebra with the same
// results, so the core reaches hardware through core/backend.h alone. core/README.md walks
// through adding a backend; this forwarding one is its smallest example.
#include <map>
#include <string>

#include "test_helpers.h"

using namespace tinynn;

namespace {

// Every entry forwards to `inner`; `calls` counts them by name. A new pure virtual in Backend
// fails to compile here until it is forwarded too.
class ForwardingBackend final : public Backend {
 public:
  explicit ForwardingBackend(Backend& inner) : inner_(inner) {}
  std::map<std::string, int> calls;

  Device device() const override { return inner_.device(); }
  void* allocate(std::size_t n) override { return count("allocate"), inner_.allocate(n); }
  void deallocate(void* p, std::size_t n) override { inner_.deallocate(p, n); }
  void copy_from_host(void* d, const void* s, std::size_t n) override { count("copy_from_host"), inner_.copy_from_host(d, s, n); }
  void copy_to_host(void* d, const void* s, std::size_t n) override { count("copy_to_host"), inner_.copy_to_host(d, s, n); }
  void synchronize() override { inner_.synchronize(); }
  MemoryStats memory_stats() const override { return inner_.memory_stats(); }
  void fill(const ElementwisePlan<1>& p, DType t, void* o, double v) override { count("fill"), inner_.fill(p, t, o, v); }
  void copy(const ElementwisePlan<2>& p, DType ot, void* o, DType it, const void* i) override {
    count("copy"), inner_.copy(p, ot, o, it, i);
  }
  void unary(UnaryOp op, const UnaryParams& pr, const ElementwisePlan<2>& p, DType t, void* o, const void* i) override {
    count("unary"), inner_.unary(op, pr, p, t, o, i);
  }
  void binary(BinaryOp op, const ElementwisePlan<3>& p, DType t, void* o, const void* a, const void* b) override {
    count("binary"), inner_.binary(op, p, t, o, a, b);
  }
  void where(const ElementwisePlan<4>& p, DType t, void* o, const bool* c, const void* a, const void* b) override {
    count("where"), inner_.where(p, t, o, c, a, b);
  }
  void reduce(ReduceOp op, const ReducePlan& p, DType t, void* o, const void* i) override { count("reduce"), inner_.reduce(op, p, t, o, i); }
  void scan(ScanOp op, const ScanPlan& p, DType t, void* o, const void* i) override { count("scan"), inner_.scan(op, p, t, o, i); }
  void gather(const IndexPlan& p, DType t, void* o, const std::int64_t* idx, const void* s) override {
    count("gather"), inner_.gather(p, t, o, idx, s);
  }
  void scatter_add(const IndexPlan& p, DType t, void* o, const std::int64_t* idx, const void* s) override {
    count("scatter_add"), inner_.scatter_add(p, t, o, idx, s);
  }
  void matmul(const MatmulPlan& p, DType t, void* o, const void* a, const void* b) override { count("matmul"), inner_.matmul(p, t, o, a, b); }
  void cross_entropy(const CrossEntropyPlan& p, DType t, void* loss, void* lse, const void* x, const std::int64_t* y) override {
    count("cross_entropy"), inner_.cross_entropy(p, t, loss, lse, x, y);
  }
  void cross_entropy_backward(const CrossEntropyPlan& p, DType t, void* gx, const void* g, const void* x, const void* lse,
                              const std::int64_t* y) override {
    count("cross_entropy_backward"), inner_.cross_entropy_backward(p, t, gx, g, x, lse, y);
  }
  void random(const RandomPlan& p, DType t, void* o) override { count("random"), inner_.random(p, t, o); }
  void bias_activation(const BiasActivationPlan& p, DType t, void* y, const void* x, const void* b) override {
    count("bias_activation"), inner_.bias_activation(p, t, y, x, b);
  }
  void bias_activation_backward(const BiasActivationPlan& p, DType t, void* gx, void* gb, const void* g, const void* x,
                                const void* b, const void* y) override {
    count("bias_activation_backward"), inner_.bias_activation_backward(p, t, gx, gb, g, x, b, y);
  }
  void adam_step(const AdamStep& s, DType t, const AdamTensors* ts, std::size_t n) override { count("adam_step"), inner_.adam_step(s, t, ts, n); }
  void linalg(const LinalgPlan& p) override { count("linalg"), inner_.linalg(p); }
  void conv2d(const ConvPlan& p, DType t, void* y, const void* x, const void* w, const void* b) override {
    count("conv2d"), inner_.conv2d(p, t, y, x, w, b);
  }
  void conv2d_backward_data(const ConvPlan& p, DType t, void* gx, const void* gy, const void* w) override {
    count("conv2d_backward_data"), inner_.conv2d_backward_data(p, t, gx, gy, w);
  }
  void conv2d_backward_weight(const ConvPlan& p, DType t, void* gw, const void* x, const void* gy) override {
    count("conv2d_backward_weight"), inner_.conv2d_backward_weight(p, t, gw, x, gy);
  }
  void max_pool2d(const PoolPlan& p, DType t, void* y, std::int64_t* i, const void* x) override {
    count("max_pool2d"), inner_.max_pool2d(p, t, y, i, x);
  }
  void avg_pool2d(const PoolPlan& p, DType t, void* y, const void* x) override { count("avg_pool2d"), inner_.avg_pool2d(p, t, y, x); }
  void avg_pool2d_backward(const PoolPlan& p, DType t, void* gx, const void* gy) override {
    count("avg_pool2d_backward"), inner_.avg_pool2d_backward(p, t, gx, gy);
  }
  void batch_norm_stats(const BatchNormPlan& p, DType t, void* m, void* v, void* is, const void* x) override {
    count("batch_norm_stats"), inner_.batch_norm_stats(p, t, m, v, is, x);
  }
  void batch_norm_apply(const BatchNormPlan& p, DType t, void* y, const void* x, const void* m, const void* is, const void* w,
                        const void* b) override {
    count("batch_norm_apply"), inner_.batch_norm_apply(p, t, y, x, m, is, w, b);
  }
  void batch_norm_backward(const BatchNormPlan& p, DType t, void* gx, void* gw, void* gb, const void* g, const void* x,
                           const void* m, const void* is, const void* w) override {
    count("batch_norm_backward"), inner_.batch_norm_backward(p, t, gx, gw, gb, g, x, m, is, w);
  }

 private:
  void count(const char* name) { ++calls[name]; }
  Backend& inner_;
};

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
  sum(max_pool2d(features, {2, 2}) + avg_pool2d(batch_norm(features, Tensor(), Tensor(), bn_weight, Tensor(), true), {2, 2}))
      .backward();
  for (const Tensor& t : {features.detach(), image.grad(), kernel.grad()})
    for (double v : t.to_vector<double>()) out.push_back(v);
  return out;
}

}  // namespace

TEST_CASE("a forwarding backend runs everything with the same results", "[backend]") {
  const std::vector<double> direct = workload();
  ForwardingBackend forwarding(detail::cpu_backend());
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
  for (const char* entry : {"allocate", "fill", "copy", "unary", "binary", "where", "reduce", "scan", "gather", "scatter_add",
                            "matmul", "cross_entropy", "cross_entropy_backward", "random", "bias_activation",
                            "bias_activation_backward", "adam_step", "linalg", "conv2d", "conv2d_backward_data",
                            "conv2d_backward_weight", "max_pool2d", "avg_pool2d", "avg_pool2d_backward",
                            "batch_norm_stats", "batch_norm_apply", "batch_norm_backward"}) {  // (the CPU's memory is read in place)
    INFO("backend entry " << entry);
    CHECK(forwarding.calls[entry] > 0);
  }
}
