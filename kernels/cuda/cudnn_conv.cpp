// See cudnn_conv.h. cuDNN's legacy convolution API (cudnn_cnn.h, in cuDNN 8 and 9): a tensor
// descriptor for x, y and the bias, a filter descriptor for w, a convolution descriptor with the
// plan's padding, stride, dilation and groups; per pass the algorithm cuDNN's heuristics rank first
// among the deterministic ones (a run repeats bit for bit, as on the CPU), else the first.
// Float32 runs with FMA math only (CUDNN_FMA_MATH): no TF32 tensor cores, whose 10-bit mantissas
// would take results outside float32 rounding of the CPU's.
#include "cudnn_conv.h"

#ifdef TINYNN_HAVE_CUDNN
#include <cudnn.h>

#include <array>
#include <climits>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <tinynn/core/error.h>

#include "cuda_backend.h"
#endif

namespace tinynn::cuda {

#ifndef TINYNN_HAVE_CUDNN

bool cudnn_conv2d(CudaBackend&, const ConvPlan&, DType, void*, const void*, const void*, const void*) { return false; }
bool cudnn_conv2d_backward_data(CudaBackend&, const ConvPlan&, DType, void*, const void*, const void*) { return false; }
bool cudnn_conv2d_backward_weight(CudaBackend&, const ConvPlan&, DType, void*, const void*, const void*) { return false; }

#else

namespace {

void check(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS)
    throw DeviceError(std::string("tinynn: cuDNN call ") + call + " failed at " + file + ":" + std::to_string(line) + ": " +
                      cudnnGetErrorString(status));
}
#define TINYNN_CUDNN_CHECK(call) check((call), #call, __FILE__, __LINE__)

constexpr std::size_t kMaxWorkspace = std::size_t{1} << 30;  // an algorithm wanting more is passed over
constexpr int kUnchosen = -1, kNone = -2;                     // an algorithm slot before and without a choice

// One plan's descriptors on one device, and each pass's algorithm (chosen at its first call).
struct PlanDescriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  bool usable = false;  // cuDNN takes the plan, with the plan's output size
  struct Choice {
    int algorithm = kUnchosen;
    std::size_t workspace = 0;  // bytes
  };
  Choice forward, backward_data, backward_weight;

  PlanDescriptors() = default;
  PlanDescriptors(const PlanDescriptors&) = delete;
  PlanDescriptors& operator=(const PlanDescriptors&) = delete;
  ~PlanDescriptors() {
    if (x != nullptr) cudnnDestroyTensorDescriptor(x);
    if (y != nullptr) cudnnDestroyTensorDescriptor(y);
    if (bias != nullptr) cudnnDestroyTensorDescriptor(bias);
    if (w != nullptr) cudnnDestroyFilterDescriptor(w);
    if (conv != nullptr) cudnnDestroyConvolutionDescriptor(conv);
  }
};

using Key = std::array<std::int64_t, 17>;
struct KeyHash {
  std::size_t operator()(const Key& k) const {
    std::size_t h = 0;
    for (const std::int64_t v : k) h = h * 1000003u ^ static_cast<std::size_t>(v);
    return h;
  }
};

// A device's cuDNN handle (on the backend's stream) and its plans. A handle serves one call at a
// time: calls hold the mutex while they enqueue.
struct DeviceCudnn {
  std::mutex mutex;
  cudnnHandle_t handle = nullptr;
  std::unordered_map<Key, std::unique_ptr<PlanDescriptors>, KeyHash> plans;
};

// The backend's state, made at its first convolution and kept until the process ends (as the
// backends are: destroying handles after the driver shut down would fail).
DeviceCudnn& device_cudnn(CudaBackend& backend) {
  static std::mutex mutex;
  static auto* devices = new std::unordered_map<int, std::unique_ptr<DeviceCudnn>>();
  const std::lock_guard<std::mutex> lock(mutex);
  auto& state = (*devices)[backend.device().index];
  if (!state) {
    auto made = std::make_unique<DeviceCudnn>();
    backend.activate();
    TINYNN_CUDNN_CHECK(cudnnCreate(&made->handle));
    TINYNN_CUDNN_CHECK(cudnnSetStream(made->handle, backend.stream()));
    state = std::move(made);
  }
  return *state;
}

bool fits_int(std::int64_t v) { return v >= 1 && v <= INT_MAX; }

// The plan's descriptors (made at its first use; `usable` false where cuDNN cannot take it). The
// caller holds the device's mutex.
PlanDescriptors& descriptors(DeviceCudnn& device, const ConvPlan& p, DType t) {
  const Key key = {static_cast<std::int64_t>(t), p.n, p.c, p.h, p.w, p.k, p.r, p.s, p.p, p.q, p.stride_h, p.stride_w,
                   p.pad_h, p.pad_w, p.dil_h, p.dil_w, p.groups};
  auto& entry = device.plans[key];
  if (entry) return *entry;
  entry = std::make_unique<PlanDescriptors>();
  PlanDescriptors& d = *entry;
  // int dimensions and, for safety, element counts within int (cuDNN's strides are ints).
  const bool small = fits_int(p.n) && fits_int(p.c) && fits_int(p.h) && fits_int(p.w) && fits_int(p.k) && fits_int(p.r) &&
                     fits_int(p.s) && fits_int(p.p) && fits_int(p.q) && fits_int(p.n * p.c * p.h * p.w) &&
                     fits_int(p.n * p.k * p.p * p.q) && fits_int(p.k * (p.c / p.groups) * p.r * p.s);
  if (!small || (t != DType::Float32 && t != DType::Float64)) return d;
  const cudnnDataType_t type = t == DType::Float64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  auto i = [](std::int64_t v) { return static_cast<int>(v); };
  TINYNN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d.x));
  TINYNN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d.y));
  TINYNN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d.bias));
  TINYNN_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d.w));
  TINYNN_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d.conv));
  TINYNN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.x, CUDNN_TENSOR_NCHW, type, i(p.n), i(p.c), i(p.h), i(p.w)));
  TINYNN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, type, i(p.n), i(p.k), i(p.p), i(p.q)));
  TINYNN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.bias, CUDNN_TENSOR_NCHW, type, 1, i(p.k), 1, 1));
  TINYNN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d.w, type, CUDNN_TENSOR_NCHW, i(p.k), i(p.c / p.groups), i(p.r), i(p.s)));
  TINYNN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d.conv, i(p.pad_h), i(p.pad_w), i(p.stride_h), i(p.stride_w),
                                                     i(p.dil_h), i(p.dil_w), CUDNN_CROSS_CORRELATION, type));
  TINYNN_CUDNN_CHECK(cudnnSetConvolutionGroupCount(d.conv, i(p.groups)));
  TINYNN_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, CUDNN_FMA_MATH));
  // cuDNN counts the output as PyTorch does (floor); a plan whose size it counts otherwise stays off it.
  int n = 0, k = 0, out_h = 0, out_w = 0;
  TINYNN_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(d.conv, d.x, d.w, &n, &k, &out_h, &out_w));
  d.usable = n == p.n && k == p.k && out_h == p.p && out_w == p.q;
  return d;
}

// The first of cuDNN's ranked algorithms that is deterministic and needs at most kMaxWorkspace,
// else the first that fits; kNone when none runs.
template <class Perf>
int pick(const Perf* perf, int count, std::size_t& bytes) {
  for (const bool deterministic_only : {true, false})
    for (int a = 0; a < count; ++a)
      if (perf[a].status == CUDNN_STATUS_SUCCESS && perf[a].memory <= kMaxWorkspace &&
          (!deterministic_only || perf[a].determinism == CUDNN_DETERMINISTIC)) {
        bytes = perf[a].memory;
        return static_cast<int>(perf[a].algo);
      }
  return kNone;
}

// alpha = 1 and beta = 0 (or 1) in the type cuDNN reads them as: double for double data, else float.
struct Scaling {
  float one_f = 1.0f, zero_f = 0.0f;
  double one_d = 1.0, zero_d = 0.0;
  const void* one(DType t) const { return t == DType::Float64 ? static_cast<const void*>(&one_d) : &one_f; }
  const void* zero(DType t) const { return t == DType::Float64 ? static_cast<const void*>(&zero_d) : &zero_f; }
};

}  // namespace

namespace {

// One pass on the plan: `rank(handle, d, perf, &count)` fills cuDNN's ranked algorithms for it (at
// the pass's first call; `pick` chooses), `run(handle, d, algorithm, workspace)` enqueues it.
template <class Perf, int kCount, class Rank, class Run>
bool run_pass(CudaBackend& backend, const ConvPlan& plan, DType t, PlanDescriptors::Choice PlanDescriptors::*pass,
              const Rank& rank, const Run& run) {
  DeviceCudnn& device = device_cudnn(backend);
  const std::lock_guard<std::mutex> lock(device.mutex);
  PlanDescriptors& d = descriptors(device, plan, t);
  if (!d.usable) return false;
  PlanDescriptors::Choice& choice = d.*pass;
  if (choice.algorithm == kUnchosen) {
    Perf perf[kCount];
    int count = 0;
    TINYNN_CUDNN_CHECK(rank(device.handle, d, perf, &count));
    choice.algorithm = pick(perf, count, choice.workspace);
  }
  if (choice.algorithm == kNone) return false;
  backend.activate();
  const DeviceScratch workspace(backend, choice.workspace);
  TINYNN_CUDNN_CHECK(run(device.handle, d, choice.algorithm, workspace));
  return true;
}

}  // namespace

// x [N, C, H, W], w [K, C/G, R, S], bias [K] or null -> y [N, K, P, Q]
bool cudnn_conv2d(CudaBackend& backend, const ConvPlan& plan, DType t, void* y, const void* x, const void* w,
                  const void* bias) {
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  constexpr int kCount = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  const Scaling s;
  return run_pass<Perf, kCount>(
      backend, plan, t, &PlanDescriptors::forward,
      [](cudnnHandle_t h, const PlanDescriptors& d, Perf* perf, int* count) {
        return cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, kCount, count, perf);
      },
      [&](cudnnHandle_t h, const PlanDescriptors& d, int algorithm, const DeviceScratch& ws) {
        const cudnnStatus_t status =
            cudnnConvolutionForward(h, s.one(t), d.x, x, d.w, w, d.conv, static_cast<cudnnConvolutionFwdAlgo_t>(algorithm),
                                    ws.get(), ws.size(), s.zero(t), d.y, y);
        if (status != CUDNN_STATUS_SUCCESS || bias == nullptr) return status;
        return cudnnAddTensor(h, s.one(t), d.bias, bias, s.one(t), d.y, y);
      });
}

// gy [N, K, P, Q], w [K, C/G, R, S] -> gx [N, C, H, W]
bool cudnn_conv2d_backward_data(CudaBackend& backend, const ConvPlan& plan, DType t, void* gx, const void* gy,
                                const void* w) {
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  constexpr int kCount = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  const Scaling s;
  return run_pass<Perf, kCount>(
      backend, plan, t, &PlanDescriptors::backward_data,
      [](cudnnHandle_t h, const PlanDescriptors& d, Perf* perf, int* count) {
        return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, kCount, count, perf);
      },
      [&](cudnnHandle_t h, const PlanDescriptors& d, int algorithm, const DeviceScratch& ws) {
        return cudnnConvolutionBackwardData(h, s.one(t), d.w, w, d.y, gy, d.conv,
                                            static_cast<cudnnConvolutionBwdDataAlgo_t>(algorithm), ws.get(), ws.size(),
                                            s.zero(t), d.x, gx);
      });
}

// x [N, C, H, W], gy [N, K, P, Q] -> gw [K, C/G, R, S]
bool cudnn_conv2d_backward_weight(CudaBackend& backend, const ConvPlan& plan, DType t, void* gw, const void* x,
                                  const void* gy) {
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  constexpr int kCount = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  const Scaling s;
  return run_pass<Perf, kCount>(
      backend, plan, t, &PlanDescriptors::backward_weight,
      [](cudnnHandle_t h, const PlanDescriptors& d, Perf* perf, int* count) {
        return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, kCount, count, perf);
      },
      [&](cudnnHandle_t h, const PlanDescriptors& d, int algorithm, const DeviceScratch& ws) {
        return cudnnConvolutionBackwardFilter(h, s.one(t), d.x, x, d.y, gy, d.conv,
                                              static_cast<cudnnConvolutionBwdFilterAlgo_t>(algorithm), ws.get(), ws.size(),
                                              s.zero(t), d.w, gw);
      });
}

#endif

}  // namespace tinynn::cuda
