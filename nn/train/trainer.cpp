// The training loop. Step order (one place): forward -> data loss -> + penalties -> backward ->
// clipping -> optimizer step; the scheduler steps once per epoch.
#include "trainer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "../../autograd/autograd.h"
#include "../../core/creation.h"
#include "../../core/ops.h"
#include "../../core/parallel.h"
#include "../../core/reduce.h"
#include "../../core/shape_ops.h"
#include "checkpoint.h"
#include "../regularization.h"
#include "../train_step.h"
#include "atomic_file.h"
#include "spectral.h"

namespace tinynn::nn {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json record_json(const EpochRecord& r) {
  json j = {{"epoch", r.epoch},          {"train_loss", finite_or_null(r.train_loss)},
          {"train_accuracy", finite_or_null(r.train_accuracy)}, {"penalty", r.penalty},
          {"val_loss", finite_or_null(r.val_loss)},   {"val_accuracy", finite_or_null(r.val_accuracy)},
          {"lr", r.lr},                {"grad_norm", finite_or_null(r.grad_norm)},
          {"seconds", r.seconds},      {"samples_per_second", r.samples_per_second},
          {"skipped_steps", r.skipped_steps}};
  for (const auto& s : r.spectra)
    j["spectra"][s.name] = {{"spectral", s.spectral}, {"condition", finite_or_null(s.condition)}};
  return j;
}

EpochRecord record_from_json(const json& j) {
  auto num = [&j](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : NAN; };
  auto integer = [&j](const char* k) { return j.contains(k) && j[k].is_number_integer() ? j[k].get<std::int64_t>() : 0; };
  EpochRecord r;
  r.epoch = integer("epoch");
  r.train_loss = num("train_loss"), r.train_accuracy = num("train_accuracy"), r.penalty = num("penalty");
  r.val_loss = num("val_loss"), r.val_accuracy = num("val_accuracy"), r.lr = num("lr"), r.grad_norm = num("grad_norm");
  r.seconds = num("seconds"), r.samples_per_second = num("samples_per_second");
  r.skipped_steps = integer("skipped_steps");
  if (j.contains("spectra") && j["spectra"].is_object())
    for (const auto& [name, s] : j["spectra"].items()) {
      const json& c = s.value("condition", json());
      r.spectra.push_back({name, s.value("spectral", NAN), c.is_number() ? c.get<double>() : INFINITY});
    }
  return r;
}

// Writes metrics.jsonl, metrics.csv and curves.svg for the whole history (each atomically).
void write_metrics(const fs::path& dir, const std::vector<EpochRecord>& history, bool plot, const std::string& title) {
  std::string jsonl, csv = "epoch,train_loss,train_accuracy,penalty,val_loss,val_accuracy,lr,grad_norm,seconds,samples_per_second,skipped_steps\n";
  for (const auto& r : history) {
    jsonl += record_json(r).dump() + "\n";
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", r.epoch, r.train_loss, r.train_accuracy, r.penalty, r.val_loss,
                       r.val_accuracy, r.lr, r.grad_norm, r.seconds, r.samples_per_second, r.skipped_steps);
  }
  write_file_atomically((dir / "metrics.jsonl").string(), jsonl);
  write_file_atomically((dir / "metrics.csv").string(), csv);
  if (plot) write_curves_svg(history, (dir / "curves.svg").string(), title);
}

// A progress bar on a terminal ("bar"), or nothing per batch ("lines"/"none").
class Progress {
 public:
  Progress(std::ostream& out, const std::string& mode, std::int64_t epochs) : out_(out), epochs_(epochs) {
    mode_ = mode == "auto" ? (::isatty(STDERR_FILENO) ? "bar" : "lines") : mode;
  }
  void batch(std::int64_t epoch, std::int64_t done, std::int64_t total, double loss, double acc, double rate) {
    if (mode_ != "bar") return;
    const auto now = Clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 24, filled = static_cast<int>(width * done / std::max<std::int64_t>(total, 1));
    const double eta = rate > 0 ? static_cast<double>(total - done) * (seconds_per_batch_ = seconds_per_batch_ * 0.9 + 0.1 / rate) : 0;
    out_ << fmt::format("\repoch {}/{} [{}{}] {}/{} loss {:.4f}{} {:.0f} samples/s ETA {:.0f}s   ", epoch, epochs_,
                        std::string(static_cast<std::size_t>(filled), '='), std::string(static_cast<std::size_t>(width - filled), ' '),
                        done, total, loss, std::isfinite(acc) ? fmt::format(" acc {:.2f}%", 100 * acc) : "", rate * batch_size_, eta)
         << std::flush;
  }
  void set_batch_size(std::int64_t b) { batch_size_ = static_cast<double>(b); }
  void epoch_end(const EpochRecord& r) {
    if (mode_ == "none") return;
    if (mode_ == "bar") out_ << "\r" << std::string(100, ' ') << "\r";
    std::string line = fmt::format("epoch {}/{}: train loss {:.4f}", r.epoch, epochs_, r.train_loss);
    if (std::isfinite(r.train_accuracy)) line += fmt::format(" acc {:.2f}%", 100 * r.train_accuracy);
    if (r.penalty != 0) line += fmt::format(" (penalty {:.4g})", r.penalty);
    if (std::isfinite(r.val_loss)) line += fmt::format(" | val loss {:.4f}", r.val_loss);
    if (std::isfinite(r.val_accuracy)) line += fmt::format(" acc {:.2f}%", 100 * r.val_accuracy);
    line += fmt::format(" | lr {:.3g} grad norm {:.3g} | {:.1f}s, {:.0f} samples/s", r.lr, r.grad_norm, r.seconds,
                        r.samples_per_second);
    if (r.skipped_steps > 0) line += fmt::format(" | {} non-finite steps skipped", r.skipped_steps);
    if (!r.spectra.empty()) {
      line += "\n  spectral norm (condition):";
      for (const auto& s : r.spectra) line += fmt::format(" {} {:.3g} ({:.3g})", s.name, s.spectral, s.condition);
    }
    out_ << line << std::endl;
  }

 private:
  std::ostream& out_;
  std::string mode_;
  std::int64_t epochs_;
  double batch_size_ = 1, seconds_per_batch_ = 0;
  Clock::time_point last_{};
};

}  // namespace

EvalResult evaluate(Module& model, DataLoader& loader, const LossFn& loss_fn, Device device, bool classification) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  EvalResult r;
  // Sums stay on the device and are read once at the end: no wait for the GPU per batch.
  Tensor loss_sum = scalar_tensor(0.0, DType::Float64, device), correct = scalar_tensor(0.0, DType::Float64, device);
  loader.start_epoch(0);
  Batch b;
  while (loader.next(b)) {
    const Tensor x = b.inputs.to(device), y = b.targets.to(device);
    const Tensor out = model(x);
    loss_sum = loss_sum + loss_fn(out, y).to(DType::Float64) * static_cast<double>(x.shape()[0]);
    if (classification) correct = correct + sum(argmax(out, 1) == y).to(DType::Float64);
    r.samples += x.shape()[0];
  }
  const std::vector<double> sums = stack({loss_sum, correct}).to_vector<double>();
  model.train(was_training);
  r.loss = sums[0] / static_cast<double>(std::max<std::int64_t>(r.samples, 1));
  if (classification) r.accuracy = sums[1] / static_cast<double>(std::max<std::int64_t>(r.samples, 1));
  return r;
}

TrainResult train(Config& config, const TrainOptions& options) {
  std::ostream& log = options.log != nullptr ? *options.log : std::cerr;
  const TrainingSpec& t = config.training;
  const Device device = resolve_device(options.device.value_or(t.device), options.device ? "--device" : "training.device");
  set_num_threads(options.threads.value_or(static_cast<int>(t.threads)));
  TrainResult result;
  result.run_dir = options.run_dir.empty() ? config.output.run_dir : options.run_dir;
  const fs::path dir(result.run_dir);
  const fs::path checkpoint_dir = t.checkpoint_dir.empty() ? dir : fs::path(t.checkpoint_dir);
  const fs::path last_path = checkpoint_dir / "last.safetensors", best_path = checkpoint_dir / "best.safetensors";
  const bool resume = options.resume || t.resume;
  if (resume && !fs::exists(last_path))
    throw CheckpointError(fmt::format("tinynn: --resume: no checkpoint at '{}'", last_path.string()));

  DataSplits data = load_data(config);
  const bool classification = data.train.is_classification();
  const std::int64_t outputs = classification ? data.train.num_classes : data.train.targets.shape()[1];
  Generator gen(t.seed);
  auto model = build_model(config, data.train.sample_shape(), outputs, &gen);
  model->to(device);
  const LossFn loss_fn = make_loss(config, data.train);
  auto optimizer = make_optimizer(config, *model);
  auto scheduler = make_scheduler(config, *optimizer);
  StepOptions step_options;
  step_options.clip_max_norm = config.clip.max_norm;
  step_options.clip_norm_type = config.clip.norm_type;
  step_options.clip_value = config.clip.value;
  step_options.count_correct = classification;
  TrainStep train_step(*model, *optimizer, loss_fn, step_options, config.regularization);

  // On a GPU the data sets move there once (Fashion-MNIST is 190 MB of float32): a batch is then
  // a gather on the device instead of a host-to-device copy per step.
  if (device.is_cuda())
    for (Dataset* d : {&data.train, &data.validation, &data.test})
      if (d->size() > 0) {
        d->inputs = d->inputs.to(device);
        d->targets = d->targets.to(device);
      }
  DataLoader train_loader(data.train, t.batch_size, t.shuffle, t.drop_last, t.seed);
  std::unique_ptr<DataLoader> val_loader;
  if (data.validation.size() > 0) val_loader = std::make_unique<DataLoader>(data.validation, t.batch_size, false, false, 0);
  DataLoader test_loader(data.test, t.batch_size, false, false, 0);

  for (const fs::path& d : {dir, checkpoint_dir}) {
    std::error_code ec;
    fs::create_directories(d, ec);
    if (ec || !fs::is_directory(d))
      throw CheckpointError(fmt::format("tinynn: cannot create the directory '{}': {}", d.string(), ec.message()));
  }
  write_file_atomically((dir / "config.json").string(), config.resolved.dump(2) + "\n");

  // Resumable state: where to start, early stopping, and the history so far.
  std::int64_t start_epoch = 0, skip_batches = 0, bad_epochs = 0, best_epoch = 0;
  const bool maximize = t.early_stopping_metric == "val_accuracy";
  double best_metric = maximize ? -INFINITY : INFINITY;
  auto progress_state = [&](std::int64_t epoch, std::int64_t step) {
    TrainingProgress p;
    p.epoch = epoch, p.step = step, p.config_json = config.resolved.dump();
    p.rng_seed = gen.seed(), p.rng_offset = gen.offset();
    p.sample_shape = data.train.sample_shape();
    p.extra = {{"best_metric", best_metric}, {"best_epoch", static_cast<double>(best_epoch)},
               {"bad_epochs", static_cast<double>(bad_epochs)}};
    return p;
  };
  if (resume) {
    const TrainingProgress p = load_checkpoint(last_path.string(), *model, optimizer.get(), scheduler.get());
    start_epoch = p.epoch;
    skip_batches = p.step;
    gen.set_state(p.rng_seed, p.rng_offset);
    best_metric = p.extra.count("best_metric") ? p.extra.at("best_metric") : best_metric;
    best_epoch = p.extra.count("best_epoch") ? static_cast<std::int64_t>(p.extra.at("best_epoch")) : 0;
    bad_epochs = p.extra.count("bad_epochs") ? static_cast<std::int64_t>(p.extra.at("bad_epochs")) : 0;
    std::ifstream metrics(dir / "metrics.jsonl");
    std::size_t line_number = 0;
    for (std::string line; std::getline(metrics, line);) {
      ++line_number;
      if (line.empty()) continue;
      const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object())
        throw CheckpointError(fmt::format("tinynn: --resume: '{}' line {} is not a JSON object",
                                          (dir / "metrics.jsonl").string(), line_number));
      EpochRecord r = record_from_json(j);
      if (r.epoch <= start_epoch) result.history.push_back(r);
    }
    log << fmt::format("resuming '{}' at epoch {}, batch {}\n", dir.string(), start_epoch + 1, skip_batches);
  }

  Progress progress(log, config.output.progress, t.epochs);
  progress.set_batch_size(t.batch_size);
  std::int64_t samples_trained = 0;
  for (std::int64_t epoch = start_epoch; epoch < t.epochs; ++epoch) {
    model->train();
    train_loader.start_epoch(epoch, epoch == start_epoch ? skip_batches : 0);
    EpochRecord rec;
    rec.epoch = epoch + 1;
    rec.lr = optimizer->lr();
    double loss_sum = 0, penalty_sum = 0, correct = 0, norm_sum = 0;
    std::int64_t seen = 0, steps = 0;
    const auto epoch_start = Clock::now();
    Batch b;
    while (train_loader.next(b)) {
      const Tensor x = b.inputs.to(device), y = b.targets.to(device);
      const StepResult r = train_step(x, y);
      if (!r.stepped) {
        const std::string what = std::isfinite(r.loss) ? fmt::format("gradient norm is {}", r.grad_norm)
                                                       : fmt::format("loss is {}", r.loss);
        if (t.on_nonfinite == "stop")
          throw DivergenceError(fmt::format("tinynn: training diverged at epoch {}, step {}: the {}; {}", epoch + 1, b.index + 1,
                                            what, fs::exists(last_path) ? "the last good checkpoint is '" + last_path.string() + "'"
                                                                        : "no checkpoint was written yet"));
        ++rec.skipped_steps;
      } else {
        const auto n = static_cast<double>(x.shape()[0]);
        loss_sum += r.loss * n;
        penalty_sum += r.penalty * n;
        correct += r.correct;
        norm_sum += r.grad_norm;
        seen += x.shape()[0];
        ++steps;
      }
      samples_trained += x.shape()[0];
      const double elapsed = seconds_since(epoch_start);
      progress.batch(epoch + 1, b.index + 1, train_loader.batches_per_epoch(), loss_sum / std::max<double>(seen, 1),
                     classification ? correct / std::max<double>(seen, 1) : NAN, elapsed > 0 ? (steps + 1) / elapsed : 0);
      if (options.stop != nullptr && options.stop->load()) {
        result.seconds += seconds_since(epoch_start);
        if (config.output.checkpoints)
          save_checkpoint(last_path.string(), *model, optimizer.get(), scheduler.get(), progress_state(epoch, b.index + 1));
        log << fmt::format("\ninterrupted at epoch {}, batch {}; checkpoint '{}' (continue with --resume)\n", epoch + 1,
                           b.index + 1, last_path.string());
        result.interrupted = true;
        result.epochs = epoch;
        return result;
      }
    }
    rec.seconds = seconds_since(epoch_start);
    result.seconds += rec.seconds;
    rec.samples_per_second = static_cast<double>(seen) / std::max(rec.seconds, 1e-9);
    rec.train_loss = seen > 0 ? loss_sum / static_cast<double>(seen) : NAN;
    rec.train_accuracy = classification && seen > 0 ? correct / static_cast<double>(seen) : NAN;
    rec.penalty = seen > 0 ? penalty_sum / static_cast<double>(seen) : 0;
    rec.grad_norm = steps > 0 ? norm_sum / static_cast<double>(steps) : NAN;
    if (config.output.log_spectra)
      for (const auto& w : weight_spectra(*model, 1)) rec.spectra.push_back({w.name, w.spectral, w.condition});
    const bool evaluate_now = val_loader && ((epoch + 1) % t.eval_interval == 0 || epoch + 1 == t.epochs);
    if (evaluate_now) {
      const EvalResult v = evaluate(*model, *val_loader, loss_fn, device, classification);
      rec.val_loss = v.loss, rec.val_accuracy = v.accuracy;
    }
    // The monitored metric: validation when there is one, else the training loss.
    const double metric = maximize ? rec.val_accuracy : (std::isfinite(rec.val_loss) ? rec.val_loss : rec.train_loss);
    if (scheduler) scheduler->step(std::isfinite(metric) ? std::optional<double>(metric) : std::nullopt);
    bool improved = false;
    if (std::isfinite(metric) && (maximize ? metric > best_metric : metric < best_metric)) {
      best_metric = metric, best_epoch = epoch + 1, bad_epochs = 0, improved = true;
    } else if (evaluate_now || !val_loader) {
      ++bad_epochs;
    }
    result.history.push_back(rec);
    progress.epoch_end(rec);
    write_metrics(dir, result.history, config.output.plot, config.name);
    if (config.output.checkpoints) {
      save_checkpoint(last_path.string(), *model, optimizer.get(), scheduler.get(), progress_state(epoch + 1, 0));
      if (improved) copy_file_atomically(last_path.string(), best_path.string());
    }
    result.epochs = epoch + 1;
    if (t.early_stopping_patience > 0 && bad_epochs >= t.early_stopping_patience) {
      log << fmt::format("early stopping: no improvement of {} for {} epochs (best at epoch {})\n", t.early_stopping_metric,
                         bad_epochs, best_epoch);
      result.stopped_early = true;
      break;
    }
  }
  const EvalResult test = evaluate(*model, test_loader, loss_fn, device, classification);
  result.test_loss = test.loss;
  result.test_accuracy = test.accuracy;
  result.samples_per_second = static_cast<double>(samples_trained) / std::max(result.seconds, 1e-9);
  return result;
}

}  // namespace tinynn::nn
