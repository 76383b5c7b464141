// The training loop. Step order (one place): forward -> data loss -> + penalties -> backward ->
// clipping -> optimizer step; the scheduler steps once per epoch.
#include "trainer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>
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
#include "detail/config_document.h"
#include "dist.h"
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
void write_metrics(const fs::path& dir, const std::vector<EpochRecord>& history, bool plot, const std::string& title,
                   std::int64_t best_epoch) {
  std::string jsonl, csv = "epoch,train_loss,train_accuracy,penalty,val_loss,val_accuracy,lr,grad_norm,seconds,samples_per_second,skipped_steps\n";
  for (const auto& r : history) {
    jsonl += record_json(r).dump() + "\n";
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", r.epoch, r.train_loss, r.train_accuracy, r.penalty, r.val_loss,
                       r.val_accuracy, r.lr, r.grad_norm, r.seconds, r.samples_per_second, r.skipped_steps);
  }
  write_file_atomically((dir / "metrics.jsonl").string(), jsonl);
  write_file_atomically((dir / "metrics.csv").string(), csv);
  if (plot) write_curves_svg(history, (dir / "curves.svg").string(), title, best_epoch);
}

// A progress bar on a terminal ("bar"), or nothing per batch ("lines"/"none").
class Progress {
 public:
  Progress(std::ostream& out, const std::string& mode, std::int64_t epochs) : out_(out), epochs_(epochs) {
    mode_ = mode == "auto" ? (::isatty(STDERR_FILENO) ? "bar" : "lines") : mode;
  }
  // One redraw of the bar line, never wider than the terminal: the bar shrinks first, then the
  // least useful fields go. Shows the epoch's and the whole run's elapsed time and ETA.
  void batch(std::int64_t epoch, std::int64_t done, std::int64_t total, double loss, double acc, double rate) {
    if (mode_ != "bar") return;
    const auto now = Clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    if (rate > 0) seconds_per_batch_ = seconds_per_batch_ > 0 ? seconds_per_batch_ * 0.9 + 0.1 / rate : 1.0 / rate;
    const double epoch_eta = static_cast<double>(total - done) * seconds_per_batch_;
    const double run_eta = epoch_eta + static_cast<double>((epochs_ - epoch) * total) * seconds_per_batch_;
    const std::string head = fmt::format("epoch {}/{} ", epoch, epochs_);
    std::vector<std::string> fields = {fmt::format(" {}/{}", done, total), fmt::format(" loss {:.4f}", loss)};
    if (std::isfinite(acc)) fields.push_back(fmt::format(" acc {:.2f}%", 100 * acc));
    fields.push_back(fmt::format(" {}<{}", clock_text(seconds_since(epoch_start(epoch, now))), clock_text(epoch_eta)));
    fields.push_back(fmt::format(" | run {}<{}", clock_text(seconds_since(start_)), clock_text(run_eta)));
    fields.push_back(fmt::format(" {:.0f} samples/s", rate * batch_size_));
    const std::size_t columns = terminal_columns();
    auto text_of = [&](int bar) {
      std::string line = head;
      if (bar > 0) {
        const auto filled = static_cast<std::size_t>(bar * done / std::max<std::int64_t>(total, 1));
        line += '[';
        line.append(filled, '=').append(static_cast<std::size_t>(bar) - filled, ' ');
        line += ']';
      }
      for (const std::string& f : fields) line += f;
      return line;
    };
    // The widest bar (up to 24) that fits; with no room for a bar of 8, drop fields from the end.
    std::string line = text_of(0);
    while (line.size() + 10 > columns && fields.size() > 2) fields.pop_back(), line = text_of(0);
    const int room = static_cast<int>(columns) - 1 - static_cast<int>(line.size()) - 2;
    line = text_of(std::clamp(room, 0, 24) >= 8 ? std::clamp(room, 0, 24) : 0);
    if (line.size() >= columns) line.resize(columns - 1);
    out_ << "\r" << line << std::string(columns - 1 - line.size(), ' ') << std::flush;
    drawn_ = true;
  }
  void set_batch_size(std::int64_t b) { batch_size_ = static_cast<double>(b); }
  void epoch_end(const EpochRecord& r) {
    if (mode_ == "none") return;
    if (mode_ == "bar" && drawn_) out_ << "\r" << std::string(terminal_columns() - 1, ' ') << "\r";
    drawn_ = false;
    std::string line = fmt::format("epoch {}/{}: train loss {:.4f}", r.epoch, epochs_, r.train_loss);
    if (std::isfinite(r.train_accuracy)) line += fmt::format(" acc {:.2f}%", 100 * r.train_accuracy);
    if (r.penalty != 0) line += fmt::format(" (penalty {:.4g})", r.penalty);
    if (std::isfinite(r.val_loss)) line += fmt::format(" | val loss {:.4f}", r.val_loss);
    if (std::isfinite(r.val_accuracy)) line += fmt::format(" acc {:.2f}%", 100 * r.val_accuracy);
    line += fmt::format(" | lr {:.3g} grad norm {:.3g} | {:.1f}s, {:.0f} samples/s", r.lr, r.grad_norm, r.seconds,
                        r.samples_per_second);
    if (r.skipped_steps > 0) line += fmt::format(" | {} non-finite steps skipped", r.skipped_steps);
    if (r.fewest_threads > 0 && r.fewest_threads < available_cores())
      line += fmt::format(" | down to {} of {} threads: other processes are using cores", r.fewest_threads, available_cores());
    if (!r.spectra.empty()) {
      line += "\n  spectral norm (condition):";
      for (const auto& s : r.spectra) line += fmt::format(" {} {:.3g} ({:.3g})", s.name, s.spectral, s.condition);
    }
    out_ << line << std::endl;
  }

 private:
  // The terminal's width (COLUMNS when stderr is not one), 80 when unknown.
  static std::size_t terminal_columns() {
    winsize w{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col >= 20) return w.ws_col;
    const char* env = std::getenv("COLUMNS");
    const long c = env != nullptr ? std::strtol(env, nullptr, 10) : 0;
    return c >= 20 ? static_cast<std::size_t>(c) : 80;
  }
  static std::string clock_text(double seconds) {
    const auto s = static_cast<std::int64_t>(std::max(seconds, 0.0) + 0.5);
    return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
  }
  // When the epoch being drawn began (its first redraw).
  Clock::time_point epoch_start(std::int64_t epoch, Clock::time_point now) {
    if (epoch != epoch_) epoch_ = epoch, epoch_start_ = now;
    return epoch_start_;
  }

  std::ostream& out_;
  std::string mode_;
  std::int64_t epochs_;
  double batch_size_ = 1, seconds_per_batch_ = 0;
  Clock::time_point last_{}, start_ = Clock::now(), epoch_start_{};
  std::int64_t epoch_ = -1;
  bool drawn_ = false;
};

}  // namespace

EvalResult evaluate(Module& model, DataLoader& loader, const LossFn& loss_fn, Device device, bool classification,
                    StepReducer* reducer) {
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
    r.samples += x.shape()[0];
    if (x.shape()[0] == 0) continue;  // a part of a small last batch may be empty
    const Tensor out = model(x);
    loss_sum = loss_sum + loss_fn(out, y).to(DType::Float64) * static_cast<double>(x.shape()[0]);
    if (classification) correct = correct + sum(argmax(out, 1) == y).to(DType::Float64);
  }
  std::vector<double> sums = stack({loss_sum, correct}).to_vector<double>();
  if (reducer) {
    sums.push_back(static_cast<double>(r.samples));
    reducer->sum(sums);
    r.samples = static_cast<std::int64_t>(sums[2]);
  }
  model.train(was_training);
  r.loss = sums[0] / static_cast<double>(std::max<std::int64_t>(r.samples, 1));
  if (classification) r.accuracy = sums[1] / static_cast<double>(std::max<std::int64_t>(r.samples, 1));
  return r;
}

namespace {

// An epoch's running sums: its metrics are these over the samples (or steps) that stepped.
// Saved in an interrupted run's checkpoint ("epoch.*" extras) so the resumed epoch's line and
// metrics are the whole epoch's, not only those of the batches after the interrupt.
struct EpochSums {
  double loss = 0, penalty = 0, correct = 0, grad_norm = 0, seconds = 0;
  std::int64_t samples = 0, steps = 0, skipped = 0;

  void save(std::map<std::string, double>& extra) const {
    extra["epoch.loss_sum"] = loss, extra["epoch.penalty_sum"] = penalty, extra["epoch.correct"] = correct;
    extra["epoch.grad_norm_sum"] = grad_norm, extra["epoch.seconds"] = seconds;
    extra["epoch.samples"] = static_cast<double>(samples), extra["epoch.steps"] = static_cast<double>(steps);
    extra["epoch.skipped_steps"] = static_cast<double>(skipped);
  }
  // Missing keys (a checkpoint from before they were saved) count as zero.
  static EpochSums load(const std::map<std::string, double>& extra) {
    auto get = [&extra](const char* key) { return extra.count(key) ? extra.at(key) : 0.0; };
    EpochSums s;
    s.loss = get("epoch.loss_sum"), s.penalty = get("epoch.penalty_sum"), s.correct = get("epoch.correct");
    s.grad_norm = get("epoch.grad_norm_sum"), s.seconds = get("epoch.seconds");
    s.samples = static_cast<std::int64_t>(get("epoch.samples")), s.steps = static_cast<std::int64_t>(get("epoch.steps"));
    s.skipped = static_cast<std::int64_t>(get("epoch.skipped_steps"));
    return s;
  }
};

// The paths ("optimizer.lr", "model.layers[2].units") whose values differ between two configs.
void changed_keys(const json& a, const json& b, const std::string& path, std::vector<std::string>& out) {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k);
    for (const auto& [k, v] : b.items()) keys.insert(k);
    for (const std::string& k : keys)
      changed_keys(a.value(k, json()), b.value(k, json()), path.empty() ? k : path + "." + k, out);
  } else if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (std::size_t i = 0; i < a.size(); ++i) changed_keys(a[i], b[i], fmt::format("{}[{}]", path, i), out);
  } else if (a != b) {
    out.push_back(path);
  }
}

// An exclusive flock on RUN_DIR/.lock, held while a run trains there. The kernel drops it when
// the process ends, however it ends, so a killed run leaves no stale lock.
class RunLock {
 public:
  RunLock() = default;
  explicit RunLock(const fs::path& dir) {
    const std::string path = (dir / ".lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw CheckpointError(fmt::format("tinynn: cannot create '{}': {}", path, std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw CheckpointError(fmt::format("tinynn: the run directory '{}' is in use by another training (it holds '{}'); "
                                        "wait for it to finish or choose another --run-dir", dir.string(), path));
    }
  }
  RunLock(RunLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  RunLock& operator=(RunLock&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~RunLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

// One run of train(): set up from the config (constructor), resumed from its last checkpoint
// (resume), then epoch after epoch (run_epoch). It stays in place: the model's layers keep
// pointers to its generator.
class Run {
 public:
  Run(Config& config, const TrainOptions& options)
      : config_(config), t_(config.training),
        log_(!main_ ? null_log_ : options.log != nullptr ? *options.log : std::cerr),
        stop_(options.stop),
        device_(rank_device(resolve_device(options.device.value_or(t_.device), options.device ? "--device" : "training.device"),
                            options.device.value_or(t_.device))),
        dir_(options.run_dir.empty() ? config.output.run_dir : options.run_dir),
        checkpoint_dir_(t_.checkpoint_dir.empty() ? dir_ : fs::path(t_.checkpoint_dir)),
        last_path_(checkpoint_dir_ / "last.safetensors"), best_path_(checkpoint_dir_ / "best.safetensors"),
        gen_(t_.seed), maximize_(t_.early_stopping_metric == "val_accuracy"),
        best_metric_(maximize_ ? -INFINITY : INFINITY) {
    // Ranks of a job share their machines' cores: by default each takes its part of them.
    const int threads = options.threads.value_or(static_cast<int>(t_.threads));
    set_num_threads(threads <= 0 && world_ > 1 ? dist::default_threads() : threads);
    auto_threads_ = threads <= 0 && world_ == 1;
    if (world_ > 1 && t_.batch_size < world_)
      throw ConfigError(fmt::format("config: training.batch_size: the global batch of {} cannot be split across {} ranks "
                                    "(each needs a sample); use at least {}, or fewer ranks", t_.batch_size, world_, world_));
    if (world_ > 1 && config.loss.values.all().count("class_weights") &&
        !config.loss.values.list<double>("class_weights").empty())
      // A weighted mean divides by the batch's weight sum, not its rows: each rank's share would be
      // its part of that sum, a collective before every backward. Not built yet.
      throw ConfigError("config: loss.class_weights: not supported in data-parallel training yet (train on one process)");
    result_.run_dir = dir_.string();
    resume_ = options.resume || t_.resume;
    if (resume_ && !fs::exists(last_path_))
      throw CheckpointError(fmt::format("tinynn: --resume: no checkpoint at '{}'", last_path_.string()));
    if (main_) prepare_run_directory(options);

    data_ = load_data(config);
    classification_ = data_.train.is_classification();
    const std::int64_t outputs = classification_ ? data_.train.num_classes : data_.train.targets.shape()[1];
    std::vector<std::size_t> layer_ends;
    model_ = build_model(config, data_.train.sample_shape(), outputs, &gen_, &layer_ends, /*trained=*/resume_);
    if (!resume_) check_training_config(config, data_.train.sample_shape());
    check_batch_norm_batches(config, *model_, data_.train.sample_shape(), layer_ends, data_.train.size(), world_);
    model_->to(device_);
    loss_fn_ = make_loss(config, data_.train);
    optimizer_ = make_optimizer(config, *model_);
    scheduler_ = make_scheduler(config, *optimizer_);
    StepOptions step_options;
    step_options.clip_max_norm = config.clip.max_norm;
    step_options.clip_norm_type = config.clip.norm_type;
    step_options.clip_value = config.clip.value;
    step_options.count_correct = classification_;
    if (world_ > 1) {
      // Data-parallel: every rank starts from rank 0's weights, and its steps' gradients and
      // statistics are summed with the others'.
      dist::broadcast_parameters(*model_);
      step_options.reducer = &reducer_;
    }
    step_ = std::make_unique<TrainStep>(*model_, *optimizer_, loss_fn_, step_options, config.regularization);

    // On a GPU the data sets move there once (Fashion-MNIST is 190 MB of float32): a batch is then
    // a gather on the device instead of a host-to-device copy per step.
    // (Augmented batches are made on the CPU, by the loader's thread: the training set stays there.)
    const bool augment = config.data.crop_padding > 0 || config.data.horizontal_flip;
    if (device_.is_cuda())
      for (Dataset* d : {&data_.train, &data_.validation, &data_.test})
        if (d->size() > 0 && (d != &data_.train || !augment)) {
          d->inputs = d->inputs.to(device_);
          d->targets = d->targets.to(device_);
        }
    train_loader_ = std::make_unique<DataLoader>(data_.train, t_.batch_size, t_.shuffle, t_.drop_last, t_.seed);
    if (augment) {
      // Padding is a black pixel: a raw 0 after the data's scale and normalization.
      const double fill = config.data.normalize ? (0.0 - config.data.mean.value_or(0.0)) / config.data.std.value_or(1.0) : 0.0;
      train_loader_->set_augmentation({config.data.crop_padding, config.data.horizontal_flip, fill});
    }
    if (data_.validation.size() > 0)
      val_loader_ = std::make_unique<DataLoader>(data_.validation, t_.batch_size, false, false, 0);
    test_loader_ = std::make_unique<DataLoader>(data_.test, t_.batch_size, false, false, 0);
    if (world_ > 1)
      for (DataLoader* l : {train_loader_.get(), val_loader_.get(), test_loader_.get()})
        if (l) l->set_shard(rank_, world_);

    if (resume_) resume();  // every rank reads the same checkpoint: the same weights, optimizer and generator state
    // Every rank set up (one that failed ends the job before this barrier lets rank 0 go on).
    if (world_ > 1) dist::barrier();
    if (main_ && !resume_) clear_replaced_run();
    if (main_) write_file_atomically((dir_ / "config.json").string(), config.resolved.dump(2) + "\n");
    if (config.output.progress != "none") {
      log_ << model_summary(config, *model_, data_.train.sample_shape(), layer_ends);
      log_ << fmt::format("data: {} train, {} validation, {} test samples of shape {}{}; device {}, {} threads\n",
                          data_.train.size(), data_.validation.size(), data_.test.size(),
                          shape_str(data_.train.sample_shape()),
                          classification_ ? fmt::format(", {} classes", outputs) : std::string(), device_.str(), num_threads());
      if (device_.is_cpu() && num_threads() > available_cores())
        log_ << fmt::format("note: {} threads on {} cores: the threads beyond the cores wait for them, which is usually "
                            "slower than one thread a core\n", num_threads(), available_cores());
      const SchedulerType* schedule = find_scheduler_type(config.scheduler.type);
      if (schedule != nullptr && schedule->closed_form && config.scheduler.values.integer("warmup_epochs") >= t_.epochs &&
          config.scheduler.values.number("warmup_start_factor") < 1)
        log_ << fmt::format("note: scheduler.warmup_epochs ({}) covers the whole run of {} epoch{}: the learning rate stays "
                            "below optimizer.lr throughout\n", config.scheduler.values.integer("warmup_epochs"), t_.epochs,
                            t_.epochs == 1 ? "" : "s");
      if (world_ > 1)
        log_ << fmt::format("data-parallel: {} ranks ({}), {} threads each; global batch {} ({} to {} samples per rank)\n",
                            world_, dist::description(), num_threads(), t_.batch_size, t_.batch_size / world_,
                            (t_.batch_size + world_ - 1) / world_);
    }
    if (resume_ && start_epoch_ >= t_.epochs)
      log_ << fmt::format("the run in '{}' has finished its {} epochs: nothing to train (extend it with --set "
                          "training.epochs=N)\n", dir_.string(), t_.epochs);
  }

  // Trains the remaining epochs, then evaluates on the test set (unless interrupted).
  TrainResult finish() {
    Progress progress(log_, config_.output.progress, t_.epochs);
    progress.set_batch_size(t_.batch_size);
    for (std::int64_t epoch = start_epoch_; epoch < t_.epochs; ++epoch) {
      if (!run_epoch(epoch, progress)) return result_;
      result_.epochs = epoch + 1;
      if (t_.early_stopping_patience > 0 && bad_epochs_ >= t_.early_stopping_patience) {
        log_ << fmt::format("early stopping: no improvement of {} for {} epochs (best at epoch {})\n",
                            t_.early_stopping_metric, bad_epochs_, best_epoch_);
        result_.stopped_early = true;
        break;
      }
    }
    // Lightning's ckpt_path="best" / Keras' restore_best_weights: the best epoch's weights are
    // tested (from memory, or from best.safetensors after a resume).
    result_.tested_epoch = result_.epochs;
    if (t_.restore_best && best_epoch_ > 0 && best_epoch_ != result_.epochs) {
      if (!best_state_.empty()) {
        model_->load_state_dict(best_state_);
        result_.tested_epoch = best_epoch_;
      } else if (fs::exists(best_path_)) {
        load_checkpoint(best_path_.string(), *model_);
        result_.tested_epoch = best_epoch_;
      }
      if (result_.tested_epoch == best_epoch_)
        log_ << fmt::format("testing the weights of epoch {}, the best by {}\n", best_epoch_, t_.early_stopping_metric);
    }
    const EvalResult test = evaluate(*model_, *test_loader_, loss_fn_, device_, classification_, world_ > 1 ? &reducer_ : nullptr);
    result_.test_loss = test.loss;
    result_.test_accuracy = test.accuracy;
    result_.samples_per_second = static_cast<double>(samples_trained_) / std::max(result_.seconds, 1e-9);
    return result_;
  }

 private:
  // Only rank 0 touches the run directory: creates it, locks it, refuses to replace a previous run
  // unless asked (clear_replaced_run then removes it, once this run is set up).
  void prepare_run_directory(const TrainOptions& options) {
    for (const fs::path& d : {dir_, checkpoint_dir_}) {
      std::error_code ec;
      fs::create_directories(d, ec);
      if (ec || !fs::is_directory(d))
        throw CheckpointError(fmt::format("tinynn: cannot create the directory '{}': {}", d.string(), ec.message()));
    }
    lock_ = RunLock(dir_);
    // A finished or interrupted run is never replaced unless asked.
    if (!resume_ && !options.overwrite && fs::exists(last_path_))
      throw CheckpointError(fmt::format("tinynn: the run directory '{}' holds a previous run ('{}'); continue it with "
                                        "--resume, replace it with --overwrite, or choose another --run-dir",
                                        dir_.string(), last_path_.string()));
  }

  // Nothing of a replaced run may be taken for this one's (metrics, "last good checkpoint"); removed
  // only once this run has its data, model and loaders, so a config that fails before training
  // starts leaves the replaced run as it was.
  void clear_replaced_run() {
    std::error_code ec;
    for (const fs::path& f : {dir_ / "metrics.jsonl", dir_ / "metrics.csv", dir_ / "curves.svg", last_path_, best_path_})
      fs::remove(f, ec);
  }

  // The checkpoint's progress record: where the run stands, its generator and early-stopping state.
  // Mid-epoch (an interrupt), it also keeps the epoch's sums so far.
  TrainingProgress progress_at(std::int64_t epoch, std::int64_t step, const EpochSums* sums = nullptr) const {
    TrainingProgress p;
    p.epoch = epoch, p.step = step, p.config_json = config_.resolved.dump();
    p.rng_seed = gen_.seed(), p.rng_offset = gen_.offset();
    p.sample_shape = data_.train.sample_shape();
    p.extra = {{"best_metric", best_metric_}, {"best_epoch", static_cast<double>(best_epoch_)},
               {"bad_epochs", static_cast<double>(bad_epochs_)}};
    if (sums != nullptr) sums->save(p.extra);
    return p;
  }

  // Weights, optimizer, scheduler, generator and early-stopping state from last.safetensors;
  // the history of the epochs before it from metrics.jsonl.
  void resume() {
    // A resumed run goes on with the config it started with: only keys that cannot change its
    // results so far may differ (more epochs, threads, device, output options). Anything else
    // would be half applied (the optimizer's state comes from the checkpoint), so it is refused.
    const json saved = json::parse(read_progress(last_path_.string()).config_json, nullptr, false);
    std::vector<std::string> changed;
    changed_keys(saved, config_.resolved.impl().json, "", changed);
    std::erase_if(changed, [](const std::string& key) {
      for (const char* safe : {"training.epochs", "training.threads", "training.device", "training.resume", "output."})
        if (key.rfind(safe, 0) == 0) return true;
      return false;
    });
    if (!changed.empty())
      throw ConfigError(fmt::format("config: --resume: the config differs from the one '{}' was trained with in: {}; "
                                    "only training.epochs, training.threads, training.device and output.* may change "
                                    "(start a new run for the others)", last_path_.string(), fmt::join(changed, ", ")));
    const TrainingProgress p = load_checkpoint(last_path_.string(), *model_, optimizer_.get(), scheduler_.get());
    start_epoch_ = p.epoch;
    skip_batches_ = p.step;
    gen_.set_state(p.rng_seed, p.rng_offset);
    best_metric_ = p.extra.count("best_metric") ? p.extra.at("best_metric") : best_metric_;
    best_epoch_ = p.extra.count("best_epoch") ? static_cast<std::int64_t>(p.extra.at("best_epoch")) : 0;
    bad_epochs_ = p.extra.count("bad_epochs") ? static_cast<std::int64_t>(p.extra.at("bad_epochs")) : 0;
    if (skip_batches_ > 0) resumed_sums_ = EpochSums::load(p.extra);
    std::ifstream metrics(dir_ / "metrics.jsonl");
    std::size_t line_number = 0;
    for (std::string line; std::getline(metrics, line);) {
      ++line_number;
      if (line.empty()) continue;
      const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object())
        throw CheckpointError(fmt::format("tinynn: --resume: '{}' line {} is not a JSON object",
                                          (dir_ / "metrics.jsonl").string(), line_number));
      EpochRecord r = record_from_json(j);
      if (r.epoch <= start_epoch_) result_.history.push_back(r);
    }
    log_ << fmt::format("resuming '{}' at epoch {}, batch {}\n", dir_.string(), start_epoch_ + 1, skip_batches_);
  }

  // One epoch: its steps, validation, the scheduler, early-stopping bookkeeping, metrics and
  // checkpoints. False when interrupted (after checkpointing the exact batch).
  bool run_epoch(std::int64_t epoch, Progress& progress) {
    model_->train();
    train_loader_->start_epoch(epoch, epoch == start_epoch_ ? skip_batches_ : 0);
    EpochRecord rec;
    rec.epoch = epoch + 1;
    rec.lr = optimizer_->lr();
    rec.fewest_threads = auto_threads_ ? num_threads() : 0;
    // A resumed epoch goes on from the interrupted part's sums, so its metrics are the whole epoch's.
    EpochSums sums = epoch == start_epoch_ && skip_batches_ > 0 ? resumed_sums_ : EpochSums{};
    const auto epoch_start = Clock::now();
    auto epoch_seconds = [&] { return sums.seconds + seconds_since(epoch_start); };
    Batch b;
    while (train_loader_->next(b)) {
      const Tensor x = b.inputs.to(device_), y = b.targets.to(device_);
      // Data-parallel, the step's result is the global batch's; its rows are b.global_size.
      const StepResult r = world_ > 1 ? (*step_)(x, y, BatchPart{b.offset, b.global_size}) : (*step_)(x, y);
      // A rank with no rows of a small last batch ran no layer, so drew no dropout mask: it takes
      // rank 0's generator state, as every rank must draw the same numbers next.
      if (world_ > 1 && b.global_size < world_) sync_generator();
      if (auto_threads_) rec.fewest_threads = std::min<std::int64_t>(rec.fewest_threads, adapt_threads());
      if (!r.stepped) {
        const std::string what = std::isfinite(r.loss) ? fmt::format("gradient norm is {}", r.grad_norm)
                                                       : fmt::format("loss is {}", r.loss);
        if (t_.on_nonfinite == "stop")
          throw DivergenceError(fmt::format("tinynn: training diverged at epoch {}, step {}: the {}; {}", epoch + 1, b.index + 1,
                                            what, fs::exists(last_path_) ? "the last good checkpoint is '" + last_path_.string() + "'"
                                                                         : "no checkpoint was written yet"));
        ++sums.skipped;
      } else {
        const auto n = static_cast<double>(b.global_size);
        sums.loss += r.loss * n;
        sums.penalty += r.penalty * n;
        sums.correct += r.correct;
        sums.grad_norm += r.grad_norm;
        sums.samples += b.global_size;
        ++sums.steps;
      }
      samples_trained_ += b.global_size;
      const double elapsed = epoch_seconds(), seen = std::max<double>(static_cast<double>(sums.samples), 1);
      progress.batch(epoch + 1, b.index + 1, train_loader_->batches_per_epoch(), sums.loss / seen,
                     classification_ ? sums.correct / seen : NAN, elapsed > 0 ? static_cast<double>(sums.steps + 1) / elapsed : 0);
      if (stop_requested()) {
        sync_buffers();
        result_.seconds += seconds_since(epoch_start);
        sums.seconds = epoch_seconds();
        if (main_ && config_.output.checkpoints)
          save_checkpoint(last_path_.string(), *model_, optimizer_.get(), scheduler_.get(),
                          progress_at(epoch, b.index + 1, &sums));
        log_ << fmt::format("\ninterrupted at epoch {}, batch {}; checkpoint '{}' (continue with --resume)\n", epoch + 1,
                            b.index + 1, last_path_.string());
        result_.interrupted = true;
        result_.epochs = epoch;
        return false;
      }
    }
    result_.seconds += seconds_since(epoch_start);
    rec.seconds = epoch_seconds();
    const auto seen = static_cast<double>(sums.samples);
    rec.samples_per_second = seen / std::max(rec.seconds, 1e-9);
    rec.train_loss = seen > 0 ? sums.loss / seen : NAN;
    rec.train_accuracy = classification_ && seen > 0 ? sums.correct / seen : NAN;
    rec.penalty = seen > 0 ? sums.penalty / seen : 0;
    rec.grad_norm = sums.steps > 0 ? sums.grad_norm / static_cast<double>(sums.steps) : NAN;
    rec.skipped_steps = sums.skipped;
    if (config_.output.log_spectra)
      for (const auto& w : weight_spectra(*model_, 1)) rec.spectra.push_back({w.name, w.spectral, w.condition});
    const bool evaluate_now = val_loader_ && ((epoch + 1) % t_.eval_interval == 0 || epoch + 1 == t_.epochs);
    sync_buffers();
    if (evaluate_now) {
      const EvalResult v = evaluate(*model_, *val_loader_, loss_fn_, device_, classification_, world_ > 1 ? &reducer_ : nullptr);
      rec.val_loss = v.loss, rec.val_accuracy = v.accuracy;
    }
    // The monitored metric: validation when there is one, else the training loss.
    const double metric = maximize_ ? rec.val_accuracy : (std::isfinite(rec.val_loss) ? rec.val_loss : rec.train_loss);
    if (scheduler_) scheduler_->step(std::isfinite(metric) ? std::optional<double>(metric) : std::nullopt);
    bool improved = false;
    const double delta = t_.early_stopping_min_delta;
    if (std::isfinite(metric) && (maximize_ ? metric > best_metric_ + delta : metric < best_metric_ - delta)) {
      best_metric_ = metric, best_epoch_ = epoch + 1, bad_epochs_ = 0, improved = true;
      if (t_.restore_best) {
        best_state_.clear();
        for (const auto& [name, t] : model_->state_dict()) best_state_[name] = t.detach().clone();
      }
    } else if (evaluate_now || !val_loader_) {
      ++bad_epochs_;
    }
    result_.history.push_back(rec);
    progress.epoch_end(rec);
    if (!main_) return true;
    write_metrics(dir_, result_.history, config_.output.plot, config_.name, best_epoch_);
    if (config_.output.checkpoints) {
      save_checkpoint(last_path_.string(), *model_, optimizer_.get(), scheduler_.get(), progress_at(epoch + 1, 0));
      if (improved) copy_file_atomically(last_path_.string(), best_path_.string());
    }
    return true;
  }

  // A GPU named without an index goes to this rank's own GPU.
  static Device rank_device(Device resolved, const std::string& spec) {
    return spec == "auto" || spec == "cuda" ? dist::device_for_rank(resolved) : resolved;
  }

  // Batch norm's running statistics are each rank's own: before evaluating or saving, every rank
  // takes rank 0's, so all evaluate the model the checkpoint holds.
  void sync_buffers() {
    if (world_ > 1) dist::broadcast_buffers(*model_);
  }

  void sync_generator() {
    Tensor state = from_vector(std::vector<std::int64_t>{static_cast<std::int64_t>(gen_.seed()), static_cast<std::int64_t>(gen_.offset())}, {2});
    dist::broadcast(state);
    const std::vector<std::int64_t> s = state.to_vector<std::int64_t>();
    gen_.set_state(static_cast<std::uint64_t>(s[0]), static_cast<std::uint64_t>(s[1]));
  }

  // Every half second, the threads the cores left by other processes allow (the result does not
  // depend on the thread count: every reduction splits its work the same way).
  int adapt_threads() {
    const auto now = Clock::now();
    if (now - share_checked_ >= std::chrono::milliseconds(500)) {
      share_checked_ = now;
      const int threads = threads_for_share(available_cores(), cpu_share_.other_processes_cores(), num_threads());
      if (threads != num_threads()) set_num_threads(threads);
    }
    return num_threads();
  }

  // A stop asked for (Ctrl-C) on any rank stops every rank at the same step: they agree on it.
  bool stop_requested() const {
    const bool here = stop_ != nullptr && stop_->load();
    if (world_ == 1) return here;  // no allocation or collective per step in one process
    std::vector<double> stop = {here ? 1.0 : 0.0};
    dist::all_reduce_sum(stop);
    return stop[0] > 0;
  }

  Config& config_;
  const TrainingSpec& t_;
  const int rank_ = dist::rank(), world_ = dist::world_size();
  const bool main_ = rank_ == 0;  // only rank 0 writes files and prints
  std::ostream null_log_{nullptr};  // the other ranks' log: discards everything
  RunLock lock_;
  std::ostream& log_;
  const std::atomic<bool>* stop_;
  const Device device_;
  const fs::path dir_, checkpoint_dir_, last_path_, best_path_;
  bool resume_ = false, classification_ = false;
  DataSplits data_;
  Generator gen_;
  std::shared_ptr<Sequential> model_;
  LossFn loss_fn_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<TrainStep> step_;
  std::unique_ptr<DataLoader> train_loader_, val_loader_, test_loader_;
  // Where training starts and the early-stopping state (saved in every checkpoint).
  std::int64_t start_epoch_ = 0, skip_batches_ = 0, bad_epochs_ = 0, best_epoch_ = 0;
  const bool maximize_;
  double best_metric_;
  std::int64_t samples_trained_ = 0;
  std::map<std::string, Tensor> best_state_;  // the best epoch's weights, for restore_best
  EpochSums resumed_sums_;  // the interrupted epoch's sums, from the checkpoint
  dist::GradientAllReduce reducer_;  // used when world_ > 1
  bool auto_threads_ = false;        // threads not set: give up cores other processes take
  CpuShare cpu_share_;
  Clock::time_point share_checked_ = Clock::now();
  TrainResult result_;
};

}  // namespace

TrainResult train(Config& config, const TrainOptions& options) {
  // Flushing subnormals is process-wide: a library caller gets tinynn's previous setting back.
  struct RestoreFlush {
    bool before = flush_denormal();
    ~RestoreFlush() { set_flush_denormal(before); }
  } restore;
  set_flush_denormal(config.training.flush_denormal);
  Run run(config, options);
  return run.finish();
}

}  // namespace tinynn::nn
