// oneDNN matmul: the last batch axis maps to oneDNN's batch dimension (size 1 where the plan
// broadcasts it, which oneDNN broadcasts itself); leading batch axes, if any remain after core
// coalesced them, loop here. Transposed operands are described by strides, never copied.
#include "onednn_matmul.h"

#include "onednn_runtime.h"

#include <dnnl.hpp>

#include <array>
#include <atomic>
#include <mutex>
#include <unordered_map>

namespace tinynn::cpu {

namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;

std::atomic<bool> g_enabled{true};
std::atomic<std::size_t> g_created{0};

using Key = std::array<std::int64_t, 13>;

// A primitive with its memory objects; each call only swaps the data pointers.
struct CachedMatmul {
  dnnl::matmul primitive;
  dnnl::memory a, b, out;
};

std::unordered_map<Key, CachedMatmul, ArrayKeyHash>& cache() {  // creating primitives is the slow part
  static std::unordered_map<Key, CachedMatmul, ArrayKeyHash> c;
  return c;
}

}  // namespace

OnednnRuntime& onednn_runtime() {
  static OnednnRuntime rt;
  return rt;
}

void set_onednn_matmul_enabled(bool enabled) { g_enabled = enabled; }
std::size_t onednn_matmul_primitives_created() { return g_created; }

bool onednn_matmul_f32(const MatmulPlan& p, float* out, const float* a, const float* b) {
  if (!g_enabled || p.k == 0) return false;
  const int nb = p.batch_ndim;
  // oneDNN batch axis = the plan's last batch axis (or a single batch of 1).
  const std::int64_t batch = nb > 0 ? p.batch_shape[nb - 1] : 1;
  const std::int64_t sa = nb > 0 ? p.a_batch_strides[nb - 1] : 0;
  const std::int64_t sb = nb > 0 ? p.b_batch_strides[nb - 1] : 0;
  const std::int64_t so = nb > 0 ? p.out_batch_strides[nb - 1] : p.m * p.n;
  const std::int64_t ba = sa == 0 ? 1 : batch, bb = sb == 0 ? 1 : batch;
  // A broadcast (size-1) batch axis still needs a plausible stride for oneDNN's checks.
  const std::int64_t sa_md = sa == 0 ? p.m * p.k : sa, sb_md = sb == 0 ? p.k * p.n : sb;

  const Key key{ba, bb, batch, p.m, p.n, p.k, sa_md, sb_md, so,
                                p.a_row_stride, p.a_col_stride, p.b_row_stride, p.b_col_stride};
  OnednnRuntime& rt = onednn_runtime();
  std::lock_guard<std::mutex> lock(rt.mutex);
  auto it = cache().find(key);
  if (it == cache().end()) {
    try {
      const dnnl::memory::desc a_md(dims{ba, p.m, p.k}, dt::f32, dims{sa_md, p.a_row_stride, p.a_col_stride});
      const dnnl::memory::desc b_md(dims{bb, p.k, p.n}, dt::f32, dims{sb_md, p.b_row_stride, p.b_col_stride});
      const dnnl::memory::desc o_md(dims{batch, p.m, p.n}, dt::f32, dims{so, p.n, 1});
      const dnnl::matmul::desc desc(a_md, b_md, o_md);
      dnnl::matmul::primitive_desc pd(desc, rt.engine);
      CachedMatmul entry{dnnl::matmul(pd), dnnl::memory(pd.src_desc(), rt.engine, nullptr),
                         dnnl::memory(pd.weights_desc(), rt.engine, nullptr), dnnl::memory(pd.dst_desc(), rt.engine, nullptr)};
      it = cache().emplace(key, std::move(entry)).first;
      ++g_created;
    } catch (const dnnl::error&) {
      return false;  // layout oneDNN does not implement: the reference loop takes it
    }
  }
  CachedMatmul& mm = it->second;

  // Loop over the leading batch axes the primitive does not cover.
  for (std::int64_t o = 0; o < p.leading_batches(); ++o) {
    const MatmulPlan::Offsets off = p.leading_batch_offsets(o);
    mm.a.set_data_handle(const_cast<float*>(a + off.a));
    mm.b.set_data_handle(const_cast<float*>(b + off.b));
    mm.out.set_data_handle(out + off.out);
    mm.primitive.execute(rt.stream, {{DNNL_ARG_SRC, mm.a}, {DNNL_ARG_WEIGHTS, mm.b}, {DNNL_ARG_DST, mm.out}});
  }
  rt.stream.wait();
  return true;
}

}  // namespace tinynn::cpu
