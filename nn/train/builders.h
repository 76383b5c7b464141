// From a validated Config to the objects a run needs: the data (read, transformed, split),
// the model, the loss, the optimizer and the scheduler. Each error names the config path.
#pragma once
#include <functional>
#include <memory>

#include "../../core/random.h"
#include "config.h"
#include "../data/dataset.h"
#include "../optim.h"
#include "../scheduler.h"
#include "../sequential.h"

namespace tinynn::nn {

// Reads the data and applies scale/normalize/flatten and the validation split. Statistics it
// computes (mean/std) are written into config.resolved so prediction can repeat them.
DataSplits load_data(Config& config);

// Builds the layers; Linear input sizes follow from the data's sample shape, and a final linear
// without "units" gets one output per class (or regression target). `layer_ends`, when given,
// receives the model's module count after each config layer (a dense layer may add a Flatten).
// `trained`: the model of a checkpoint (eval, predict, resume...), whose config may use what an
// earlier version accepted and new configs may not (batchnorm flattening image samples).
std::shared_ptr<Sequential> build_model(const Config& config, const Shape& sample_shape, std::int64_t outputs,
                                        Generator* gen, std::vector<std::size_t>* layer_ends = nullptr, bool trained = false);

LossFn make_loss(const Config& config, const Dataset& train);

// What Keras' model.summary() shows, per config layer (its registry type and the keys it sets
// away from their defaults): output shape and parameter count, then the total. `model` and
// `layer_ends` are what build_model made from `config` for samples of `sample_shape`.
std::string model_summary(const Config& config, Sequential& model, const Shape& sample_shape,
                          const std::vector<std::size_t>& layer_ends);

// Throws a ConfigError naming the layer when a batch norm would see one value per channel in
// training: a training batch whose part on some rank (of `world`, each normalizing its own rows)
// is one sample, reaching a batch norm over features or over a 1x1 image. `train_size`: the
// training samples.
void check_batch_norm_batches(const Config& config, Sequential& model, const Shape& sample_shape,
                              const std::vector<std::size_t>& layer_ends, std::int64_t train_size, int world = 1);

// The checks of a config that only training needs (a trained model's config is not held to them):
// data keys set for data they do not apply to, augmentation that would crop mostly padding.
void check_training_config(const Config& config, const Shape& sample_shape);

// Every check train() makes before its first step, writing nothing: the device, the data (read
// and split), the model against the data's shape and outputs, the loss, optimizer and schedule.
// Returns the model summary. `tinynn validate` runs it.
std::string check_run(Config& config);

std::unique_ptr<Optimizer> make_optimizer(const Config& config, Module& model);
// Null for "none". Closed-form schedules step once per epoch; plateau steps on the monitored metric.
std::unique_ptr<Scheduler> make_scheduler(const Config& config, Optimizer& optimizer);

}  // namespace tinynn::nn
