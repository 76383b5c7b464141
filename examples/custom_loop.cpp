// A custom training loop without the trainer: a two-layer network on the spirals data, with
// gradients from grad(), a hand-written SGD-with-momentum update under NoGradGuard, a per-layer
// L2 penalty reported on its own, and gradient-norm clipping.
#include <tinynn/tinynn.h>

#include <fmt/format.h>

#include <iostream>

int main() {
  using namespace tinynn;
  namespace nn = tinynn::nn;
  manual_seed(0);
  const nn::Dataset train = nn::make_synthetic("spirals", 900, 0.2, 1);
  const nn::Dataset test = nn::make_synthetic("spirals", 300, 0.2, 2);

  // Parameters as plain tensors: [2 -> 64 -> 3].
  Tensor w1 = (randn({2, 64}) * 0.5).requires_grad_(), b1 = zeros({64}).requires_grad_();
  Tensor w2 = (randn({64, 3}) * 0.1).requires_grad_(), b2 = zeros({3}).requires_grad_();
  std::vector<Tensor> params = {w1, b1, w2, b2};
  std::vector<Tensor> velocity;
  for (const auto& p : params) velocity.push_back(zeros_like(p));
  auto forward = [&](const Tensor& x) { return matmul(relu(matmul(x, w1) + b1), w2) + b2; };

  for (int step = 1; step <= 600; ++step) {
    const Tensor data_loss = nn::cross_entropy(forward(train.inputs), train.targets);
    const Tensor penalty = sum(square(w1)) * 1e-4;  // L2 on the first layer only
    std::vector<Tensor> grads = grad({data_loss + penalty}, params);
    // Clip the global norm to 5, by hand.
    double norm2 = 0;
    for (const auto& g : grads) norm2 += sum(square(g)).item();
    const double scale = std::min(1.0, 5.0 / (std::sqrt(norm2) + 1e-6));
    {
      NoGradGuard no_grad;
      for (std::size_t i = 0; i < params.size(); ++i) {
        velocity[i] = velocity[i] * 0.9 + grads[i] * scale;
        params[i].copy_(params[i] - velocity[i] * 0.05);
      }
    }
    if (step % 100 == 0) {
      NoGradGuard no_grad;
      const double accuracy = mean((argmax(forward(test.inputs), 1) == test.targets).to(DType::Float32)).item();
      std::cout << fmt::format("step {:3}: loss {:.4f} (penalty {:.5f}), test accuracy {:.1f}%\n", step, data_loss.item(),
                               penalty.item(), 100 * accuracy);
    }
  }
}
