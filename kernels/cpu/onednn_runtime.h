// The one oneDNN engine and stream the CPU backend's primitives share, and the lock that
// serializes their caches and execution (tinynn calls in from one thread at a time per op, but
// tests and the data loader may run ops on several).
#pragma once
#include <dnnl.hpp>

#include <mutex>

namespace tinynn::cpu {

struct OnednnRuntime {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::mutex mutex;
};

OnednnRuntime& onednn_runtime();

}  // namespace tinynn::cpu
