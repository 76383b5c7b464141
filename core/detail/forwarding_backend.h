// A backend that forwards every entry to another one and reports each call (its entry, the op's
// name for pointwise calls, and the seconds it took) to an observer: for tests that count what
// reaches the backend, and for profiles of where a training step's time goes (bench/profile_step).
// Install it with detail::set_cpu_backend_override(&forwarding). A new pure virtual in Backend
// fails to compile here until it is forwarded too; it is also the smallest complete backend.
#pragma once
#include <chrono>
#include <functional>
#include <utility>

#include "../backend.h"

namespace tinynn::detail {

class ForwardingBackend final : public Backend {
 public:
  // observer(entry, detail, seconds) after each call; detail is the op's name for unary and
  // binary ("relu"), else "".
  using Observer = std::function<void(const char* entry, const char* detail, double seconds)>;
  ForwardingBackend(Backend& inner, Observer observer) : inner_(inner), observer_(std::move(observer)) {}

  Device device() const override { return inner_.device(); }
  void* allocate(std::size_t n) override { const Timed timed(*this, "allocate"); return inner_.allocate(n); }
  void deallocate(void* p, std::size_t n) override { inner_.deallocate(p, n); }
  void copy_from_host(void* d, const void* s, std::size_t n) override {
    const Timed timed(*this, "copy_from_host");
    inner_.copy_from_host(d, s, n);
  }
  void copy_to_host(void* d, const void* s, std::size_t n) override {
    const Timed timed(*this, "copy_to_host");
    inner_.copy_to_host(d, s, n);
  }
  void synchronize() override { inner_.synchronize(); }
  MemoryStats memory_stats() const override { return inner_.memory_stats(); }
  void fill(const ElementwisePlan<1>& p, DType t, void* o, double v) override {
    const Timed timed(*this, "fill");
    inner_.fill(p, t, o, v);
  }
  void copy(const ElementwisePlan<2>& p, DType ot, void* o, DType it, const void* i) override {
    const Timed timed(*this, "copy");
    inner_.copy(p, ot, o, it, i);
  }
  void unary(UnaryOp op, const UnaryParams& pr, const ElementwisePlan<2>& p, DType t, void* o, const void* i) override {
    const Timed timed(*this, "unary", unary_op_name(op));
    inner_.unary(op, pr, p, t, o, i);
  }
  void unary_backward(UnaryOp op, const UnaryParams& pr, const ElementwisePlan<4>& p, DType t, void* gx, const void* g,
                      const void* x, const void* y) override {
    const Timed timed(*this, "unary_backward", unary_op_name(op));
    inner_.unary_backward(op, pr, p, t, gx, g, x, y);
  }
  void binary(BinaryOp op, const ElementwisePlan<3>& p, DType t, void* o, const void* a, const void* b) override {
    const Timed timed(*this, "binary", binary_op_name(op));
    inner_.binary(op, p, t, o, a, b);
  }
  void where(const ElementwisePlan<4>& p, DType t, void* o, const bool* c, const void* a, const void* b) override {
    const Timed timed(*this, "where");
    inner_.where(p, t, o, c, a, b);
  }
  void reduce(ReduceOp op, const ReducePlan& p, DType t, void* o, const void* i) override {
    const Timed timed(*this, "reduce");
    inner_.reduce(op, p, t, o, i);
  }
  void scan(ScanOp op, const ScanPlan& p, DType t, void* o, const void* i) override {
    const Timed timed(*this, "scan");
    inner_.scan(op, p, t, o, i);
  }
  void gather(const IndexPlan& p, DType t, void* o, const std::int64_t* idx, const void* s) override {
    const Timed timed(*this, "gather");
    inner_.gather(p, t, o, idx, s);
  }
  void scatter_add(const IndexPlan& p, DType t, void* o, const std::int64_t* idx, const void* s) override {
    const Timed timed(*this, "scatter_add");
    inner_.scatter_add(p, t, o, idx, s);
  }
  void matmul(const MatmulPlan& p, DType t, void* o, const void* a, const void* b) override {
    const Timed timed(*this, "matmul");
    inner_.matmul(p, t, o, a, b);
  }
  void cross_entropy(const CrossEntropyPlan& p, DType t, void* loss, void* lse, const void* x, const std::int64_t* y) override {
    const Timed timed(*this, "cross_entropy");
    inner_.cross_entropy(p, t, loss, lse, x, y);
  }
  void cross_entropy_backward(const CrossEntropyPlan& p, DType t, void* gx, const void* g, const void* x, const void* lse,
                              const std::int64_t* y) override {
    const Timed timed(*this, "cross_entropy_backward");
    inner_.cross_entropy_backward(p, t, gx, g, x, lse, y);
  }
  void random(const RandomPlan& p, DType t, void* o) override {
    const Timed timed(*this, "random");
    inner_.random(p, t, o);
  }
  void bias_activation(const BiasActivationPlan& p, DType t, void* y, const void* x, const void* b) override {
    const Timed timed(*this, "bias_activation");
    inner_.bias_activation(p, t, y, x, b);
  }
  void bias_activation_backward(const BiasActivationPlan& p, DType t, void* gx, void* gb, const void* g, const void* x,
                                const void* b, const void* y) override {
    const Timed timed(*this, "bias_activation_backward");
    inner_.bias_activation_backward(p, t, gx, gb, g, x, b, y);
  }
  void optimizer_step(const OptimizerStep& s, DType t, const OptimizerTensors* ts, std::size_t n) override {
    const Timed timed(*this, "optimizer_step");
    inner_.optimizer_step(s, t, ts, n);
  }
  double penalty_gradients(DType t, const PenaltyTensors* ts, std::size_t n, double scale) override {
    const Timed timed(*this, "penalty_gradients");
    return inner_.penalty_gradients(t, ts, n, scale);
  }
  void linalg(const LinalgPlan& p) override { const Timed timed(*this, "linalg"); inner_.linalg(p); }
  ConvLayouts conv2d_layouts(const ConvPlan& p, DType t, ConvPass pass, bool bias) override {
    return inner_.conv2d_layouts(p, t, pass, bias);
  }
  void conv2d(const ConvPlan& p, DType t, void* y, const void* x, const void* w, const void* b,
              const ChannelBlockedArgs& blocked) override {
    const Timed timed(*this, "conv2d");
    inner_.conv2d(p, t, y, x, w, b, blocked);
  }
  void conv2d_backward_data(const ConvPlan& p, DType t, void* gx, const void* gy, const void* w,
                            const ChannelBlockedArgs& blocked) override {
    const Timed timed(*this, "conv2d_backward_data");
    inner_.conv2d_backward_data(p, t, gx, gy, w, blocked);
  }
  void conv2d_backward_weight(const ConvPlan& p, DType t, void* gw, const void* x, const void* gy,
                              const ChannelBlockedArgs& blocked) override {
    const Timed timed(*this, "conv2d_backward_weight");
    inner_.conv2d_backward_weight(p, t, gw, x, gy, blocked);
  }
  bool channel_blocked_to_plain(const std::int64_t (&nchw)[4], int lanes, void* plain, const void* blocked) override {
    const Timed timed(*this, "channel_blocked_to_plain");
    return inner_.channel_blocked_to_plain(nchw, lanes, plain, blocked);
  }
  void max_pool2d(const PoolPlan& p, DType t, void* y, std::int64_t* i, const void* x) override {
    const Timed timed(*this, "max_pool2d");
    inner_.max_pool2d(p, t, y, i, x);
  }
  void avg_pool2d(const PoolPlan& p, DType t, void* y, const void* x) override {
    const Timed timed(*this, "avg_pool2d");
    inner_.avg_pool2d(p, t, y, x);
  }
  void avg_pool2d_backward(const PoolPlan& p, DType t, void* gx, const void* gy) override {
    const Timed timed(*this, "avg_pool2d_backward");
    inner_.avg_pool2d_backward(p, t, gx, gy);
  }
  void batch_norm_stats(const BatchNormPlan& p, DType t, void* m, void* v, void* is, const void* x) override {
    const Timed timed(*this, "batch_norm_stats");
    inner_.batch_norm_stats(p, t, m, v, is, x);
  }
  void batch_norm_apply(const BatchNormPlan& p, DType t, void* y, const void* x, const void* m, const void* is, const void* w,
                        const void* b) override {
    const Timed timed(*this, "batch_norm_apply");
    inner_.batch_norm_apply(p, t, y, x, m, is, w, b);
  }
  void batch_norm_backward(const BatchNormPlan& p, DType t, void* gx, void* gw, void* gb, const void* g, const void* x,
                           const void* m, const void* is, const void* w) override {
    const Timed timed(*this, "batch_norm_backward");
    inner_.batch_norm_backward(p, t, gx, gw, gb, g, x, m, is, w);
  }
  ConvBlockSizes conv_block_sizes(const ConvBlockPlan& p) override { return inner_.conv_block_sizes(p); }
  void conv_block_forward(const ConvBlockPlan& p, void* y, void* m, void* v, void* const* saved, const void* x, const void* w,
                          const void* b, const void* gamma, const void* beta, const ChannelBlockedArgs& blocked) override {
    const Timed timed(*this, "conv_block_forward");
    inner_.conv_block_forward(p, y, m, v, saved, x, w, b, gamma, beta, blocked);
  }
  void conv_block_backward(const ConvBlockPlan& p, void* gx, void* gw, void* gb, void* ggamma, void* gbeta, const void* gy,
                           const void* const* saved, const void* m, const void* v, const void* x, const void* w,
                           const void* gamma, const void* beta, const ChannelBlockedArgs& blocked) override {
    const Timed timed(*this, "conv_block_backward");
    inner_.conv_block_backward(p, gx, gw, gb, ggamma, gbeta, gy, saved, m, v, x, w, gamma, beta, blocked);
  }

 private:
  // Times one forwarded call and reports it to the observer.
  struct Timed {
    Timed(const ForwardingBackend& b, const char* entry, const char* detail = "")
        : backend(b), entry(entry), detail(detail), start(std::chrono::steady_clock::now()) {}
    ~Timed() {
      backend.observer_(entry, detail, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    Timed(const Timed&) = delete;
    Timed& operator=(const Timed&) = delete;
    const ForwardingBackend& backend;
    const char *entry, *detail;
    std::chrono::steady_clock::time_point start;
  };
  Backend& inner_;
  Observer observer_;
};

}  // namespace tinynn::detail
