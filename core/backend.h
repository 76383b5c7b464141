// The backend interface: what every device (CPU, CUDA) must implement. Kernels receive plans
// (shapes, per-operand strides in elements with 0 on broadcast axes) and raw pointers that
// already include each tensor's offset; they decide no semantics. Core builds the plans.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "device.h"
#include "dtype.h"
#include "optimizer_math.h"
#include "pointwise_table.h"

namespace tinynn {

constexpr int kMaxDims = 12;

// N operands iterated over one common shape; operand 0 is the output.
template <int N>
struct ElementwisePlan {
  int ndim = 0;
  std::int64_t shape[kMaxDims] = {};
  std::int64_t strides[N][kMaxDims] = {};
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= shape[d];
    return n;
  }
};

// out[outer] = reduce over inner of in[outer, inner]. Output strides cover the outer axes only.
struct ReducePlan {
  int outer_ndim = 0;
  std::int64_t outer_shape[kMaxDims] = {};
  std::int64_t out_strides[kMaxDims] = {};
  std::int64_t in_outer_strides[kMaxDims] = {};
  int inner_ndim = 0;
  std::int64_t inner_shape[kMaxDims] = {};
  std::int64_t in_inner_strides[kMaxDims] = {};
};
enum class ReduceOp { Sum, SumSquares, Prod, Max, Min, ArgMax, ArgMin };  // SumSquares: sum of x * x

// Running sum/product along one axis, for every position of the other axes.
struct ScanPlan {
  int outer_ndim = 0;
  std::int64_t outer_shape[kMaxDims] = {};
  std::int64_t out_outer_strides[kMaxDims] = {};
  std::int64_t in_outer_strides[kMaxDims] = {};
  std::int64_t length = 0, out_stride = 0, in_stride = 0;
};
enum class ScanOp { CumSum, CumProd };

// gather:      out[p] = src[p with axis coordinate replaced by index[p]]
// scatter_add: out[p with axis coordinate replaced by index[p]] += src[p]
// Both iterate over the index's shape; `base` strides are those of the tensor being addressed
// through the index (src for gather, out for scatter_add) with 0 on `axis`.
// The public function an index plan serves, which a bad index's error names.
enum class IndexCaller : std::int64_t { Gather = 1, IndexSelect, ScatterAdd };
inline const char* index_caller_name(IndexCaller caller) {
  return caller == IndexCaller::IndexSelect ? "index_select" : caller == IndexCaller::ScatterAdd ? "scatter_add" : "gather";
}
struct IndexPlan {
  ElementwisePlan<3> iter;  // operands: direct tensor (out for gather, src for scatter), index, base
  std::int64_t axis_stride = 0;  // stride of the addressed tensor along the axis
  std::int64_t axis_size = 0;    // valid indices are [0, axis_size)
  IndexCaller caller = IndexCaller::Gather;
  // scatter_add into a tensor that holds no values yet: the backend zeroes each row it addresses
  // (axis_size elements at axis_stride from each of the iteration's outer positions) before adding
  // to it, and those rows are the whole of out. The axis is the iteration's innermost dimension
  // (base stride 0 there). A max pool's gradient: each image plane zeroed and scattered into while
  // it is in cache, where zeros first took a pass of their own.
  bool zero_rows = false;
};
// The rows an IndexPlan with zero_rows addresses, as a plan over out alone (for a fill with zeros).
inline ElementwisePlan<1> index_plan_rows(const IndexPlan& plan) {
  ElementwisePlan<1> rows;
  rows.ndim = plan.iter.ndim;
  for (int d = 0; d < rows.ndim; ++d) rows.shape[d] = plan.iter.shape[d], rows.strides[0][d] = plan.iter.strides[2][d];
  rows.shape[rows.ndim - 1] = plan.axis_size;
  rows.strides[0][rows.ndim - 1] = plan.axis_stride;
  return rows;
}

// out[batch, M, N] = a[batch, M, K] @ b[batch, K, N]; batch strides may be 0 (broadcast).
// The output is contiguous. a and b may have any row/column strides (transposed views).
struct MatmulPlan {
  int batch_ndim = 0;
  std::int64_t batch_shape[kMaxDims] = {};
  std::int64_t a_batch_strides[kMaxDims] = {};
  std::int64_t b_batch_strides[kMaxDims] = {};
  std::int64_t out_batch_strides[kMaxDims] = {};
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t a_row_stride = 0, a_col_stride = 0;
  std::int64_t b_row_stride = 0, b_col_stride = 0;

  // Kernels hand the last batch axis to a batched GEMM and loop over the axes before it:
  // how many positions those leading axes have, and a's, b's and out's offsets at one of them.
  struct Offsets {
    std::int64_t a = 0, b = 0, out = 0;
  };
  std::int64_t leading_batches() const {
    std::int64_t n = 1;
    for (int d = 0; d + 1 < batch_ndim; ++d) n *= batch_shape[d];
    return n;
  }
  Offsets leading_batch_offsets(std::int64_t position) const {
    Offsets off;
    for (int d = batch_ndim - 2; d >= 0; --d) {
      const std::int64_t idx = position % batch_shape[d];
      position /= batch_shape[d];
      off.a += idx * a_batch_strides[d];
      off.b += idx * b_batch_strides[d];
      off.out += idx * out_batch_strides[d];
    }
    return off;
  }
};

// Softmax cross-entropy over the rows of contiguous logits x [rows, classes] with class ids t
// [rows] (Int64) and label smoothing eps, forward:
//   lse[r]  = log sum_c exp(x[r, c])
//   loss[r] = lse[r] - (1 - eps) x[r, t[r]] - eps / classes * sum_c x[r, c]
// and backward, with g the gradient of loss (element r at g[r * grad_stride]):
//   dx[r, c] = g[r] (exp(x[r, c] - lse[r]) - (1 - eps) [c == t[r]] - eps / classes)
struct CrossEntropyPlan {
  std::int64_t rows = 0, classes = 0;
  double label_smoothing = 0.0;
  std::int64_t grad_stride = 1;  // backward only; 0 when one gradient is broadcast to every row
};

// The epilogue of a dense layer over contiguous x, y [rows, features] and bias [features]:
//   forward:  y[r, c] = op(x[r, c] + bias[c])
//   backward: gx[r, c] = g[r, c] * op'(x[r, c] + bias[c], y[r, c]);  gbias[c] = sum_r gx[r, c]
// g, gx and gbias are contiguous too.
struct BiasActivationPlan {
  std::int64_t rows = 0, features = 0;
  UnaryOp op = UnaryOp::Relu;
  UnaryParams params;
};

// A 2-D convolution over contiguous NCHW tensors with groups G: x [N, C, H, W], w [K, C/G, R, S],
// y [N, K, P, Q]; output channel k reads the input channels of its group g = k / (K/G):
//   y[n, k, p, q] = bias[k] + sum_{c' < C/G, r, s} x[n, g C/G + c', p sh - ph + r dh, q sw - pw + s dw] w[k, c', r, s]
// with reads outside the input counting as 0. backward data writes gx = (d y / d x)^T gy (the
// transposed convolution); backward weight writes gw[k, c', r, s] = sum_{n, p, q} x[...] gy[n, k, p, q].
struct ConvPlan {
  std::int64_t n = 0, c = 0, h = 0, w = 0;  // input
  std::int64_t k = 0, r = 0, s = 0;         // output channels, kernel height and width
  std::int64_t p = 0, q = 0;                // output height and width
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
};

// Where a convolution's or a fused conv block's tensors are in the channel-blocked layout
// [N][C/B][H][W][B] (core/detail/channel_blocked.h), B the lanes the backend gave (ConvLayouts,
// ConvBlockSizes); null: plain NCHW. Each one given takes the place of its plain pointer, which is
// null then: forward x (read) and y (written); backward x and gy (read) and gx (written).
struct ChannelBlockedArgs {
  const void* x = nullptr;
  void* y = nullptr;
  const void* gy = nullptr;
  void* gx = nullptr;
};
// Which tensors of one convolution pass a backend reads or writes in the channel-blocked layout of
// `lanes` lanes (the fields of ChannelBlockedArgs), so that convolutions in a row pass them on without
// reorders (lanes 0: none). A choice the caller may take, not a demand: plain is always accepted.
enum class ConvPass { Forward, BackwardData, BackwardWeight };
struct ConvLayouts {
  int lanes = 0;
  bool x = false, y = false, gy = false, gx = false;
};

// Pooling over contiguous x [N, C, H, W] -> y [N, C, P, Q]. Window (i, j) covers rows
// i sh - ph + a dh (a < kh) and columns j sw - pw + b dw (b < kw), those inside the input.
// Max: y is the largest (the first, scanning rows then columns, on ties) and indices[n, c, i, j] its
// flat position h W + w in the (n, c) plane. Avg (no dilation): the sum over the window divided by
// the window's size clipped to the padded input (count_include_pad) or by its real elements.
struct PoolPlan {
  std::int64_t n = 0, c = 0, h = 0, w = 0, p = 0, q = 0;
  std::int64_t kh = 1, kw = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1;
  bool count_include_pad = true;
};

// Batch normalization over contiguous x [N, C, inner] (inner: the product of the axes after C),
// per channel c over its N * inner values (count):
//   stats:    mean[c], var[c] (biased) and invstd[c] = 1 / sqrt(var[c] + eps), all of dtype t
//   apply:    y = (x - mean[c]) invstd[c] weight[c] + bias[c]   (weight/bias may be null: 1 and 0)
//   backward: with xhat = (x - mean) invstd, gbias[c] = sum g, gweight[c] = sum g xhat, and
//             gx = weight invstd (g - gbias / count - xhat gweight / count) when the statistics are
//             the batch's (training), gx = weight invstd g when they are constants (eval).
//             gweight/gbias may be null (not needed); weight may be null (1).
struct BatchNormPlan {
  std::int64_t n = 0, c = 0, inner = 0;
  double eps = 1e-5;
  bool batch_statistics = true;  // backward: whether mean and invstd came from x
};

// One parameter of penalty_gradients: its values, its gradient and its coefficients.
struct PenaltyTensors {
  std::int64_t n = 0;
  const void* param = nullptr;
  void* grad = nullptr;
  double l1 = 0.0, l2 = 0.0;
};

// The CNN block conv2d -> batch norm -> ReLU -> max pool (the pool optional), float32, as one op
// (core/conv_block.h): `conv` with a bias, batch norm over its K output channels with `eps` (training:
// the batch's statistics; eval: the running ones), `pool` over the conv's output [N, K, P, Q]
// (pool.kh == 0: none). A backend that fuses the plan runs it as it likes (oneDNN: primitives on
// their blocked layout, nothing reordered between them) and keeps what its backward needs in the
// kConvBlockSaved buffers whose sizes it gives; the caller treats them as opaque bytes.
struct ConvBlockPlan {
  ConvPlan conv;
  PoolPlan pool;
  double eps = 1e-5;
  bool training = true;
  bool pool_ceil_mode = false;  // how pool.p and pool.q were counted (for composing the block again)
  bool input_gradient = true;   // training: whether the backward may be asked for x's gradient
};
constexpr int kConvBlockSaved = 5;
struct ConvBlockSizes {
  bool fused = false;                            // false: the caller composes the four ops
  // Bytes of each saved buffer (training). saved[0] is the backend's copy of x, which it keeps
  // none of when x comes blocked (ChannelBlockedArgs::x).
  std::int64_t saved[kConvBlockSaved] = {};
  // Training: which of the block's tensors it can take in the channel-blocked layout of `lanes`
  // lanes (ChannelBlockedArgs), so that two blocks in a row pass them on without a reorder.
  int lanes = 0;
  bool blocked_x = false, blocked_y = false, blocked_gy = false, blocked_gx = false;
};
// n Philox draws from (seed, counter) into a contiguous tensor; the layout of words per element is
// core/random.h's (random_draw).
enum class RandomDistribution {
  Uniform,    // [0, 1)
  Normal,     // standard normal
  Integers,   // [low, low + span)
  Bernoulli,  // `value` with probability p (threshold = ceil(p * 2^32)), else 0
};
struct RandomPlan {
  RandomDistribution distribution = RandomDistribution::Uniform;
  std::uint64_t seed = 0, counter = 0;  // the first Philox block
  std::int64_t n = 0;
  std::int64_t low = 0;
  std::uint64_t span = 1;
  std::uint64_t threshold = 0;
  double value = 1.0;
  // Philox blocks the draw consumes (the generator advances by this much).
  std::uint64_t blocks() const {
    const std::int64_t per_block = distribution == RandomDistribution::Normal ? 2 : 4;
    return static_cast<std::uint64_t>((n + per_block - 1) / per_block);
  }
};

// One LAPACK-style factorization or solve over a batch of matrices. Every buffer is contiguous,
// row-major and of the plan's dtype (Float32/Float64), one matrix after another; `a` is always
// overwritten. Per matrix, the kernel writes LAPACK's status to info[i] (host memory): 0 for
// success, > 0 for a singular / not-positive-definite / non-converging input, -1 for an input
// holding NaN or infinity (not passed to LAPACK).
enum class LinalgOp {
  LuFactor,  // a [m, n] -> L (unit, below the diagonal) and U packed in a; pivots [min(m, n)], 1-based
  Solve,     // a [n, n], b [n, k] -> the solution of a x = b in b
  Cholesky,  // a [n, n] (lower triangle read) -> L in the lower triangle, the rest zeroed
  Qr,        // a [m, n] -> u = Q [m, k], vt = R [k, n]; k = m when `full`, else min(m, n)
  Svd,       // a [m, n] -> values = S [min(m, n)] descending; when `vectors`, u = U [m, k],
             // vt = V^T [k, n], k = m / n when `full`, else min(m, n)
  Eigh,      // a [n, n] (lower triangle read) -> values ascending; with `vectors`, eigenvectors in
             // the columns of a
  Eigvals,   // a [n, n] -> values = real parts, values2 = imaginary parts (LAPACK's order)
  Lstsq,     // a [m, n], b [max(m, n), k] -> the least-squares solution in b's first n rows
};
struct LinalgPlan {
  LinalgOp op = LinalgOp::LuFactor;
  DType dtype = DType::Float64;
  std::int64_t batch = 1, m = 0, n = 0, k = 0;  // k: columns of b (Solve, Lstsq)
  bool vectors = false, full = false;
  double rcond = -1.0;  // Lstsq: singular values below rcond * the largest count as zero (< 0: machine eps)
  void* a = nullptr;
  void* b = nullptr;
  void* values = nullptr;
  void* values2 = nullptr;
  void* u = nullptr;
  void* vt = nullptr;
  std::int64_t* pivots = nullptr;
  std::int64_t* info = nullptr;  // host memory, `batch` entries

  // Elements of each buffer per matrix of the batch (0 where the op does not use it; values2 has
  // values' size).
  struct Sizes {
    std::int64_t a = 0, b = 0, values = 0, u = 0, vt = 0, pivots = 0;
  };
  Sizes sizes() const {
    const std::int64_t mn = m < n ? m : n, big = m < n ? n : m;
    Sizes s;
    s.a = m * n;
    switch (op) {
      case LinalgOp::LuFactor: s.pivots = mn; break;
      case LinalgOp::Solve: s.b = n * k; break;
      case LinalgOp::Lstsq: s.b = big * k; break;
      case LinalgOp::Qr: s.u = m * (full ? m : mn); s.vt = (full ? m : mn) * n; break;
      case LinalgOp::Svd:
        s.values = mn;
        if (vectors) {
          s.u = m * (full ? m : mn);
          s.vt = (full ? n : mn) * n;
        }
        break;
      case LinalgOp::Eigh: case LinalgOp::Eigvals: s.values = n; break;
      case LinalgOp::Cholesky: break;
    }
    return s;
  }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // Memory. Contents of new memory are unspecified.
  virtual void* allocate(std::size_t nbytes) = 0;
  virtual void deallocate(void* ptr, std::size_t nbytes) = 0;
  virtual void copy_from_host(void* dst, const void* host_src, std::size_t nbytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* src, std::size_t nbytes) = 0;
  virtual void synchronize() = 0;
  virtual MemoryStats memory_stats() const = 0;

  // out = value, over a 1-operand plan.
  virtual void fill(const ElementwisePlan<1>& plan, DType t, void* out, double value) = 0;
  // out = convert(in): copies between layouts and dtypes.
  virtual void copy(const ElementwisePlan<2>& plan, DType out_t, void* out, DType in_t,
                    const void* in) = 0;
  // out = op(in), both of dtype t.
  virtual void unary(UnaryOp op, const UnaryParams& params, const ElementwisePlan<2>& plan,
                     DType t, void* out, const void* in) = 0;
  // gx = g * op'(x), with op' the table row's df given x and y = op(x); all of floating dtype t.
  // Operands of the plan: gx, g, x, y. One pass where the formula from ops would take two or more.
  virtual void unary_backward(UnaryOp op, const UnaryParams& params, const ElementwisePlan<4>& plan, DType t, void* gx,
                              const void* g, const void* x, const void* y) = 0;
  // out = op(a, b); a, b of dtype t; out of dtype t, or Bool for comparisons.
  virtual void binary(BinaryOp op, const ElementwisePlan<3>& plan, DType t, void* out,
                      const void* a, const void* b) = 0;
  // out = cond ? a : b; cond is Bool, a/b/out of dtype t.
  virtual void where(const ElementwisePlan<4>& plan, DType t, void* out, const bool* cond,
                     const void* a, const void* b) = 0;
  // Sum/Prod/Max/Min write dtype t (Sum/Prod of Bool write Int64); ArgMax/ArgMin write Int64
  // flat indices into the inner (reduced) block. An empty inner block: Sum 0, Prod 1; the op
  // layer rejects empty Max/Min/Arg*.
  virtual void reduce(ReduceOp op, const ReducePlan& plan, DType t, void* out, const void* in) = 0;
  virtual void scan(ScanOp op, const ScanPlan& plan, DType t, void* out, const void* in) = 0;
  // Index tensors are Int64. Throws IndexError on an index outside [0, axis_size); a GPU backend
  // may raise it at its next wait for the device (synchronize, copy_to_host) instead, so that a
  // gather does not stall the queue.
  virtual void gather(const IndexPlan& plan, DType t, void* out, const std::int64_t* index,
                      const void* src) = 0;
  virtual void scatter_add(const IndexPlan& plan, DType t, void* out, const std::int64_t* index,
                           const void* src) = 0;
  virtual void matmul(const MatmulPlan& plan, DType t, void* out, const void* a, const void* b) = 0;
  // The fused softmax cross-entropy (see CrossEntropyPlan); loss, lse [rows] and dx [rows,
  // classes] are contiguous, of dtype t (Float32/Float64). Throws IndexError on a class id
  // outside [0, classes) (a GPU backend at its next wait, as for gather).
  virtual void cross_entropy(const CrossEntropyPlan& plan, DType t, void* loss, void* lse, const void* logits,
                             const std::int64_t* target) = 0;
  virtual void cross_entropy_backward(const CrossEntropyPlan& plan, DType t, void* grad_logits, const void* grad_loss,
                                      const void* logits, const void* lse, const std::int64_t* target) = 0;
  virtual void random(const RandomPlan& plan, DType t, void* out) = 0;
  // Float32/Float64 (see BiasActivationPlan).
  virtual void bias_activation(const BiasActivationPlan& plan, DType t, void* y, const void* x, const void* bias) = 0;
  virtual void bias_activation_backward(const BiasActivationPlan& plan, DType t, void* gx, void* gbias, const void* g,
                                        const void* x, const void* bias, const void* y) = 0;
  // One optimizer step (Adam/AdamW, SGD, RMSprop or Adagrad: see core/optimizer_math.h), in place,
  // over every listed tensor (contiguous, dtype t: Float32/Float64) with the same hyperparameters:
  // one pass, one launch, for a model's parameters.
  virtual void optimizer_step(const OptimizerStep& step, DType t, const OptimizerTensors* tensors, std::size_t count) = 0;
  // L1/L2 penalties in one pass (nn::TrainStep on flat buffers): for each listed parameter
  // (contiguous, dtype t: Float32/Float64), adds scale (l1 sign(p) + 2 l2 p) to its gradient and
  // returns the sum over all of l1 |p| + l2 p^2 (accumulated in double, in a fixed order). A
  // backend without it throws NotImplementedError (the penalty is then a loss term).
  virtual double penalty_gradients(DType t, const PenaltyTensors* tensors, std::size_t count, double scale) = 0;
  // Convolution (see ConvPlan), Float32/Float64; bias may be null. `blocked` holds the tensors the
  // caller passes in the channel-blocked layout, only those conv2d_layouts named for the plan and pass.
  virtual ConvLayouts conv2d_layouts(const ConvPlan& plan, DType t, ConvPass pass, bool bias) = 0;
  virtual void conv2d(const ConvPlan& plan, DType t, void* y, const void* x, const void* w, const void* bias,
                      const ChannelBlockedArgs& blocked) = 0;
  virtual void conv2d_backward_data(const ConvPlan& plan, DType t, void* gx, const void* gy, const void* w,
                                    const ChannelBlockedArgs& blocked) = 0;
  virtual void conv2d_backward_weight(const ConvPlan& plan, DType t, void* gw, const void* x, const void* gy,
                                      const ChannelBlockedArgs& blocked) = 0;
  // blocked [N, C/B, H, W, B] float32 -> plain [N, C, H, W] (a channel-blocked twin read as plain).
  // false: the backend has no kernel of its own for it, and the caller copies through copy().
  virtual bool channel_blocked_to_plain(const std::int64_t (&nchw)[4], int lanes, void* plain, const void* blocked) = 0;
  // Pooling (see PoolPlan), Float32/Float64; avg_pool2d_backward writes gx = (d y / d x)^T gy.
  virtual void max_pool2d(const PoolPlan& plan, DType t, void* y, std::int64_t* indices, const void* x) = 0;
  virtual void avg_pool2d(const PoolPlan& plan, DType t, void* y, const void* x) = 0;
  virtual void avg_pool2d_backward(const PoolPlan& plan, DType t, void* gx, const void* gy) = 0;
  // Batch normalization (see BatchNormPlan), Float32/Float64.
  virtual void batch_norm_stats(const BatchNormPlan& plan, DType t, void* mean, void* var, void* invstd, const void* x) = 0;
  virtual void batch_norm_apply(const BatchNormPlan& plan, DType t, void* y, const void* x, const void* mean,
                                const void* invstd, const void* weight, const void* bias) = 0;
  virtual void batch_norm_backward(const BatchNormPlan& plan, DType t, void* gx, void* gweight, void* gbias, const void* g,
                                   const void* x, const void* mean, const void* invstd, const void* weight) = 0;
  // The conv block (see ConvBlockPlan). Forward: y [N, K, P', Q'] (the pool's output, else the
  // conv's), mean and var [K] (training: written, the batch's biased statistics; eval: read, the
  // running ones), saved[i] filled for the backward (training only). Backward: gx [N, C, H, W] (null:
  // not needed), gw, gbias, ggamma, gbeta from gy [N, K, P', Q'] and the forward's buffers.
  virtual ConvBlockSizes conv_block_sizes(const ConvBlockPlan& plan) = 0;
  virtual void conv_block_forward(const ConvBlockPlan& plan, void* y, void* mean, void* var, void* const* saved, const void* x,
                                  const void* w, const void* bias, const void* gamma, const void* beta,
                                  const ChannelBlockedArgs& blocked) = 0;
  virtual void conv_block_backward(const ConvBlockPlan& plan, void* gx, void* gw, void* gbias, void* ggamma, void* gbeta,
                                   const void* gy, const void* const* saved, const void* mean, const void* var, const void* x,
                                   const void* w, const void* gamma, const void* beta, const ChannelBlockedArgs& blocked) = 0;
  // Factorizations and solves (LAPACK on the CPU). Throws NotImplementedError where a backend
  // has none.
  virtual void linalg(const LinalgPlan& plan) = 0;
};

// The backend serving a device; throws DeviceError when the device is absent or not compiled in.
Backend& backend_for(Device device);

namespace detail {
// Routes all CPU work through `backend` (nullptr: back to the built-in one), e.g. a forwarding
// backend that counts or checks calls (tests/test_backend.cpp). Set it while no op runs.
void set_cpu_backend_override(Backend* backend);
// Defined by kernels/: the CPU backend always, the CUDA backend when compiled in (else nullptr).
Backend& cpu_backend();
Backend* cuda_backend(int index);
int cuda_device_count_impl();
std::string cuda_device_description_impl(int index);  // index already checked
}  // namespace detail

}  // namespace tinynn
