// Where one training step of the default config goes: the step of configs/fashion_mnist_mlp.json
// (784-256-128-10 with ReLU and dropout 0.2, cross-entropy with label smoothing 0.05, AdamW,
// batch 128 picked from 54,000 samples) timed phase by phase, next to the same step's eight
// matmuls called directly through oneDNN (the floor), in alternating rounds.
// TSV: name, shape, seconds per step, 0.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <tinynn/tinynn.h>

#include "bench_util.h"
#include "onednn_direct.h"

namespace nn = tinynn::nn;
using namespace tinynn;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int scale = argc > 1 ? std::stoi(argv[1]) : 1;
  Generator gen(0);
  const std::int64_t batch = 128, samples = 54000;
  const std::vector<std::int64_t> sizes = {784, 256, 128, 10};
  const Tensor images = rand({samples, sizes[0]}, {}, &gen);
  const Tensor labels = randint(0, 10, {samples}, {DType::Int64}, &gen);
  const Tensor order = from_vector(nn::permutation(samples, 1, 1), {samples});

  auto model = std::make_shared<nn::Sequential>();
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    model->add(std::make_shared<nn::Linear>(sizes[l], sizes[l + 1], true, &gen));
    if (l + 2 < sizes.size()) model->add(std::make_shared<nn::ReLU>()).add(std::make_shared<nn::Dropout>(0.2, &gen));
  }
  const auto params = model->parameters();
  nn::Adam optimizer(params, nn::adamw_options(1e-3, 1e-4));
  nn::CrossEntropyOptions loss_options;
  loss_options.label_smoothing = 0.05;

  // One step, the trainer's order, with the clock read between phases.
  const char* phases[] = {"batch", "forward", "loss", "backward", "grad_norm", "optimizer", "bookkeeping"};
  std::map<std::string, std::vector<double>> phase_times;
  std::int64_t step_index = 0;
  auto step = [&](bool record) {
    Clock::time_point t[8];
    t[0] = Clock::now();
    const std::int64_t begin = (step_index++ % (samples / batch)) * batch;
    const Tensor rows = order.narrow(0, begin, batch);
    const Tensor x = index_select(images, 0, rows), y = index_select(labels, 0, rows);
    t[1] = Clock::now();
    optimizer.zero_grad();
    const Tensor out = (*model)(x);
    t[2] = Clock::now();
    const Tensor loss = nn::cross_entropy(out, y, loss_options);
    const double loss_value = loss.item();
    t[3] = Clock::now();
    loss.backward();
    t[4] = Clock::now();
    const double norm = nn::total_grad_norm(params);
    t[5] = Clock::now();
    optimizer.step();
    t[6] = Clock::now();
    const auto correct = sum(argmax(out.detach(), 1) == y).item<std::int64_t>();
    t[7] = Clock::now();
    if (record)
      for (int p = 0; p < 7; ++p) phase_times[phases[p]].push_back(std::chrono::duration<double>(t[p + 1] - t[p]).count());
    return loss_value + norm + static_cast<double>(correct);
  };

  tinynn::bench::MlpMatmulFloor floor(batch, sizes);

  for (int i = 0; i < 20; ++i) step(false);  // warm-up: optimizer state, caches, primitives
  const auto [t_step, t_floor] = tinynn::bench::interleaved_median_seconds([&] { step(true); }, floor, 41 * scale, 10);
  std::printf("tinynn_train_step\t128x784-256-128-10\t%.9f\t0\n", t_step);
  std::printf("onednn_train_step_matmul_floor\t128x784-256-128-10\t%.9f\t0\n", t_floor);
  for (const char* p : phases)
    std::printf("tinynn_train_step_phase_%s\t128x784-256-128-10\t%.9f\t0\n", p, tinynn::bench::median(phase_times[p]));
  return 0;
}
