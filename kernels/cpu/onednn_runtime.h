// The one oneDNN engine and stream the CPU backend's primitives share, the lock that
// serializes their caches and execution (tinynn calls in from one thread at a time per op, but
// tests and the data loader may run ops on several), and the hash their caches key on.
#pragma once
#include <dnnl.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace tinynn::cpu {

struct OnednnRuntime {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::mutex mutex;
};

OnednnRuntime& onednn_runtime();

// The hash of a primitive cache's key: the plan's sizes and strides as one array.
struct ArrayKeyHash {
  template <std::size_t N>
  std::size_t operator()(const std::array<std::int64_t, N>& k) const {
    std::size_t h = 0;
    for (auto v : k) h = h * 1000003u ^ static_cast<std::size_t>(v);
    return h;
  }
};

}  // namespace tinynn::cpu
