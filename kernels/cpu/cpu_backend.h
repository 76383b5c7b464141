// The CPU backend: reference loops everywhere, oneDNN for matmul and convolution when built with it.
#pragma once
#include <tinynn/core/backend.h>

namespace tinynn::cpu {

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu(); }
  void* allocate(std::size_t nbytes) override;
  void deallocate(void* ptr, std::size_t nbytes) override;
  void copy_from_host(void* dst, const void* host_src, std::size_t nbytes) override;
  void copy_to_host(void* host_dst, const void* src, std::size_t nbytes) override;
  void synchronize() override {}
  MemoryStats memory_stats() const override;

  void fill(const ElementwisePlan<1>& plan, DType t, void* out, double value) override;
  void copy(const ElementwisePlan<2>& plan, DType out_t, void* out, DType in_t, const void* in) override;
  void unary(UnaryOp op, const UnaryParams& params, const ElementwisePlan<2>& plan, DType t, void* out,
             const void* in) override;
  void unary_backward(UnaryOp op, const UnaryParams& params, const ElementwisePlan<4>& plan, DType t, void* gx, const void* g,
                      const void* x, const void* y) override;
  void binary(BinaryOp op, const ElementwisePlan<3>& plan, DType t, void* out, const void* a, const void* b) override;
  void where(const ElementwisePlan<4>& plan, DType t, void* out, const bool* cond, const void* a,
             const void* b) override;
  void reduce(ReduceOp op, const ReducePlan& plan, DType t, void* out, const void* in) override;
  void scan(ScanOp op, const ScanPlan& plan, DType t, void* out, const void* in) override;
  void gather(const IndexPlan& plan, DType t, void* out, const std::int64_t* index, const void* src) override;
  void scatter_add(const IndexPlan& plan, DType t, void* out, const std::int64_t* index, const void* src) override;
  void matmul(const MatmulPlan& plan, DType t, void* out, const void* a, const void* b) override;
  void cross_entropy(const CrossEntropyPlan& plan, DType t, void* loss, void* lse, const void* logits,
                     const std::int64_t* target) override;
  void cross_entropy_backward(const CrossEntropyPlan& plan, DType t, void* grad_logits, const void* grad_loss,
                              const void* logits, const void* lse, const std::int64_t* target) override;
  void random(const RandomPlan& plan, DType t, void* out) override;
  void bias_activation(const BiasActivationPlan& plan, DType t, void* y, const void* x, const void* bias) override;
  void bias_activation_backward(const BiasActivationPlan& plan, DType t, void* gx, void* gbias, const void* g, const void* x,
                                const void* bias, const void* y) override;
  void optimizer_step(const OptimizerStep& step, DType t, const OptimizerTensors* tensors, std::size_t count) override;
  double penalty_gradients(DType t, const PenaltyTensors* tensors, std::size_t count, double scale) override;
  ConvLayouts conv2d_layouts(const ConvPlan& plan, DType t, ConvPass pass, bool bias) override;
  void conv2d(const ConvPlan& plan, DType t, void* y, const void* x, const void* w, const void* bias,
              const ChannelBlockedArgs& blocked) override;
  void conv2d_backward_data(const ConvPlan& plan, DType t, void* gx, const void* gy, const void* w,
                            const ChannelBlockedArgs& blocked) override;
  void conv2d_backward_weight(const ConvPlan& plan, DType t, void* gw, const void* x, const void* gy,
                              const ChannelBlockedArgs& blocked) override;
  bool channel_blocked_to_plain(const std::int64_t (&nchw)[4], int lanes, void* plain, const void* blocked) override;
  void max_pool2d(const PoolPlan& plan, DType t, void* y, std::int64_t* indices, const void* x) override;
  void avg_pool2d(const PoolPlan& plan, DType t, void* y, const void* x) override;
  void avg_pool2d_backward(const PoolPlan& plan, DType t, void* gx, const void* gy) override;
  void batch_norm_stats(const BatchNormPlan& plan, DType t, void* mean, void* var, void* invstd, const void* x) override;
  void batch_norm_apply(const BatchNormPlan& plan, DType t, void* y, const void* x, const void* mean, const void* invstd,
                        const void* weight, const void* bias) override;
  void batch_norm_backward(const BatchNormPlan& plan, DType t, void* gx, void* gweight, void* gbias, const void* g,
                           const void* x, const void* mean, const void* invstd, const void* weight) override;
  ConvBlockSizes conv_block_sizes(const ConvBlockPlan& plan) override;
  void conv_block_forward(const ConvBlockPlan& plan, void* y, void* mean, void* var, void* const* saved, const void* x,
                          const void* w, const void* bias, const void* gamma, const void* beta,
                          const ChannelBlockedArgs& blocked) override;
  void conv_block_backward(const ConvBlockPlan& plan, void* gx, void* gw, void* gbias, void* ggamma, void* gbeta, const void* gy,
                           const void* const* saved, const void* mean, const void* var, const void* x, const void* w,
                           const void* gamma, const void* beta, const ChannelBlockedArgs& blocked) override;
  void linalg(const LinalgPlan& plan) override;
};

}  // namespace tinynn::cpu
