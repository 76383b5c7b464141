// Autograd overhead: recording + backward of a chain of tiny ops (per node), and forward +
// backward of the MLP 784-256-128-10 at batch 128 against the sum of its eight matmuls
// called directly through oneDNN (the floor). TSV: name, shape, seconds, 0.
#include <cstdio>
#include <string>
#include <vector>

#include <tinynn/tinynn.h>

#include "bench_util.h"

namespace nn = tinynn::nn;
#include "onednn_direct.h"

using namespace tinynn;
using tinynn::bench::interleaved_median_seconds;
using tinynn::bench::median_seconds;

namespace {

Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  return -mean(gather(log_softmax(logits, 1), 1, target.unsqueeze(1)));
}

}  // namespace

int main(int argc, char** argv) {
  const int scale = argc > 1 ? std::stoi(argv[1]) : 1;

  // Per-node cost: a chain of 1000 multiplications of a 1-element tensor.
  constexpr int kChain = 1000;
  Tensor leaf = ones({1}).requires_grad_();
  auto chain_forward = [&] {
    Tensor y = leaf;
    for (int i = 0; i < kChain; ++i) y = y * 1.0001;
    return y;
  };
  const double t_forward_nograd = median_seconds([&] { NoGradGuard g; chain_forward(); }, 21 * scale);
  const double t_forward_record = median_seconds([&] { chain_forward(); }, 21 * scale);
  const double t_forward_backward = median_seconds([&] { chain_forward().backward(); leaf.zero_grad(); }, 21 * scale);
  std::printf("tinynn_chain_forward_nograd_per_op\t1\t%.9f\t0\n", t_forward_nograd / kChain);
  std::printf("tinynn_chain_forward_recorded_per_op\t1\t%.9f\t0\n", t_forward_record / kChain);
  std::printf("tinynn_chain_forward_backward_per_op\t1\t%.9f\t0\n", t_forward_backward / kChain);

  // The MLP 784-256-128-10, batch 128, cross-entropy: one forward + backward.
  Generator gen(0);
  const std::int64_t batch = 128;
  const std::vector<std::int64_t> sizes = {784, 256, 128, 10};
  std::vector<Tensor> weights, biases;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    weights.push_back((randn({sizes[l], sizes[l + 1]}, {}, &gen) * 0.05).requires_grad_());
    biases.push_back(zeros({sizes[l + 1]}).requires_grad_());
  }
  const Tensor x = rand({batch, sizes[0]}, {}, &gen);
  const Tensor target = randint(0, 10, {batch}, {DType::Int64}, &gen);
  auto mlp_step = [&] {
    Tensor h = x;
    for (std::size_t l = 0; l < weights.size(); ++l) {
      h = matmul(h, weights[l]) + biases[l];
      if (l + 1 < weights.size()) h = relu(h);
    }
    cross_entropy(h, target).backward();
    for (auto& w : weights) w.zero_grad();
    for (auto& b : biases) b.zero_grad();
  };

  tinynn::bench::MlpMatmulFloor floor(batch, sizes);

  const auto [t_step, t_floor] = interleaved_median_seconds(mlp_step, floor, 31 * scale, 5);
  std::printf("tinynn_mlp_forward_backward\t128x784-256-128-10\t%.9f\t0\n", t_step);
  std::printf("onednn_mlp_matmul_floor\t128x784-256-128-10\t%.9f\t0\n", t_floor);

  // Per-op overhead of a layer: forward + backward of Linear(4 -> 4) on one sample.
  nn::Linear tiny(4, 4, true, &gen);
  const Tensor one = randn({1, 4}, {}, &gen);
  const double t_tiny = median_seconds([&] { sum(tiny(one)).backward(); tiny.zero_grad(); }, 21 * scale, 2000);
  std::printf("tinynn_tiny_linear_forward_backward\t1x4-4\t%.9f\t0\n", t_tiny);

  // Inference throughput: the MLP on 10,000 images in batches of 1000, recording nothing.
  const Tensor images = rand({10000, sizes[0]}, {}, &gen);
  const double t_eval = median_seconds(
      [&] {
        NoGradGuard no_grad;
        for (std::int64_t b = 0; b < 10000; b += 1000) {
          Tensor h = images.narrow(0, b, 1000);
          for (std::size_t l = 0; l < weights.size(); ++l) {
            h = matmul(h, weights[l]) + biases[l];
            if (l + 1 < weights.size()) h = relu(h);
          }
          argmax(h, 1);
        }
      },
      9 * scale);
  std::printf("tinynn_mlp_eval_10000_images\t10000\t%.9f\t0\n", t_eval);
  return 0;
}
