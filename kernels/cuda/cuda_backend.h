// The CUDA backend: one instance per GPU, one stream each, so every kernel, copy and cuBLAS call
// of a device runs in issue order and freed memory can be handed out again at once. Elementwise
// kernels come from the shared pointwise table; matmul is cuBLAS, linear algebra cuSOLVER.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <deque>
#include <mutex>
#include <vector>

#include <tinynn/core/backend.h>
#include <tinynn/core/host_device.h>

#include "../common/caching_allocator.h"

namespace tinynn::cuda {

// Which kernel found a bad index, in the backend's error flag: an IndexCaller's value, or a class target.
enum class IndexCheck : std::int64_t { None = 0, ClassTarget = -1 };
TINYNN_HD constexpr IndexCheck index_check_of(IndexCaller caller) { return static_cast<IndexCheck>(caller); }

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int index);
  ~CudaBackend() override;
  Device device() const override { return Device::cuda(index_); }
  cudaStream_t stream() const { return stream_; }
  void activate() const;  // makes this GPU current for the calling thread

  void* allocate(std::size_t nbytes) override;
  void deallocate(void* ptr, std::size_t nbytes) override;
  void copy_from_host(void* dst, const void* host_src, std::size_t nbytes) override;
  void copy_to_host(void* host_dst, const void* src, std::size_t nbytes) override;
  void synchronize() override;
  MemoryStats memory_stats() const override { return device_memory_.stats(); }

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
  // The cuSOLVER handle on this backend's stream, and its 64-bit API's default options; made on first use.
  cusolverDnHandle_t cusolver();
  cusolverDnParams_t cusolver_params();

 private:
  // Kernels that find a bad index record {IndexCheck, index, axis size} in error_flag_ (see
  // index_in_range). Checking it would cost a wait for the GPU per gather, so it is read at the
  // waits the host makes anyway (copy_to_host, synchronize): the IndexError is raised there, like
  // PyTorch's device-side asserts, but the device stays usable.
  void raise_index_errors();
  void release_finished_staging(bool wait_all);
  void linalg_on_host(const LinalgPlan& plan);

  int index_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  std::mutex cusolver_mutex_;
  cusolverDnHandle_t cusolver_ = nullptr;
  cusolverDnParams_t cusolver_params_ = nullptr;
  std::int64_t* error_flag_host_ = nullptr;  // [3], page-locked host memory the kernels write through error_flag_
  std::int64_t* error_flag_ = nullptr;
  CachingAllocator device_memory_;
  CachingAllocator pinned_memory_;  // page-locked host buffers: host-to-device copies run asynchronously
  // Pinned staging buffers of copies still in flight, released once their event has passed.
  struct Staging {
    void* buffer;
    std::size_t nbytes;
    cudaEvent_t done;
  };
  std::mutex staging_mutex_;
  std::deque<Staging> staging_;
  std::vector<cudaEvent_t> free_events_;  // of finished copies, for the next ones
};

// Kernel scratch from a backend's caching allocator, given back on scope exit: at once, since
// the stream runs the block's next user after every queued kernel that still uses it.
class DeviceScratch {
 public:
  DeviceScratch(CudaBackend& backend, std::size_t nbytes)
      : backend_(backend), nbytes_(nbytes), ptr_(nbytes > 0 ? backend.allocate(nbytes) : nullptr) {}
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  ~DeviceScratch() {
    if (ptr_ != nullptr) backend_.deallocate(ptr_, nbytes_);
  }
  void* get() const { return ptr_; }
  std::size_t size() const { return nbytes_; }

 private:
  CudaBackend& backend_;
  std::size_t nbytes_;
  void* ptr_;
};

}  // namespace tinynn::cuda
