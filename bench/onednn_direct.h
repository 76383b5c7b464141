// The speed limit benchmarks compare against: one oneDNN matmul primitive and its memory
// objects created once; a call is execute + wait. A is [m, k] (or stored [k, m] and read
// transposed), B is [k, n], C is [m, n], all float32.
#pragma once
#include <dnnl.hpp>

#include <cstdint>
#include <deque>
#include <vector>

namespace tinynn::bench {

struct MatmulShape {
  std::int64_t m, k, n;
  bool transpose_a = false;  // A stored as [k, m] (the backward's X^T dY)
  bool transpose_b = false;  // B stored as [n, k] (the backward's dY W^T)
};

class DirectOnednnMatmul {
 public:
  DirectOnednnMatmul(const MatmulShape& s, float* a, float* b, float* c) {
    using dims = dnnl::memory::dims;
    const auto f32 = dnnl::memory::data_type::f32;
    const dnnl::memory::desc a_md({s.m, s.k}, f32, s.transpose_a ? dims{1, s.m} : dims{s.k, 1});
    const dnnl::memory::desc b_md({s.k, s.n}, f32, s.transpose_b ? dims{1, s.k} : dims{s.n, 1});
    const dnnl::memory::desc c_md({s.m, s.n}, f32, dims{s.n, 1});
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), engine_);
    primitive_ = dnnl::matmul(pd);
    a_ = dnnl::memory(a_md, engine_, a);
    b_ = dnnl::memory(b_md, engine_, b);
    c_ = dnnl::memory(c_md, engine_, c);
  }
  void operator()() {
    primitive_.execute(stream_, {{DNNL_ARG_SRC, a_}, {DNNL_ARG_WEIGHTS, b_}, {DNNL_ARG_DST, c_}});
    stream_.wait();
  }

 private:
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  dnnl::matmul primitive_;
  dnnl::memory a_, b_, c_;
};

// The floor of one MLP training step (layer sizes `sizes`, batch `batch`): its matmuls called
// directly, forward X W for every layer, weight gradients X^T dY for every layer, input
// gradients dY W^T for all but the first.
class MlpMatmulFloor {
 public:
  // `first_input_grad`: the first layer's input gradient too (when layers before it train, as a
  // CNN's convolutions do).
  MlpMatmulFloor(std::int64_t batch, const std::vector<std::int64_t>& sizes, bool first_input_grad = false) {
    std::vector<MatmulShape> shapes;
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) shapes.push_back({batch, sizes[l], sizes[l + 1]});
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) shapes.push_back({sizes[l], batch, sizes[l + 1], true});
    for (std::size_t l = first_input_grad ? 0 : 1; l + 1 < sizes.size(); ++l)
      shapes.push_back({batch, sizes[l + 1], sizes[l], false, true});
    calls_.reserve(shapes.size());
    for (const auto& s : shapes) {
      buffers_.emplace_back(static_cast<std::size_t>(s.m * s.k), 0.5f);
      buffers_.emplace_back(static_cast<std::size_t>(s.k * s.n), 0.5f);
      buffers_.emplace_back(static_cast<std::size_t>(s.m * s.n), 0.0f);
      const std::size_t n = buffers_.size();
      calls_.emplace_back(s, buffers_[n - 3].data(), buffers_[n - 2].data(), buffers_[n - 1].data());
    }
  }
  void operator()() {
    for (auto& call : calls_) call();
  }

 private:
  std::deque<std::vector<float>> buffers_;  // a deque: growing it never moves the buffers
  std::vector<DirectOnednnMatmul> calls_;
};

}  // namespace tinynn::bench
