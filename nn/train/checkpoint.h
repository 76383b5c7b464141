// Training checkpoints: model weights, optimizer and scheduler state, the RNG state, epoch and
// step, and the config, in one safetensors file (tensors "model.*" and "optimizer.*", the rest
// in its metadata). Saving is atomic; loading validates names, shapes and dtypes against the model.
#pragma once
#include <string>

#include "../../core/random.h"
#include "../module.h"
#include "../optim.h"
#include "safetensors.h"
#include "../scheduler.h"

namespace tinynn::nn {

struct TrainingProgress {
  std::int64_t epoch = 0;
  std::int64_t step = 0;
  std::string config_json;  // the resolved config the run was started with
  std::uint64_t rng_seed = 0, rng_offset = 0;
  std::map<std::string, double> extra;  // trainer state such as the best metric so far
  Shape sample_shape;                   // one input sample's shape, so prediction needs no data set
  std::int64_t output_size = 0;         // read back from the last layer's weight rows; not saved
};

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer = nullptr,
                     const Scheduler* scheduler = nullptr, const TrainingProgress& progress = {});

// The progress and metadata of a checkpoint (config, sample shape, ...) without loading weights.
TrainingProgress read_progress(const std::string& path);

// Loads into an existing model (and optimizer/scheduler, when given); returns the progress.
TrainingProgress load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer = nullptr,
                                 Scheduler* scheduler = nullptr);

}  // namespace tinynn::nn
