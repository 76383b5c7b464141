// Config -> data, model, loss, optimizer, scheduler.
#include "builders.h"

#include <fmt/format.h>

#include "../core/creation.h"
#include "init.h"
#include "layers.h"
#include "losses.h"
#include "normalization.h"

namespace tinynn::nn {

DataSplits load_data(Config& c) {
  const DataSpec& d = c.data;
  DataSplits s;
  if (d.type == "idx") {
    s = load_idx_directory(d.dir, d.max_train, d.max_test);
  } else if (d.type == "image_folder") {
    std::optional<std::pair<int, int>> size;
    if (!d.image_size.empty()) size = std::make_pair(static_cast<int>(d.image_size[0]), static_cast<int>(d.image_size[1]));
    s = load_image_folders(d.dir, static_cast<int>(d.channels), size);
  } else if (d.type == "csv") {
    const bool cls = d.task == "classification";
    s.train = load_csv(d.train_path, d.header, static_cast<int>(d.label_column), cls);
    s.test = load_csv(d.test_path, d.header, static_cast<int>(d.label_column), cls);
    s.train.num_classes = s.test.num_classes = std::max(s.train.num_classes, s.test.num_classes);
  } else {
    s.train = make_synthetic(d.synthetic, d.samples, d.noise, c.training.seed);
    s.test = make_synthetic(d.synthetic, d.test_samples, d.noise, c.training.seed + 1);
  }
  if (d.max_train > 0 && s.train.size() > d.max_train) s.train = s.train.subset(arange(d.max_train));
  if (d.max_test > 0 && s.test.size() > d.max_test) s.test = s.test.subset(arange(d.max_test));
  if (!d.class_names.empty()) {
    if (static_cast<std::int64_t>(d.class_names.size()) < s.train.num_classes)
      throw ConfigError(fmt::format("config: data.class_names: {} names for {} classes", d.class_names.size(), s.train.num_classes));
    s.train.class_names = s.test.class_names = d.class_names;
  }
  if (d.scale) scale_inputs(s, 1.0 / 255.0);
  split_validation(s, d.validation_split, c.training.seed);
  if (d.normalize) {
    auto [mean, std] = input_mean_std(s.train);
    if (d.mean) mean = *d.mean;
    if (d.std) std = *d.std;
    normalize_inputs(s, mean, std);
    c.resolved["data"]["mean"] = mean;
    c.resolved["data"]["std"] = std;
  }
  c.resolved["data"]["class_names"] = s.train.class_names;
  return s;
}

std::shared_ptr<Sequential> build_model(const Config& c, const Shape& sample_shape, std::int64_t outputs, Generator* gen) {
  auto model = std::make_shared<Sequential>();
  // The running sample shape; Linear layers flatten what comes in, like Keras' Dense after Flatten.
  Shape shape = sample_shape;
  auto features = [&shape] { return numel_of(shape); };
  for (std::size_t i = 0; i < c.layers.size(); ++i) {
    const LayerSpec& l = c.layers[i];
    std::shared_ptr<Module> layer;
    if (l.type == "linear") {
      if (shape.size() != 1) model->add(std::make_shared<Flatten>()), shape = {features()};
      const bool last_linear = std::none_of(c.layers.begin() + static_cast<long>(i) + 1, c.layers.end(),
                                            [](const LayerSpec& s) { return s.type == "linear"; });
      const std::int64_t units = l.units > 0 ? l.units : outputs;
      if (last_linear && units != outputs)
        throw ConfigError(fmt::format("config: {}.units: the last linear layer has {} outputs but the data needs {} ({})",
                                      l.path, units, outputs, c.data.task == "regression" ? "targets" : "classes"));
      auto linear = std::make_shared<Linear>(shape[0], units, l.bias, gen);
      if (l.init != "default") {
        Tensor w = linear->weight();
        const auto relu = init::Nonlinearity::ReLU;
        if (l.init == "xavier_uniform") init::xavier_uniform_(w, 1.0, gen);
        else if (l.init == "xavier_normal") init::xavier_normal_(w, 1.0, gen);
        else if (l.init == "kaiming_uniform") init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, relu, gen);
        else init::kaiming_normal_(w, 0.0, init::FanMode::FanIn, relu, gen);
        if (l.bias) {
          Tensor b = linear->bias();
          init::zeros_(b);
        }
      }
      if (l.weight_penalty.active()) linear->set_penalty("weight", l.weight_penalty);
      if (l.bias && l.bias_penalty.active()) linear->set_penalty("bias", l.bias_penalty);
      layer = linear;
      shape = {units};
    } else if (l.type == "relu") layer = std::make_shared<ReLU>();
    else if (l.type == "leaky_relu") layer = std::make_shared<LeakyReLU>(l.slope);
    else if (l.type == "sigmoid") layer = std::make_shared<Sigmoid>();
    else if (l.type == "tanh") layer = std::make_shared<Tanh>();
    else if (l.type == "gelu") layer = std::make_shared<GELU>();
    else if (l.type == "softmax") layer = std::make_shared<Softmax>(l.axis);
    else if (l.type == "log_softmax") layer = std::make_shared<LogSoftmax>(l.axis);
    else if (l.type == "dropout") layer = std::make_shared<Dropout>(l.p, gen);
    else if (l.type == "flatten") layer = std::make_shared<Flatten>(), shape = {features()};
    else if (l.type == "batchnorm" || l.type == "layernorm") {
      if (shape.size() != 1) model->add(std::make_shared<Flatten>()), shape = {features()};
      if (l.type == "batchnorm") layer = std::make_shared<BatchNorm1d>(shape[0], l.eps, l.momentum);
      else layer = std::make_shared<LayerNorm>(Shape{shape[0]}, l.eps);
    }
    model->add(layer);
  }
  if (shape.size() != 1 || shape[0] != outputs)
    throw ConfigError(fmt::format("config: model.layers: the model ends with shape {} but the data needs {} outputs; end "
                                  "with a linear layer", shape_str(shape), outputs));
  return model;
}

LossFn make_loss(const Config& c, const Dataset& train) {
  const LossSpec& l = c.loss;
  if (!l.class_weights.empty() && static_cast<std::int64_t>(l.class_weights.size()) != train.num_classes)
    throw ConfigError(fmt::format("config: loss.class_weights: {} weights for {} classes", l.class_weights.size(), train.num_classes));
  if (l.type == "cross_entropy" || l.type == "nll") {
    CrossEntropyOptions o;
    if (!l.class_weights.empty()) o.weight = from_vector(l.class_weights, {static_cast<std::int64_t>(l.class_weights.size())});
    o.label_smoothing = l.label_smoothing;
    if (l.type == "nll") {
      if (c.layers.back().type != "log_softmax")
        throw ConfigError("config: loss.type: 'nll' expects log-probabilities; end the model with a log_softmax layer");
      return [o](const Tensor& out, const Tensor& t) { return nll_loss(out, t, o.weight.defined() ? o.weight.to(out.device()) : o.weight); };
    }
    return [o](const Tensor& out, const Tensor& t) {
      CrossEntropyOptions on_device = o;
      if (o.weight.defined()) on_device.weight = o.weight.to(out.device());
      return cross_entropy(out, t, on_device);
    };
  }
  const double delta = l.delta;
  if (l.type == "mse") return [](const Tensor& out, const Tensor& t) { return mse_loss(out, t); };
  if (l.type == "l1") return [](const Tensor& out, const Tensor& t) { return l1_loss(out, t); };
  if (l.type == "huber") return [delta](const Tensor& out, const Tensor& t) { return huber_loss(out, t, delta); };
  return [delta](const Tensor& out, const Tensor& t) { return smooth_l1_loss(out, t, delta); };
}

std::unique_ptr<Optimizer> make_optimizer(const Config& c, Module& model) {
  const OptimizerSpec& o = c.optimizer;
  auto params = model.parameters();
  if (o.type == "sgd") return std::make_unique<SGD>(params, SGDOptions{o.lr, o.momentum, o.dampening, o.nesterov, o.weight_decay});
  if (o.type == "adam" || o.type == "adamw") {
    AdamOptions a{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad, o.type == "adamw"};
    return std::make_unique<Adam>(params, a);
  }
  if (o.type == "rmsprop")
    return std::make_unique<RMSprop>(params, RMSpropOptions{o.lr, o.alpha, o.eps, o.weight_decay, o.momentum, o.centered});
  return std::make_unique<Adagrad>(params, AdagradOptions{o.lr, o.lr_decay, o.weight_decay, 0.0, o.eps});
}

std::unique_ptr<Scheduler> make_scheduler(const Config& c, Optimizer& opt) {
  const SchedulerSpec& s = c.scheduler;
  if (s.type == "plateau") {
    const bool maximize = c.training.early_stopping_metric == "val_accuracy";
    return std::make_unique<ReduceLROnPlateau>(opt, maximize ? ReduceLROnPlateau::Mode::Max : ReduceLROnPlateau::Mode::Min,
                                               s.factor, s.patience, s.threshold, s.cooldown, s.min_lr);
  }
  std::unique_ptr<ClosedFormScheduler> inner;
  const std::int64_t after_warmup = std::max<std::int64_t>(c.training.epochs - s.warmup_epochs, 1);
  if (s.type == "step") inner = std::make_unique<StepLR>(opt, s.step_size, s.gamma);
  else if (s.type == "multi_step") inner = std::make_unique<MultiStepLR>(opt, s.milestones, s.gamma);
  else if (s.type == "exponential") inner = std::make_unique<ExponentialLR>(opt, s.gamma);
  else if (s.type == "cosine") inner = std::make_unique<CosineAnnealingLR>(opt, s.t_max > 0 ? s.t_max : after_warmup, s.eta_min);
  if (s.warmup_epochs > 0) return std::make_unique<LinearWarmup>(opt, s.warmup_epochs, s.warmup_start_factor, std::move(inner));
  return inner;
}

}  // namespace tinynn::nn
