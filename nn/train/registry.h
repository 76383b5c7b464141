// One row per layer, loss, optimizer and scheduler type a config can name: its name, its keys
// (types, defaults, ranges, docs), how it is built, a one-line doc. Config validation, the
// builders, compress and the key tables of configs/README.md all read these rows; a pointwise
// activation of the op table is a layer row with no edit here.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../../core/random.h"
#include "../../core/shape.h"
#include "../../core/tensor.h"
#include "../losses.h"
#include "config_keys.h"

namespace tinynn::nn {

struct Config;
struct Dataset;
class Optimizer;
class Scheduler;
class Sequential;

// A type named in a config and the values of its keys: a layer, the loss, the optimizer or the scheduler.
struct TypedSpec {
  std::string type;
  KeyValues values;
  std::string path;  // where it stands in the config ("model.layers[3]", "optimizer"), for messages
};

// What a layer's builder works on: the model so far and the running sample shape.
struct LayerBuild {
  Sequential& model;
  Shape& shape;          // one sample's shape after the layers so far (no batch axis)
  std::int64_t outputs;  // classes, or regression targets, of the data
  bool last_dense;       // no factorizable (dense) layer follows this one
  Generator* gen;
  bool trained = false;  // rebuilding a checkpoint's model (see build_model)
};

struct LayerType {
  std::string name;
  std::string doc;
  std::vector<KeySpec> keys;  // besides "type"
  std::function<void(const TypedSpec&, LayerBuild&)> build;
  bool dense = false;  // a weight matrix [out, in]: the one sized by the data, and what compress factorizes
};

struct LossType {
  std::string name;
  std::string doc;
  std::vector<KeySpec> keys;
  bool regression = false;  // fits regression targets (otherwise class labels)
  std::function<LossFn(const KeyValues&, const Config&, const Dataset& train)> build;
};

struct OptimizerType {
  std::string name;
  std::string doc;
  std::vector<KeySpec> keys;
  std::function<std::unique_ptr<Optimizer>(const KeyValues&, std::vector<Tensor> params)> build;
  std::function<void(const TypedSpec&)> check;  // rules across keys; may be empty
};

struct SchedulerType {
  std::string name;
  std::string doc;
  std::vector<KeySpec> keys;  // closed-form schedules also take the warmup keys
  bool closed_form = true;    // a schedule of the epoch alone (can be warmed up); plateau is not
  // Null for "none". The trainer steps it once per epoch.
  std::function<std::unique_ptr<Scheduler>(const KeyValues&, Optimizer&, const Config&)> build;
  std::function<void(const TypedSpec&)> check;  // rules across keys; may be empty
};

const std::vector<LayerType>& layer_types();
const std::vector<LossType>& loss_types();
const std::vector<OptimizerType>& optimizer_types();
const std::vector<SchedulerType>& scheduler_types();
// Null when no row has that name.
const LayerType* find_layer_type(const std::string& name);
const LossType* find_loss_type(const std::string& name);
const OptimizerType* find_optimizer_type(const std::string& name);
const SchedulerType* find_scheduler_type(const std::string& name);
// The warmup keys every closed-form schedule takes.
const std::vector<KeySpec>& warmup_keys();

// The key tables of configs/README.md (layers, losses, optimizers, schedulers), from the rows.
std::string config_reference_markdown();

}  // namespace tinynn::nn
