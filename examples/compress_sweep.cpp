// Accuracy against rank: compresses a trained MLP's dense layers to rank k (truncated SVD, two
// smaller layers each) for a range of k and prints the test accuracy and parameter count of each.
//
//   make train                                  # writes runs/fashion_mnist_mlp/best.safetensors
//   build/bin/compress_sweep [CHECKPOINT]
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include <tinynn/tinynn.h>

namespace nn = tinynn::nn;

int main(int argc, char** argv) {
  const std::string checkpoint = argc > 1 ? argv[1] : "runs/fashion_mnist_mlp/best.safetensors";
  if (!std::filesystem::exists(checkpoint)) {
    std::cerr << "compress_sweep: no checkpoint at " << checkpoint << " (run `make train` first, or pass one)\n";
    return 2;
  }
  try {
    const nn::TrainingProgress progress = nn::read_progress(checkpoint);
    nn::Config config = nn::checkpoint_config(progress, checkpoint);
    nn::DataSplits data = nn::load_data(config);
    auto model = nn::load_trained_model(config, checkpoint, progress.sample_shape, progress.output_size);
    const auto loss = nn::make_loss(config, data.train);
    auto accuracy = [&](nn::Sequential& m, const nn::Config& c) {
      nn::DataLoader loader(data.test, c.training.batch_size, false, false, 0);
      return nn::evaluate(m, loader, loss, tinynn::Device::cpu(), true).accuracy;
    };

    const double full_accuracy = accuracy(*model, config);
    const std::int64_t full_params = nn::parameter_count(*model);
    std::cout << fmt::format("{} ({} parameters, test accuracy {:.2f}%)\n\n", checkpoint, full_params, 100 * full_accuracy);
    std::cout << fmt::format("{:>6} {:>12} {:>10} {:>15}\n", "rank", "parameters", "of full", "test accuracy");
    for (std::int64_t rank : {1, 2, 4, 8, 16, 32, 64, 128}) {
      const nn::Compression c = nn::compress_dense_layers(config, *model, progress.sample_shape, progress.output_size, {rank, 0});
      std::cout << fmt::format("{:>6} {:>12} {:>9.1f}% {:>14.2f}%\n", rank, c.params_after,
                               100.0 * static_cast<double>(c.params_after) / static_cast<double>(full_params),
                               100 * accuracy(*c.model, c.config));
    }
    std::cout << fmt::format("{:>6} {:>12} {:>9.1f}% {:>14.2f}%\n", "full", full_params, 100.0, 100 * full_accuracy);
  } catch (const std::exception& e) {
    std::cerr << "compress_sweep: " << e.what() << "\n";
    return 1;
  }
}
