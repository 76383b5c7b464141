// The training loop behind `tinynn train`, usable from C++ too: reads the data, builds the model,
// trains in the documented step order, evaluates, writes the run directory (resolved config,
// metrics.jsonl/.csv, last/best checkpoints, curves.svg) and reports test metrics. Started by
// `mpirun -np N`, the N processes train one model data-parallel (see dist.h and the README): each
// takes its part of every global batch, gradients and metrics are summed across them, and only
// rank 0 writes the run directory and prints.
#pragma once
#include <atomic>
#include <cmath>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "builders.h"
#include "config.h"
#include "plot.h"
#include "../data/data_loader.h"
#include "../train_step.h"

namespace tinynn::nn {

struct LayerSpectrum {
  std::string name;  // "1.weight"
  double spectral = 0, condition = 0;
};

struct EpochRecord {
  std::int64_t epoch = 0;  // 1-based
  double train_loss = NAN, train_accuracy = NAN, penalty = 0.0;
  double val_loss = NAN, val_accuracy = NAN;
  double lr = 0.0, grad_norm = NAN, seconds = 0.0, samples_per_second = 0.0;
  std::int64_t skipped_steps = 0;
  // The fewest CPU threads the epoch ran on: automatic threads give up cores that other processes
  // keep busy (see tinynn::CpuShare). Shown on the epoch line when fewer than the cores; not saved.
  std::int64_t fewest_threads = 0;
  std::vector<LayerSpectrum> spectra;  // output.log_spectra: every weight matrix after the epoch
};

struct TrainOptions {
  std::string run_dir;                 // overrides output.run_dir when set
  bool resume = false;                 // continue from the last checkpoint (or training.resume)
  bool overwrite = false;              // replace a previous run's results in the run directory
  std::optional<std::string> device;   // overrides training.device
  std::optional<int> threads;          // overrides training.threads
  std::ostream* log = nullptr;         // progress and epoch lines (std::cerr when null)
  const std::atomic<bool>* stop = nullptr;  // when set: finish the step, checkpoint, return
};

struct TrainResult {
  double test_loss = NAN, test_accuracy = NAN;
  std::int64_t epochs = 0;               // epochs completed
  double seconds = 0.0;                  // training time, evaluation excluded
  double samples_per_second = 0.0;       // training samples per second of training time
  bool interrupted = false, stopped_early = false;
  std::int64_t tested_epoch = 0;         // whose weights the test metrics are of (the best, or the last)
  std::string run_dir;
  std::vector<EpochRecord> history;
};

// Thrown when training hits a NaN/inf loss or gradient with on_nonfinite = "stop".
class DivergenceError : public Error {
  using Error::Error;
};

TrainResult train(Config& config, const TrainOptions& options = {});

struct EvalResult {
  double loss = NAN, accuracy = NAN;  // accuracy: NaN for regression
  std::int64_t samples = 0;
};
// Loss and accuracy over every batch, in eval mode and recording nothing. With a sharded loader
// and a reducer (data-parallel), each process evaluates its rows and the sums are combined.
EvalResult evaluate(Module& model, DataLoader& loader, const LossFn& loss, Device device, bool classification,
                    StepReducer* reducer = nullptr);

}  // namespace tinynn::nn
