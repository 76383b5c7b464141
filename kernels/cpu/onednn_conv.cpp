// oneDNN convolution. Each primitive is created with format `any`, so oneDNN picks the layouts its
// fastest kernel wants (blocked nChw16c and the like on AVX-512); our tensors are plain NCHW/OIHW,
// so an argument whose chosen layout differs is reordered into (or out of) a buffer the cache entry
// owns, unless the caller hands it in the chosen layout already: an activation or its gradient in the
// channel-blocked layout (nChw16c on AVX-512) that another convolution wrote (core/conv.cpp keeps it
// as the tensor's twin). Primitives, reorders and buffers are made once per plan; a call only sets
// data pointers.
#include "onednn_conv.h"

#include <array>
#include <initializer_list>
#include <atomic>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "onednn_runtime.h"

namespace tinynn::cpu {

namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

std::atomic<bool> g_enabled{true};
std::atomic<std::size_t> g_created{0};

enum class Pass : std::int64_t { Forward, ForwardBias, BackwardData, BackwardWeight };

using Key = std::array<std::int64_t, 17>;

Key key_of(const ConvPlan& p, Pass pass) {
  return {static_cast<std::int64_t>(pass), p.n, p.c, p.h, p.w, p.k, p.r, p.s, p.p, p.q,
          p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dil_h, p.dil_w, p.groups};
}

// The lanes B of the channel-blocked layout [N][C/B][H][W][B] that `d` is (nChw16c or nChw8c with C a
// multiple of B), else 0.
int channel_blocked_lanes(const dnnl::memory::desc& d) {
  const dims shape = d.dims();
  if (shape.size() != 4 || d.data_type() != dt::f32) return 0;
  for (const auto& [lanes, layout] : {std::pair{16, tag::nChw16c}, std::pair{8, tag::nChw8c}})
    if (shape[1] % lanes == 0 && d == dnnl::memory::desc(shape, dt::f32, layout)) return lanes;
  return 0;
}

// One primitive argument: the user's plain memory and, when oneDNN wants another layout, the
// primitive's own memory and the reorder between them; and, when that layout is channel-blocked, a
// handle for a caller's buffer in it.
struct Arg {
  int id = 0;  // DNNL_ARG_*
  bool output = false;
  int lanes = 0;  // channel_blocked_lanes of the wanted layout
  dnnl::memory user, inner, caller_blocked;
  std::optional<dnnl::reorder> reorder;

  Arg(int arg, bool is_output, const dnnl::memory::desc& plain, const dnnl::memory::desc& wanted, const dnnl::engine& e)
      : id(arg), output(is_output), user(plain, e, nullptr) {
    if (wanted == plain) {
      inner = user;
    } else {
      inner = dnnl::memory(wanted, e);  // owned by the cache entry
      reorder = is_output ? dnnl::reorder(inner, user) : dnnl::reorder(user, inner);
      lanes = channel_blocked_lanes(wanted);
      if (lanes > 0) caller_blocked = dnnl::memory(wanted, e, nullptr);
    }
  }
};

struct CachedConv {
  dnnl::primitive primitive;
  std::vector<Arg> args;
  std::unordered_map<int, dnnl::memory> exec;  // the primitive's arguments

  // pointers[i]: argument i's plain buffer; blocked[i]: its buffer in the wanted channel-blocked
  // layout (taken instead, with no reorder), or null.
  void run(std::initializer_list<const void*> pointers, std::initializer_list<const void*> blocked, dnnl::stream& stream) {
    for (std::size_t i = 0; i < args.size(); ++i) {
      Arg& a = args[i];
      const void* mine = blocked.begin()[i];
      if (mine != nullptr) {
        a.caller_blocked.set_data_handle(const_cast<void*>(mine));
        exec[a.id] = a.caller_blocked;
        continue;
      }
      exec[a.id] = a.inner;
      a.user.set_data_handle(const_cast<void*>(pointers.begin()[i]));
      if (a.reorder && !a.output) a.reorder->execute(stream, a.user, a.inner);
    }
    primitive.execute(stream, exec);
    for (std::size_t i = 0; i < args.size(); ++i) {
      Arg& a = args[i];
      if (a.reorder && a.output && blocked.begin()[i] == nullptr) a.reorder->execute(stream, a.inner, a.user);
    }
    stream.wait();
  }
};

std::unordered_map<Key, std::unique_ptr<CachedConv>, ArrayKeyHash>& cache() {
  static std::unordered_map<Key, std::unique_ptr<CachedConv>, ArrayKeyHash> c;
  return c;
}

dnnl::convolution_forward::primitive_desc forward_pd(const ConvDescs& d, bool bias, const dnnl::engine& e) {
  using fwd = dnnl::convolution_forward;
  const auto desc = bias ? fwd::desc(dnnl::prop_kind::forward_training, d.algorithm, d.any_src, d.any_weights, d.any_bias,
                                     d.any_dst, d.strides, d.dilates, d.pad_l, d.pad_r)
                         : fwd::desc(dnnl::prop_kind::forward_training, d.algorithm, d.any_src, d.any_weights, d.any_dst,
                                     d.strides, d.dilates, d.pad_l, d.pad_r);
  return fwd::primitive_desc(desc, e);
}

std::unique_ptr<CachedConv> create(const ConvPlan& p, Pass pass, const dnnl::engine& e) {
  const ConvDescs d = conv_descs(p);
  auto entry = std::make_unique<CachedConv>();
  const auto fpd = forward_pd(d, pass == Pass::ForwardBias, e);
  switch (pass) {
    case Pass::Forward:
    case Pass::ForwardBias:
      entry->primitive = dnnl::convolution_forward(fpd);
      entry->args.emplace_back(DNNL_ARG_DST, true, d.dst, fpd.dst_desc(), e);
      entry->args.emplace_back(DNNL_ARG_SRC, false, d.src, fpd.src_desc(), e);
      entry->args.emplace_back(DNNL_ARG_WEIGHTS, false, d.weights, fpd.weights_desc(), e);
      if (pass == Pass::ForwardBias) entry->args.emplace_back(DNNL_ARG_BIAS, false, d.bias, fpd.bias_desc(), e);
      break;
    case Pass::BackwardData: {
      using bwd = dnnl::convolution_backward_data;
      // With fewer input channels than a vector (a first layer's image), the gradient in plain
      // NCHW takes a kernel 3x faster than oneDNN's pick for `any` (0.95 against 2.8 ms at
      // [128, 1, 28, 28] -> 32 channels, bench_conv), and needs no reorder back.
      const bool plain = p.c / p.groups < 8;
      const bwd::primitive_desc pd(bwd::desc(d.algorithm, plain ? d.src : d.any_src, d.any_weights,
                                             plain ? d.dst : d.any_dst, d.strides, d.dilates, d.pad_l, d.pad_r),
                                   e, fpd);
      entry->primitive = bwd(pd);
      entry->args.emplace_back(DNNL_ARG_DIFF_SRC, true, d.src, pd.diff_src_desc(), e);
      entry->args.emplace_back(DNNL_ARG_DIFF_DST, false, d.dst, pd.diff_dst_desc(), e);
      entry->args.emplace_back(DNNL_ARG_WEIGHTS, false, d.weights, pd.weights_desc(), e);
      break;
    }
    case Pass::BackwardWeight: {
      using bwd = dnnl::convolution_backward_weights;
      const bwd::primitive_desc pd(bwd::desc(d.algorithm, d.any_src, d.any_weights, d.any_dst, d.strides, d.dilates,
                                             d.pad_l, d.pad_r),
                                   e, fpd);
      entry->primitive = bwd(pd);
      entry->args.emplace_back(DNNL_ARG_DIFF_WEIGHTS, true, d.weights, pd.diff_weights_desc(), e);
      entry->args.emplace_back(DNNL_ARG_SRC, false, d.src, pd.src_desc(), e);
      entry->args.emplace_back(DNNL_ARG_DIFF_DST, false, d.dst, pd.diff_dst_desc(), e);
      break;
    }
  }
  return entry;
}

// The plan's cache entry for the pass, created at the first call; null where oneDNN cannot run it.
// The caller holds the runtime's mutex.
CachedConv* entry_of(const ConvPlan& p, Pass pass, OnednnRuntime& rt) {
  if (!g_enabled || p.n == 0 || p.k == 0 || p.c == 0) return nullptr;
  const Key key = key_of(p, pass);
  auto it = cache().find(key);
  if (it == cache().end()) {
    std::unique_ptr<CachedConv> entry;
    try {
      entry = create(p, pass, rt.engine);
    } catch (const dnnl::error&) {
      entry = nullptr;  // a plan oneDNN does not implement: remembered, so it is not retried
    }
    it = cache().emplace(key, std::move(entry)).first;
    if (it->second) ++g_created;
  }
  return it->second.get();
}

// Runs the plan's primitive for the pass on `pointers` and `blocked` (CachedConv::run), in the order
// the entry's arguments were added (outputs first).
bool run(const ConvPlan& p, Pass pass, std::initializer_list<const void*> pointers, std::initializer_list<const void*> blocked) {
  OnednnRuntime& rt = onednn_runtime();
  std::lock_guard<std::mutex> lock(rt.mutex);
  CachedConv* entry = entry_of(p, pass, rt);
  if (entry == nullptr) return false;
  entry->run(pointers, blocked, rt.stream);
  return true;
}

}  // namespace

ConvDescs conv_descs(const ConvPlan& p) {
  ConvDescs d;
  const dims src{p.n, p.c, p.h, p.w}, dst{p.n, p.k, p.p, p.q};
  const dims weights = p.groups == 1 ? dims{p.k, p.c, p.r, p.s} : dims{p.groups, p.k / p.groups, p.c / p.groups, p.r, p.s};
  d.src = {src, dt::f32, tag::nchw};
  d.dst = {dst, dt::f32, tag::nchw};
  d.weights = {weights, dt::f32, p.groups == 1 ? tag::oihw : tag::goihw};
  d.bias = {{p.k}, dt::f32, tag::x};
  d.any_src = {src, dt::f32, tag::any};
  d.any_dst = {dst, dt::f32, tag::any};
  d.any_weights = {weights, dt::f32, tag::any};
  d.any_bias = {{p.k}, dt::f32, tag::any};
  d.strides = {p.stride_h, p.stride_w};
  d.dilates = {p.dil_h - 1, p.dil_w - 1};  // oneDNN counts dilation from 0
  d.pad_l = {p.pad_h, p.pad_w};
  if (p.c / p.groups >= 16) d.algorithm = dnnl::algorithm::convolution_auto;
  // The right padding that gives the plan's output size (PyTorch's floor rule may leave the last
  // rows unread, which oneDNN expresses as a smaller, even negative, right padding).
  d.pad_r = {(p.p - 1) * p.stride_h + (p.r - 1) * p.dil_h + 1 - p.h - p.pad_h,
             (p.q - 1) * p.stride_w + (p.s - 1) * p.dil_w + 1 - p.w - p.pad_w};
  return d;
}

void set_onednn_conv_enabled(bool enabled) { g_enabled = enabled; }
std::size_t onednn_conv_primitives_created() { return g_created; }

ConvLayouts onednn_conv2d_layouts(const ConvPlan& plan, ConvPass pass, bool bias) {
  OnednnRuntime& rt = onednn_runtime();
  std::lock_guard<std::mutex> lock(rt.mutex);
  const Pass which = pass == ConvPass::BackwardData     ? Pass::BackwardData
                     : pass == ConvPass::BackwardWeight ? Pass::BackwardWeight
                     : bias                             ? Pass::ForwardBias
                                                        : Pass::Forward;
  const CachedConv* e = entry_of(plan, which, rt);
  if (e == nullptr) return {};
  // The activations and their gradients only (a weight's layout may look channel-blocked too).
  auto flag = [](ConvLayouts& l, int id) -> bool* {
    switch (id) {
      case DNNL_ARG_SRC: return &l.x;
      case DNNL_ARG_DST: return &l.y;
      case DNNL_ARG_DIFF_DST: return &l.gy;
      case DNNL_ARG_DIFF_SRC: return &l.gx;
      default: return nullptr;
    }
  };
  ConvLayouts l;
  for (const Arg& a : e->args)
    if (l.lanes == 0 && flag(l, a.id) != nullptr) l.lanes = a.lanes;
  if (l.lanes == 0) return {};
  for (const Arg& a : e->args)
    if (bool* f = flag(l, a.id); f != nullptr && a.lanes == l.lanes) *f = true;
  return l;
}

bool onednn_conv2d_f32(const ConvPlan& plan, float* y, const float* x, const float* w, const float* bias,
                       const ChannelBlockedArgs& blocked) {
  if (bias != nullptr) return run(plan, Pass::ForwardBias, {y, x, w, bias}, {blocked.y, blocked.x, nullptr, nullptr});
  return run(plan, Pass::Forward, {y, x, w}, {blocked.y, blocked.x, nullptr});
}

bool onednn_conv2d_backward_data_f32(const ConvPlan& plan, float* gx, const float* gy, const float* w,
                                     const ChannelBlockedArgs& blocked) {
  return run(plan, Pass::BackwardData, {gx, gy, w}, {blocked.gx, blocked.gy, nullptr});
}

bool onednn_conv2d_backward_weight_f32(const ConvPlan& plan, float* gw, const float* x, const float* gy,
                                       const ChannelBlockedArgs& blocked) {
  return run(plan, Pass::BackwardWeight, {gw, x, gy}, {nullptr, blocked.x, blocked.gy});
}

bool onednn_channel_blocked_to_plain(const std::int64_t (&nchw)[4], int lanes, float* plain, const float* blocked) {
  if (lanes != 8 && lanes != 16) return false;
  OnednnRuntime& rt = onednn_runtime();
  std::lock_guard<std::mutex> lock(rt.mutex);
  static std::unordered_map<std::array<std::int64_t, 5>, std::unique_ptr<dnnl::reorder>, ArrayKeyHash> reorders;
  auto& reorder = reorders[{nchw[0], nchw[1], nchw[2], nchw[3], lanes}];
  const dims shape{nchw[0], nchw[1], nchw[2], nchw[3]};
  const dnnl::memory::desc from(shape, dt::f32, lanes == 16 ? tag::nChw16c : tag::nChw8c), to(shape, dt::f32, tag::nchw);
  if (!reorder) reorder = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(rt.engine, from, rt.engine, to));
  dnnl::memory src(from, rt.engine, const_cast<float*>(blocked)), dst(to, rt.engine, plain);
  reorder->execute(rt.stream, src, dst);
  rt.stream.wait();
  return true;
}

}  // namespace tinynn::cpu
