// Where a training step's time goes, by backend entry: runs STEPS training steps of a config (its
// model, loss, optimizer and batch size, on random inputs of the data's sample shape, so no data is
// read) with every CPU backend call timed through detail::ForwardingBackend, and prints the total
// milliseconds per step of each entry (pointwise calls by op), largest first, against the
// step's wall time. Usage: profile_step CONFIG [STEPS=20] [SAMPLE_SHAPE like 1,28,28] [CLASSES=10]
#include <tinynn/core/detail/forwarding_backend.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <tinynn/tinynn.h>

using namespace tinynn;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: profile_step CONFIG [STEPS=20] [SAMPLE_SHAPE=1,28,28] [CLASSES=10]\n");
    return 2;
  }
  const int steps = argc > 2 ? std::stoi(argv[2]) : 20;
  Shape sample;
  std::stringstream dims(argc > 3 ? argv[3] : "1,28,28");
  for (std::string d; std::getline(dims, d, ',');) sample.push_back(std::stoll(d));
  const std::int64_t classes = argc > 4 ? std::stoll(argv[4]) : 10;
  try {
    nn::Config config = nn::load_config(argv[1]);
    Generator gen(config.training.seed);
    auto model = nn::build_model(config, sample, classes, &gen);
    nn::Dataset shape_only;
    shape_only.num_classes = classes;
    auto optimizer = nn::make_optimizer(config, *model);
    nn::StepOptions options;
    options.count_correct = true;
    nn::TrainStep step(*model, *optimizer, nn::make_loss(config, shape_only), options, config.regularization);
    Shape batch = sample;
    batch.insert(batch.begin(), config.training.batch_size);
    const Tensor x = randn(batch, {}, &gen), y = randint(0, classes, {config.training.batch_size}, {DType::Int64}, &gen);
    for (int i = 0; i < 3; ++i) step(x, y);  // warm-up: primitives, caches, optimizer state

    std::map<std::string, std::pair<double, int>> totals;
    detail::ForwardingBackend timing(detail::cpu_backend(), [&totals](const char* entry, const char* op, double seconds) {
      auto& t = totals[*op ? std::string(entry) + " " + op : std::string(entry)];
      t.first += seconds, ++t.second;
    });
    detail::set_cpu_backend_override(&timing);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step(x, y);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    detail::set_cpu_backend_override(nullptr);

    std::vector<std::pair<std::string, std::pair<double, int>>> rows(totals.begin(), totals.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
    double in_backend = 0;
    for (const auto& r : rows) in_backend += r.second.first;
    std::printf("%-32s %10s %8s %7s\n", "backend entry", "ms/step", "calls", "share");
    for (const auto& [name, t] : rows)
      if (t.first / steps >= 1e-5)
        std::printf("%-32s %10.3f %8.1f %6.1f%%\n", name.c_str(), 1e3 * t.first / steps, static_cast<double>(t.second) / steps,
                    100 * t.first / wall);
    std::printf("%-32s %10.3f\n%-32s %10.3f\n", "all backend calls", 1e3 * in_backend / steps, "step (wall)", 1e3 * wall / steps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "profile_step: %s\n", e.what());
    return 1;
  }
}
