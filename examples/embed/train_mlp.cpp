// Trains an MLP on Fashion-MNIST with tinynn as a library (built against the installed package).
// Usage: train_mlp [DATA_DIR] [EPOCHS] [MAX_TRAIN]
#include <tinynn/tinynn.h>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  namespace nn = tinynn::nn;
  const std::string dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  const int epochs = argc > 2 ? std::stoi(argv[2]) : 5;
  nn::DataSplits data = nn::load_idx_directory(dir, argc > 3 ? std::stoll(argv[3]) : 0);
  nn::scale_inputs(data, 1.0 / 255.0);
  nn::flatten_inputs(data);

  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_shared<nn::Linear>(784, 256)).add(std::make_shared<nn::ReLU>());
  model->add(std::make_shared<nn::Linear>(256, 10));
  nn::Adam optimizer(model->parameters(), {});  // lr 1e-3
  nn::DataLoader train(data.train, 128, /*shuffle=*/true, /*drop_last=*/false, /*seed=*/1);
  nn::DataLoader test(data.test, 512, false, false, 0);
  std::cout << model->summary({1, 784});
  const nn::LossFn loss = [](const tinynn::Tensor& out, const tinynn::Tensor& y) { return nn::cross_entropy(out, y); };
  nn::StepOptions options;
  options.clip_max_norm = 5.0;
  nn::TrainStep step(*model, optimizer, loss, options);  // the trainer's own step: loss, backward, clip, update

  for (int epoch = 0; epoch < epochs; ++epoch) {
    train.start_epoch(epoch);
    nn::Batch batch;
    double loss_sum = 0;
    while (train.next(batch)) loss_sum += step(batch.inputs, batch.targets).loss;
    std::cout << "epoch " << epoch + 1 << ": mean batch loss " << loss_sum / static_cast<double>(train.batches_per_epoch());
    const nn::EvalResult r = nn::evaluate(*model, test, loss, tinynn::Device::cpu(), /*classification=*/true);
    std::cout << ", test accuracy " << 100 * r.accuracy << "%\n";
  }
}
