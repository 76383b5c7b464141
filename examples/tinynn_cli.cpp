// The `tinynn` command: train, eval, predict, validate, inspect, compress, export and info. Every error becomes one line on
// stderr and a documented exit code (see `tinynn --help` and README.md); the last line `train`
// prints on stdout is one JSON object with the final test metrics.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <new>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <thread>

#include <tinynn/tinynn.h>

namespace nn = tinynn::nn;
using nlohmann::json;

namespace {

// Exit codes (documented in the README and in --help).
enum Exit : int {
  kOk = 0,
  kInternal = 1,
  kUsage = 2,       // invalid config or command line
  kData = 3,        // missing or corrupt data files
  kCheckpoint = 4,  // missing or corrupt checkpoint, unwritable run directory
  kDiverged = 5,    // non-finite loss or gradient with training.on_nonfinite = "stop"
  kDevice = 6,      // a device that is not present
  kOutOfMemory = 7,  // a batch (or model) larger than the device's memory, once training runs
  kInterrupted = 130,
};

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop = true;
  // A second Ctrl-C ends the process at once.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

// Every error is exactly one line on stderr: "tinynn: error: ..." (a message's own "tinynn: "
// prefix is not repeated). On a terminal the line first clears what a progress bar left on it.
// In a data-parallel job the line names the rank.
void print_error(std::string message) {
  for (const char* prefix : {"tinynn: error: ", "tinynn: "})
    if (message.rfind(prefix, 0) == 0) message.erase(0, std::string(prefix).size());
  for (char& c : message)
    if (c == '\n') c = ' ';
  const std::string rank = tinynn::dist::world_size() > 1 ? fmt::format("rank {}: ", tinynn::dist::rank()) : "";
  std::cerr << (::isatty(STDERR_FILENO) ? "\r\033[K" : "") << "tinynn: error: " << rank << message << std::endl;
}

// An error on one rank of a job ends the job: the other ranks may be waiting for it in a
// collective and would never learn of it. Every rank usually fails alike (a bad config), so the
// others wait a few seconds for rank 0's line and abort to end them: one line is printed, not one per rank.
int fail(const std::string& message, int code) {
  if (tinynn::dist::world_size() > 1 && tinynn::dist::rank() != 0) std::this_thread::sleep_for(std::chrono::seconds(3));
  print_error(message);
  if (tinynn::dist::world_size() > 1) tinynn::dist::abort_job(code);
  return code;
}

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

int run_info() {
  std::cout << tinynn::build_summary() << "\n";
  std::cout << "oneDNN matmul: " << (tinynn::built_with_onednn() ? "yes" : "no (reference kernels)") << "\n";
  std::cout << "CUDA backend:  " << (tinynn::built_with_cuda() ? "compiled in" : "not compiled in") << "\n";
  const int gpus = tinynn::cuda_device_count();
  std::cout << "CUDA devices:  " << gpus << (gpus == 0 && tinynn::built_with_cuda() ? " (no GPU or driver found)" : "") << "\n";
  for (int i = 0; i < gpus; ++i) std::cout << "  cuda:" << i << "  " << tinynn::cuda_device_description(i) << "\n";
  std::cout << "MPI:           " << tinynn::dist::description() << "\n";
  if (tinynn::dist::world_size() > 1)
    std::cout << "MPI job:       rank " << tinynn::dist::rank() << " of " << tinynn::dist::world_size() << "\n";
  std::cout << "CPU threads:   " << tinynn::num_threads() << " (cores: " << std::thread::hardware_concurrency() << ")\n";
  return kOk;
}

int run_validate(const std::string& path, const std::vector<std::string>& sets) {
  nn::Config c = nn::load_config(path, sets);
  std::cout << nn::check_run(c);  // every check of train before its first step: data, model, loss, ...
  std::cout << fmt::format("{}: valid ({} layers, {} loss, {} optimizer, {} data, {} epochs)\n", path, c.layers.size(),
                           c.loss.type, c.optimizer.type, c.data.type, c.training.epochs);
  return kOk;
}

int run_train(const std::string& path, const std::vector<std::string>& sets, const nn::TrainOptions& options) {
  nn::Config config = nn::load_config(path, sets);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const nn::TrainResult r = nn::train(config, options);
  if (r.interrupted) return kInterrupted;
  if (!tinynn::dist::is_main()) return kOk;  // rank 0 reports
  std::cerr << fmt::format("run directory: {} (config.json, metrics.jsonl, metrics.csv, curves.svg, last/best.safetensors)\n",
                           r.run_dir);
  std::cout << json{{"test_accuracy", number_or_null(r.test_accuracy)},
                    {"test_loss", number_or_null(r.test_loss)},
                    {"epochs", r.epochs},
                    {"tested_epoch", r.tested_epoch},
                    {"seconds", std::round(r.seconds * 100) / 100},  // measurements: more digits would be noise
                    {"samples_per_second", static_cast<std::int64_t>(std::round(r.samples_per_second))}}
                   .dump()
            << std::endl;
  return kOk;
}

bool same_spec(const nn::TypedSpec& a, const nn::TypedSpec& b) { return a.type == b.type && a.values.all() == b.values.all(); }

// A CONFIG given next to a checkpoint may say where the data is, but must describe the same model
// and loss as the checkpoint's own config (a compressed checkpoint's model is its own).
void check_agrees(const nn::Config& config, const nn::Config& saved, const nn::TrainingProgress& progress,
                  const std::string& path, const std::string& checkpoint) {
  const bool compressed = progress.extra.count("compressed") != 0;
  if (!compressed) {
    if (config.layers.size() != saved.layers.size())
      throw nn::ConfigError(fmt::format("config: '{}' has {} layers but checkpoint '{}' was trained with {}; run eval without "
                                        "a config to use the checkpoint's own", path, config.layers.size(), checkpoint,
                                        saved.layers.size()));
    for (std::size_t i = 0; i < config.layers.size(); ++i)
      if (!same_spec(config.layers[i], saved.layers[i]))
        throw nn::ConfigError(fmt::format("config: {}: '{}' differs from the layer checkpoint '{}' was trained with ({}); run "
                                          "eval without a config to use the checkpoint's own", config.layers[i].path, path,
                                          checkpoint, saved.layers[i].type));
  }
  if (!same_spec(config.loss, saved.loss))
    throw nn::ConfigError(fmt::format("config: loss: '{}' has loss '{}' but checkpoint '{}' was trained with '{}' (or other "
                                      "loss keys); run eval without a config to use the checkpoint's own", path,
                                      config.loss.type, checkpoint, saved.loss.type));
}

std::int64_t model_outputs(const nn::Dataset& d) { return d.is_classification() ? d.num_classes : d.targets.shape()[1]; }

nn::EvalResult evaluate_on_test(nn::Sequential& model, const nn::Config& config, const nn::DataSplits& data,
                                tinynn::Device device) {
  model.to(device);
  nn::DataLoader loader(data.test, config.training.batch_size, false, false, 0);
  return nn::evaluate(model, loader, nn::make_loss(config, data.train), device, data.test.is_classification());
}

// A file that exists is replaced only when it is what the command writes (by its extension), so a
// mistyped -o never destroys a checkpoint, a config or another run's file.
void check_replaceable(const std::string& path, const std::string& extension, const std::string& command) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  if (std::filesystem::path(path).extension() != extension || std::filesystem::is_directory(path, ec))
    throw nn::ConfigError(fmt::format("{}: '{}' exists and is not a {} file; refusing to replace it", command, path, extension));
}

// Each test sample as the data holds it (before scaling and normalization), its label or targets,
// and what predict gives for it: one CSV row per sample, to check a deployed model against.
void write_test_outputs(const nn::Config& config, const std::string& checkpoint, tinynn::Device device, const std::string& path) {
  check_replaceable(path, ".csv", "eval");
  nn::Config raw = config;
  raw.data.scale = raw.data.normalize = false;
  const nn::Dataset test = nn::load_data(raw).test;
  nn::Predictor predictor(checkpoint, device);
  const tinynn::Tensor outputs = predictor.predict(test.inputs);
  const std::int64_t n = test.size(), d = test.inputs.numel() / std::max<std::int64_t>(n, 1), k = outputs.shape()[1];
  const std::int64_t targets = test.is_classification() ? 1 : test.targets.shape()[1];
  std::string csv;
  for (std::int64_t j = 0; j < d; ++j) csv += fmt::format("input_{},", j);
  for (std::int64_t j = 0; j < targets; ++j) csv += test.is_classification() ? "label," : fmt::format("target_{},", j);
  for (std::int64_t j = 0; j < k; ++j) csv += fmt::format("output_{}{}", j, j + 1 < k ? "," : "\n");
  const std::vector<float> x = test.inputs.contiguous().to_vector<float>();
  const std::vector<double> t = test.targets.contiguous().to_vector<double>(), y = outputs.contiguous().to_vector<double>();
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) csv += fmt::format("{},", x[i * d + j]);  // shortest text that reads back exactly
    for (std::int64_t j = 0; j < targets; ++j) csv += fmt::format("{},", t[i * targets + j]);
    for (std::int64_t j = 0; j < k; ++j) csv += fmt::format("{}{}", y[i * k + j], j + 1 < k ? "," : "\n");
  }
  nn::write_file_atomically(path, csv);
}

int run_eval(const std::string& path, const std::string& checkpoint, const std::vector<std::string>& sets,
             const std::optional<std::string>& device_name, const std::string& outputs_csv) {
  // The checkpoint carries its config: without CONFIG it is all eval needs.
  const nn::TrainingProgress progress = nn::read_progress(checkpoint);
  const nn::Config saved = nn::checkpoint_config(progress, checkpoint, path.empty() ? sets : std::vector<std::string>{});
  nn::Config config = saved;
  if (!path.empty()) {
    config = nn::load_config(path, sets);
    check_agrees(config, saved, progress, path, checkpoint);
    // The architecture and the normalization statistics are the checkpoint's.
    config.layers = saved.layers;
    if (saved.data.mean) config.data.mean = saved.data.mean;
    if (saved.data.std) config.data.std = saved.data.std;
  }
  const tinynn::Device device = nn::resolve_device(device_name.value_or(config.training.device));
  nn::DataSplits data = nn::load_data(config);
  if (!progress.sample_shape.empty() &&
      (data.test.sample_shape() != progress.sample_shape || model_outputs(data.test) != progress.output_size))
    throw nn::ConfigError(fmt::format("config: data: samples of shape {} with {} outputs, but checkpoint '{}' takes {} with {}",
                                      tinynn::shape_str(data.test.sample_shape()), model_outputs(data.test), checkpoint,
                                      tinynn::shape_str(progress.sample_shape), progress.output_size));
  auto model = nn::load_trained_model(config, checkpoint, data.test.sample_shape(), model_outputs(data.test));
  const nn::EvalResult r = evaluate_on_test(*model, config, data, device);
  if (!outputs_csv.empty()) write_test_outputs(config, checkpoint, device, outputs_csv);
  std::cout << json{{"test_accuracy", number_or_null(r.accuracy)}, {"test_loss", number_or_null(r.loss)}, {"samples", r.samples}}
                   .dump()
            << std::endl;
  return kOk;
}

int run_export(const std::string& checkpoint, const std::string& output) {
  check_replaceable(output, ".onnx", "export");
  const nn::TrainingProgress progress = nn::read_progress(checkpoint);
  const nn::Config config = nn::checkpoint_config(progress, checkpoint);
  if (progress.sample_shape.empty())
    throw nn::CheckpointError(fmt::format("tinynn: checkpoint '{}' does not record the input shape", checkpoint));
  auto model = nn::load_trained_model(config, checkpoint, progress.sample_shape, progress.output_size);
  const nn::OnnxExportOptions options = nn::onnx_options_for(config);
  const nn::OnnxExportSummary s = nn::export_onnx(*model, progress.sample_shape, output, options);
  std::vector<std::string> outputs;
  for (const std::string& o : s.outputs) outputs.push_back(fmt::format("'{}' [batch, {}]", o, s.output_size));
  std::vector<std::string> steps;
  if (options.scale != 1.0) steps.push_back("scaling");
  if (options.std) steps.push_back("normalization");
  std::cout << fmt::format("{}: ONNX (IR 8, opset 17), input '{}' [batch, {}] (raw samples{}), output{} {}; {} nodes, {} parameters\n",
                           output, s.input, fmt::join(s.input_shape, ", "),
                           steps.empty() ? "" : fmt::format("; the {} are in the graph", fmt::join(steps, " and ")),
                           outputs.size() > 1 ? "s" : "", fmt::join(outputs, ", "), s.nodes, s.parameters);
  return kOk;
}

std::string values_str(const std::vector<double>& values) {
  std::string out;
  for (double v : values) out += fmt::format("{}{:.3g}", out.empty() ? "" : " ", v);
  return out;
}

int run_inspect(const std::string& checkpoint, std::int64_t top, bool as_json) {
  const nn::TrainingProgress progress = nn::read_progress(checkpoint);
  const nn::Config config = nn::checkpoint_config(progress, checkpoint);
  if (progress.sample_shape.empty())
    throw nn::CheckpointError(fmt::format("tinynn: checkpoint '{}' does not record the input shape", checkpoint));
  const std::int64_t outputs = progress.output_size;
  auto model = nn::load_trained_model(config, checkpoint, progress.sample_shape, outputs);
  const auto spectra = nn::weight_spectra(*model, top);
  if (as_json) {
    json layers = json::array();
    for (const auto& w : spectra)
      layers.push_back({{"name", w.name}, {"shape", w.shape}, {"frobenius", w.frobenius}, {"spectral", w.spectral},
                        {"rank", w.rank}, {"condition", number_or_null(w.condition)},
                        {"top_singular_values", w.top_singular_values}, {"top_k_energy", w.top_k_energy}});
    std::cout << json{{"checkpoint", checkpoint}, {"epoch", progress.epoch}, {"layers", layers}}.dump(1) << std::endl;
    return kOk;
  }
  std::cout << fmt::format("{} (epoch {}, {} parameters)\n\n", checkpoint, progress.epoch, nn::parameter_count(*model));
  std::cout << fmt::format("{:<10} {:<12} {:>10} {:>10} {:>6} {:>10} {:>11}  {}\n", "weight", "shape", "frobenius", "spectral",
                           "rank", "condition", fmt::format("top-{} en.", top), "top singular values");
  for (const auto& w : spectra)
    std::cout << fmt::format("{:<10} {:<12} {:>10.4g} {:>10.4g} {:>6} {:>10.4g} {:>10.1f}%  {}\n", w.name,
                             tinynn::shape_str(w.shape), w.frobenius, w.spectral, w.rank, w.condition,
                             100 * w.top_k_energy, values_str(w.top_singular_values));
  std::cout << "\nrank: numerical rank (singular values above S.max * max(m, n) * eps); condition: S.max / S.min;\n"
               "top-k en.: the share of sum(S^2) in the k largest singular values.\n";
  return kOk;
}

int run_compress(const std::string& checkpoint, const nn::CompressOptions& options, const std::string& output,
                 bool evaluate, const std::optional<std::string>& device_name) {
  check_replaceable(output, ".safetensors", "compress");
  std::error_code ec;
  if (std::filesystem::equivalent(output, checkpoint, ec))
    throw nn::ConfigError(fmt::format("compress: -o '{}' is the checkpoint being compressed; write the compressed "
                                      "model to another file", output));
  const nn::TrainingProgress progress = nn::read_progress(checkpoint);
  nn::Config config = nn::checkpoint_config(progress, checkpoint);
  if (progress.sample_shape.empty())
    throw nn::CheckpointError(fmt::format("tinynn: checkpoint '{}' does not record the input shape", checkpoint));
  const std::int64_t outputs = progress.output_size;
  auto model = nn::load_trained_model(config, checkpoint, progress.sample_shape, outputs);
  const nn::Compression c = nn::compress_dense_layers(config, *model, progress.sample_shape, outputs, options);

  std::cout << fmt::format("{:<18} {:<12} {:>6} {:>12} {:>14}\n", "layer", "weight", "rank", "energy kept", "parameters");
  for (const auto& l : c.layers) {
    const std::int64_t before = l.in * l.out, after = l.factorized ? l.rank * (l.in + l.out) : before;
    std::cout << fmt::format("{:<18} {:<12} {:>6} {:>11.2f}% {:>14}\n", l.layer, fmt::format("[{}, {}]", l.out, l.in),
                             l.factorized ? std::to_string(l.rank) : "dense", 100 * l.energy_kept,
                             fmt::format("{} -> {}", before, after));
  }
  json summary{{"params_before", c.params_before}, {"params_after", c.params_after}, {"output", output}};
  std::cout << fmt::format("parameters: {} -> {} ({:.1f}%)\n", c.params_before, c.params_after,
                           100.0 * static_cast<double>(c.params_after) / static_cast<double>(c.params_before));
  if (evaluate) {
    const tinynn::Device device = nn::resolve_device(device_name.value_or("cpu"));
    nn::DataSplits data = nn::load_data(config);
    const nn::EvalResult before = evaluate_on_test(*model, config, data, device);
    const nn::EvalResult after = evaluate_on_test(*c.model, c.config, data, device);
    std::cout << fmt::format("test accuracy: {:.2f}% -> {:.2f}%; test loss: {:.4f} -> {:.4f}\n", 100 * before.accuracy,
                             100 * after.accuracy, before.loss, after.loss);
    summary["test_accuracy_before"] = number_or_null(before.accuracy);
    summary["test_accuracy_after"] = number_or_null(after.accuracy);
    c.model->to(tinynn::Device::cpu());
  }
  nn::TrainingProgress saved = progress;
  saved.config_json = c.config.resolved.dump();
  saved.extra["compressed"] = 1;  // its model is its own, not its training config's
  nn::save_checkpoint(output, *c.model, nullptr, nullptr, saved);
  std::cout << summary.dump() << std::endl;
  return kOk;
}

// Predicts every input (image files, folders, CSV files of samples) in batches. An input that
// cannot be read is reported on its own line and the rest are still predicted; the exit code then
// says data error.
int run_predict(const std::string& checkpoint, const std::vector<std::string>& inputs, int top, bool as_json,
                const std::optional<std::string>& device_name) {
  nn::Predictor predictor(checkpoint);
  predictor.to(nn::resolve_device(device_name.value_or(predictor.config().training.device)));
  const nn::PredictionInputs in = nn::read_prediction_inputs(inputs, predictor.config(), predictor.sample_shape());
  for (const auto& f : in.failures) print_error(f.message);
  const tinynn::Tensor outputs = predictor.predict(in.samples);
  const auto& names = predictor.class_names();
  json predictions = json::array();
  for (std::size_t i = 0; i < in.names.size(); ++i) {
    const std::vector<double> p = outputs.select(0, static_cast<std::int64_t>(i)).to_vector<double>();
    if (!predictor.classification()) {
      if (as_json) predictions.push_back({{"input", in.names[i]}, {"values", p}});
      else std::cout << fmt::format("{}: {}\n", in.names[i], fmt::join(p, ", "));
      continue;
    }
    std::vector<std::size_t> order(p.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&p](auto a, auto b) { return p[a] > p[b]; });
    order.resize(std::min(order.size(), static_cast<std::size_t>(top)));
    if (as_json) {
      json ranked = json::array();
      for (std::size_t k : order) ranked.push_back({{"class", names.at(k)}, {"index", k}, {"probability", p[k]}});
      predictions.push_back({{"input", in.names[i]}, {"class", names.at(order[0])}, {"probability", p[order[0]]}, {"top", ranked}});
      continue;
    }
    std::string line = in.names[i] + ":";
    for (std::size_t k : order) line += fmt::format("{} {} ({:.1f}%)", k == order[0] ? "" : ",", names.at(k), 100 * p[k]);
    std::cout << line << "\n";
  }
  if (as_json) {
    json failures = json::array();
    for (const auto& f : in.failures) failures.push_back({{"input", f.input}, {"error", f.message}});
    std::cout << json{{"checkpoint", checkpoint}, {"predictions", predictions}, {"failures", failures}}.dump(2) << std::endl;
  }
  std::cout << std::flush;
  return in.failures.empty() ? kOk : kData;
}

// A number that `fits`, else "expected WANT, got TEXT". CLI11's own range checks print their range
// as "0.000000 to 179769313486231570814527...": these say what is wanted.
CLI::Validator number_check(std::string want, std::string name, std::function<bool(double)> fits) {
  return CLI::Validator(
      [want, fits](std::string& text) -> std::string {
        double v = 0;
        return CLI::detail::lexical_cast(text, v) && fits(v) ? "" : "expected " + want + ", got " + text;
      },
      std::move(name));
}
CLI::Validator whole_at_least(int lo) {
  return number_check(fmt::format("a whole number of at least {}", lo), fmt::format("INT>={}", lo),
                      [lo](double v) { return v >= lo && v == std::floor(v); });
}
CLI::Validator share() {
  return number_check("a share in (0, 1]", "(0, 1]", [](double v) { return v > 0 && v <= 1; });
}

int exit_code_for(const std::exception& e) {
  if (dynamic_cast<const nn::ConfigError*>(&e) || dynamic_cast<const nn::ExportError*>(&e)) return kUsage;
  if (dynamic_cast<const nn::DataError*>(&e)) return kData;
  if (dynamic_cast<const nn::CheckpointError*>(&e)) return kCheckpoint;
  if (dynamic_cast<const nn::DivergenceError*>(&e)) return kDiverged;
  if (dynamic_cast<const tinynn::DeviceError*>(&e)) return kDevice;
  return kInternal;
}

}  // namespace

int main(int argc, char** argv) {
  tinynn::dist::init(&argc, &argv);  // a rank of `mpirun -np N tinynn ...`, or a world of one
  CLI::App app{"tinynn: train neural networks from JSON configs, or embed the library in C++"};
  app.require_subcommand(1);
  app.set_version_flag("--version", tinynn::version());
  app.footer(
      "Exit codes: 0 ok, 1 internal error, 2 invalid config or arguments (or a model ONNX cannot express), 3 data error, 4 checkpoint or run-directory "
      "error, 5 training diverged, 6 device not present, 7 out of memory, 130 interrupted (a checkpoint was written).");

  std::vector<std::string> sets;
  std::string config_path, checkpoint;
  std::optional<std::string> device;
  nn::TrainOptions train_options;
  int threads = 0, top = 3;
  std::vector<std::string> images;

  auto* train = app.add_subcommand("train", "Train a model from a JSON config");
  train->add_option("config", config_path, "JSON config (see configs/README.md)")->required()->check(CLI::ExistingFile);
  train->add_option("--set", sets, "Override a config value, e.g. --set training.epochs=1 (repeatable)")->allow_extra_args(false)->take_all();
  train->add_option("--device", device, "cpu, cuda, cuda:N or auto (overrides training.device)");
  train->add_flag("--resume", train_options.resume, "Continue from RUN_DIR/last.safetensors");
  train->add_flag("--overwrite", train_options.overwrite, "Replace the results of a previous run in RUN_DIR");
  train->add_option("--run-dir", train_options.run_dir, "Where results go (overrides output.run_dir)");
  train->add_option("--threads", threads, "CPU threads (0: every core; overrides training.threads)")->check(whole_at_least(0));

  auto* eval = app.add_subcommand("eval", "Evaluate a checkpoint on the config's test set");
  eval->add_option("config", config_path, "JSON config (optional: the checkpoint carries its own; a given one must agree with it)")
      ->check(CLI::ExistingFile);
  eval->add_option("--checkpoint", checkpoint, "A .safetensors checkpoint written by train")->required();
  eval->add_option("--set", sets, "Override a config value (repeatable)")->allow_extra_args(false)->take_all();
  eval->add_option("--device", device, "cpu, cuda, cuda:N or auto");
  std::string outputs_csv;
  eval->add_option("--outputs", outputs_csv, "Also write a CSV file: each test sample as the data holds it, its label (or "
                   "targets) and the model's outputs as predict gives them (to check a deployed model against)");

  bool as_json = false;
  auto* predict = app.add_subcommand("predict", "Predict with a trained checkpoint: images, folders of images, CSV files of samples");
  predict->add_option("--checkpoint", checkpoint, "A .safetensors checkpoint written by train")->required();
  predict->add_option("inputs", images, "Image files (PNG, JPEG, BMP, GIF, PNM, ...), directories of them (searched "
                      "recursively), or CSV files with one sample per row")->required();
  predict->add_option("--top", top, "How many classes to show per input")->check(CLI::Range(1, 100));
  predict->add_option("--device", device, "cpu, cuda, cuda:N or auto (default: the checkpoint's training.device)");
  predict->add_flag("--json", as_json, "Print one JSON document: predictions and the inputs that could not be read");

  auto* validate = app.add_subcommand("validate", "Check a config without training");
  validate->add_option("config", config_path, "JSON config")->required()->check(CLI::ExistingFile);
  validate->add_option("--set", sets, "Override a config value (repeatable)")->allow_extra_args(false)->take_all();

  std::int64_t top_k = 5, rank = 0;
  double energy = 0;
  bool no_eval = false;
  std::string output;
  auto* inspect = app.add_subcommand("inspect", "Per-layer weight statistics of a checkpoint: norms, rank, condition, singular values");
  inspect->add_option("checkpoint", checkpoint, "A .safetensors checkpoint written by train")->required();
  inspect->add_option("--top", top_k, "How many singular values to show (and the energy share they hold)")->check(CLI::Range(1, 1000));
  inspect->add_flag("--json", as_json, "Print one JSON document instead of a table");

  auto* compress = app.add_subcommand("compress", "Replace dense layers by truncated-SVD factorizations (two smaller layers)");
  compress->add_option("checkpoint", checkpoint, "A .safetensors checkpoint written by train")->required();
  auto* rank_opt = compress->add_option("--rank", rank, "Singular values kept per layer")->check(whole_at_least(1));
  auto* energy_opt = compress->add_option("--energy", energy, "Keep the fewest singular values holding this share of sum(S^2), e.g. 0.95")
                         ->check(share());
  rank_opt->excludes(energy_opt);
  compress->add_option("--output,-o", output, "Where to write the compressed checkpoint")->required();
  compress->add_flag("--no-eval", no_eval, "Skip measuring test accuracy before and after");
  compress->add_option("--device", device, "cpu, cuda, cuda:N or auto (for the evaluation)");

  auto* export_cmd = app.add_subcommand("export", "Write a checkpoint's model as an ONNX file (IR 8, opset 17) for ONNX Runtime "
                                        "and other runtimes, the input preprocessing included");
  export_cmd->add_option("checkpoint", checkpoint, "A .safetensors checkpoint written by train or compress")->required();
  export_cmd->add_option("--output,-o", output, "Where to write the .onnx file")->required();

  auto* info = app.add_subcommand("info", "Print the version, the backends compiled in (CUDA, MPI), the devices and threads");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::vector<std::string> commands;
    for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
    const std::string first = argc > 1 ? argv[1] : "";
    if (!first.empty() && first[0] != '-' && std::find(commands.begin(), commands.end(), first) == commands.end()) {
      print_error(fmt::format("unknown command '{}'{}; commands: {}", first, nn::did_you_mean(first, commands),
                              fmt::join(commands, ", ")));
    } else {
      print_error(fmt::format("{} (see tinynn {}--help)", e.what(), first.empty() || first[0] == '-' ? "" : first + " "));
    }
    return kUsage;
  }
  try {
    if (info->parsed()) return run_info();
    if (validate->parsed()) return run_validate(config_path, sets);
    if (train->parsed()) {
      train_options.device = device;
      if (threads > 0) train_options.threads = threads;
      train_options.stop = &g_stop;
      return run_train(config_path, sets, train_options);
    }
    if (eval->parsed()) return run_eval(config_path, checkpoint, sets, device, outputs_csv);
    if (export_cmd->parsed()) return run_export(checkpoint, output);
    if (predict->parsed()) return run_predict(checkpoint, images, top, as_json, device);
    if (inspect->parsed()) return run_inspect(checkpoint, top_k, as_json);
    if (compress->parsed()) {
      if (rank == 0 && energy == 0) throw nn::ConfigError("compress: give --rank K or --energy SHARE");
      return run_compress(checkpoint, {rank, energy}, output, !no_eval, device);
    }
  } catch (const tinynn::OutOfMemoryError& e) {
    // A layer too large to build is a config error (build_model); this is a step's activations or
    // a kernel's scratch (std::bad_alloc: a host buffer outside tinynn's allocator).
    return fail(fmt::format("{}; a smaller training.batch_size (or model) needs less", e.what()), kOutOfMemory);
  } catch (const std::bad_alloc&) {
    return fail("out of memory; a smaller training.batch_size (or model) needs less", kOutOfMemory);
  } catch (const std::exception& e) {
    return fail(e.what(), exit_code_for(e));
  }
  return kOk;
}
