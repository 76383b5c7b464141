// The `tinynn` command: `info` reports the build and devices; `train` will run JSON configs
// (the config trainer is not built yet and says so). Errors become one line and exit code 1.
#include <CLI/CLI.hpp>

#include <iostream>
#include <thread>

#include <tinynn/tinynn.h>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

int run_info() {
  std::cout << tinynn::build_summary() << "\n";
  std::cout << "oneDNN matmul: " << (tinynn::built_with_onednn() ? "yes" : "no (reference kernels)") << "\n";
  std::cout << "CUDA backend:  " << (tinynn::built_with_cuda() ? "compiled in" : "not compiled in") << "\n";
  const int gpus = tinynn::cuda_device_count();
  std::cout << "CUDA devices:  " << gpus << (gpus == 0 && tinynn::built_with_cuda() ? " (no GPU or driver found)" : "") << "\n";
  std::cout << "CPU threads:   " << std::thread::hardware_concurrency() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinynn: train neural networks from JSON configs, or embed the library in C++"};
  app.require_subcommand(1);
  app.set_version_flag("--version", tinynn::version());

  auto* info = app.add_subcommand("info", "Print the version, the backends compiled in, and the devices present");
  auto* train = app.add_subcommand("train", "Train a model from a JSON config");
  std::string config;
  train->add_option("config", config, "Path to the JSON config")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (info->parsed()) return run_info();
    if (train->parsed()) {
      std::cerr << "tinynn train: the config trainer is not built yet (it is the 'Train from JSON configs' issue); "
                   "nothing was trained\n";
      return 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "tinynn: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
